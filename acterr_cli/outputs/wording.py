"""Plain French words shared by the pages a board reads (Synthèse, fiche, slide, terminal): counts
that agree with their number, the short reason of a figure that cannot be computed, the evidence
grade and its legend, and the opening sentences built from the figures themselves.

Those sentences never claim more than the figures: a modelled figure is said to be an estimate
with its range, a flat-rate one an « estimation forfaitaire », a partial coverage is told.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from acterr_cli.common.formatting import fr_count as count
from acterr_cli.common.formatting import fr_number
from acterr_cli.outputs.nature import MARK, flat_text
from acterr_cli.results import CALCULE

if TYPE_CHECKING:  # the report's modules (xlsxwriter) are loaded only when a sentence is made, not by `compute`
    from acterr_cli.outputs.reports.model import ReportData
    from acterr_cli.referentiel.model import Referentiel

# `fiabilite` of each result (engine/compute._evidence_grade), in one line.
GRADES = {
    "A": "données mesurées des organismes, couverture d'au moins 90 %, paramètres sourcés",
    "B": "modélisé à partir de données publiques (loyers de marché, RPLS), couverture de 50 à 90 % ou en partie forfaitaire",
    "C": "surtout forfaitaire, hypothèse ou paramètre à vérifier, ou couverture inférieure à 50 %",
}
GRADE_COLORS = {"A": "#375623", "B": "#806000", "C": "#C00000"}  # dark enough on white, for print too
GRADE_LEGEND = "Fiabilité — " + " ; ".join(f"{g} : {text}" for g, text in GRADES.items()) + "."
# The same in a few words, where room is short (the fiche's footer, a terminal line).
GRADE_SHORT = ("Fiabilité : A mesurée (couverture ≥ 90 %) ; B modélisée (données publiques) ou couverture de 50 à 90 % ; "
               "C surtout forfaitaire, hypothèse, ou couverture < 50 %.")
REASON_CHARS = 90


def short_reason(motif: str | None, limit: int = REASON_CHARS) -> str:
    """The reason of a figure not computed, short enough for a cell or a chart's foot: the engine's
    motif without its explanations in brackets (the Qualité sheet keeps it whole)."""
    text = motif or "donnée absente"
    previous = None
    while previous != text:  # brackets inside brackets
        previous, text = text, re.sub(r"\s*\([^()]*\)", "", text)
    text = re.sub(r"^aucun organisme présent ne fournit( pour ce territoire)?", "non fourni", text)
    text = " ".join(text.split()).rstrip(" .;")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():  # at the last whole word, never « Investissement c… »
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def grade(r: dict | None) -> str:
    """The evidence grade of a computed figure (« A », « B », « C »), empty otherwise."""
    return (r or {}).get("fiabilite") or "" if r and r.get("statut") == CALCULE else ""


def computed(r: dict | None) -> bool:
    return r is not None and r.get("statut") == CALCULE and r.get("valeur") is not None


def value_words(r: dict, caption: str) -> str:
    """The figure as said before its caption: « 102,3 M€ », but « 710 » before « emplois du
    bâtiment soutenus (ETP-année) » and « 2 535 » before « ménages logés » (the caption names the unit)."""
    from acterr_cli.outputs.reports.xlsx import is_money, short_text

    text = short_text(r["valeur"], r["unite"])
    unit = r["unite"] or ""
    if unit and not is_money(unit) and unit not in ("%", "‰") and unit in caption and text.endswith(" " + unit):
        return text[: -len(unit) - 1]
    return text


def figure_phrase(r: dict, caption: str) -> str:
    """« 66,6 M€ gagnés par les locataires chaque année (estimation : de 37,0 à 105,9 M€) »."""
    from acterr_cli.outputs.reports.xlsx import range_text

    notes = []
    flat = flat_text(r)
    what = f"{MARK} {flat}" if flat else "estimation"
    spread = range_text(r["valeur_basse"], r["valeur_haute"], r["unite"])
    if spread:
        low, high = spread.split(" – ", 1)
        notes.append(f"{what} : de {low} à {high}")
    elif flat:
        notes.append(what)
    if r.get("couverture") is not None and r["couverture"] < 100 - 1e-9:
        notes.append(f"couverture {fr_number(r['couverture'], 0)} %")
    return f"{value_words(r, caption)} {caption}" + (f" ({', '.join(notes)})" if notes else "")


def who(data: ReportData, figures: dict | None = None, name: str | None = None) -> str:
    """Whose figures: « les 4 organismes Hlm importés », « à Toulouse Métropole, les 2 organismes
    Hlm présents », « Garonne Habitat »."""
    from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME

    if data.kind == ORGANISME:
        return data.subject
    n = organisations_count(data, figures)
    if data.kind == ENSEMBLE and name is None:
        return "l'organisme Hlm importé" if n == 1 else f"les {count(n, 'organisme Hlm importé', 'organismes Hlm importés')}"
    where = name or data.subject
    orgs = "l'organisme Hlm présent" if n == 1 else f"les {count(n, 'organisme Hlm présent', 'organismes Hlm présents')}"
    return f"sur le territoire de {where}, {orgs}"


def organisations_count(data: ReportData, figures: dict | None = None) -> int:
    values = [r.get("nb_organismes") for r in (figures or {}).values() if r.get("nb_organismes")]
    return max(values) if values else len(data.organisations)


def opening(data: ReportData, figures: dict[str, dict] | None = None, name: str | None = None, place: str = "fiche",
            missing: bool = True) -> str:
    """One or two sentences from the figures: the first computed headline of each ledger (the
    catalogue's `en_tete` of `place`) with its caption; the first-ranked one that is not computed,
    with its reason. « En 2025, les 4 organismes Hlm importés : 102,3 M€ investis … »."""
    ref = data.referentiel
    figures = data.headline if figures is None else figures
    said, absent = [], []
    for ledger in ("valeur_locale", "plus_value_sociale"):
        candidates = [i.code for i in ref.headlines(place, ledger) if i.code in figures]
        done = [c for c in candidates if computed(figures[c])]
        if done:
            said.append(figure_phrase(figures[done[0]], ref.caption(done[0])))
        if missing and candidates and not computed(figures[candidates[0]]):
            absent.append(f"{ref.short_label(candidates[0])} non calculable ({short_reason(figures[candidates[0]].get('motif'))}).")
    year = f"En {data.year}, " if data.year is not None else ""
    subject = who(data, figures, name)
    first = f"{year}{subject} : " + (" ; ".join(said) if said else "aucun chiffre clé n'est calculable") + "."
    return " ".join([first[0].upper() + first[1:], *absent])


def overlap_notes(ref: Referentiel, codes: list[str], label=None) -> list[str]:
    """A sentence per pair of figures shown that overlap (`recoupe` in the catalogue): what, why,
    and that they are never added. `label`: code → the words the page uses (its libellé by default)."""
    name = label or (lambda code: ref.by_code[code].libelle)
    out = []
    for ind, others in ref.overlaps(codes):
        with_ = " et ".join(f"« {name(o.code)} »" for o in others)
        out.append(f"« {name(ind.code)} » recoupe {with_}" + (f" : {ind.recoupe_motif}" if ind.recoupe_motif else "")
                   + " ; ces chiffres ne s'additionnent pas.")
    return out
