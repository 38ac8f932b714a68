"""The nature of a figure, told the same way by every output (terminal, workbook, fiche, templates).

- A figure is an « estimation forfaitaire » when part of its central value comes from a national
  average standing in for missing local data (the engine's `part_forfaitaire`, 0–100; 0 for a
  figure computed from the organisations' and the territories' data). Such a figure is never
  shown as measured: it carries the mark « ≈ », a distinct style, a legend, and the import that
  would replace the flat rate (`forfait_remplace_par` in the catalogue).
- The row NON_REPARTI of a level holds, per additive indicator, what organisation-level data
  (a liasse, an organisation-wide payroll) could not place in a territory: the level's
  territories plus NON_REPARTI give the FRANCE figure. It is shown beside the territories,
  never as one of them (not ranked, charted, counted, nor given a fiche).
"""

from __future__ import annotations

from collections.abc import Iterable

from acterr_cli.common.formatting import fr_number
from acterr_cli.referentiel.model import Referentiel
from acterr_cli.results import CALCULE, NON_REPARTI_CODE, NON_REPARTI_NOM

MARK = "≈"
FLAT = "estimation forfaitaire"
# Share (in %) below which a figure counts as computed from local data: the engine's shares are
# ratios of sums, a figure wholly measured may come out at 1e-13 % rather than 0.
TOLERANCE = 1e-6
LEGEND = (f"{MARK} estimation forfaitaire : chiffre calculé, en tout ou en partie, avec une moyenne nationale à la place "
          "d'une donnée locale absente — ce n'est pas une mesure sur le territoire.")
UNPLACED_SHORT = "Non réparti (niveau organisme)"  # 30 characters: a terminal column
# What the row holds (the engine's note on it says the same).
UNPLACED_WHAT = ("données de niveau organisme (liasse, totaux d'un organisme présent sur plusieurs territoires), faits hors "
                 "des territoires du niveau et montants des territoires où l'indicateur n'est pas calculable")


def flat_share(r: dict | None) -> float | None:
    """The flat-rate part of a computed figure (in %), None when it has none (or is not computed)."""
    if r is None or r.get("statut") != CALCULE or r.get("valeur") is None:
        return None
    share = r.get("part_forfaitaire")
    return share if share is not None and share > TOLERANCE else None


def is_flat(r: dict | None) -> bool:
    return flat_share(r) is not None


def wholly_flat(r: dict | None) -> bool:
    share = flat_share(r)
    return share is not None and share >= 100 - TOLERANCE


def flat_text(r: dict | None) -> str | None:
    """« estimation forfaitaire », or « dont 37 % estimation forfaitaire » for a figure partly so."""
    share = flat_share(r)
    if share is None:
        return None
    if share >= 100 - TOLERANCE:
        return FLAT
    shown = fr_number(share, 0)
    if shown in ("0", "100"):  # never « dont 0 % » for a figure that has some, nor « 100 % » for one partly measured
        shown = "moins de 1" if shown == "0" else "plus de 99"
    return f"dont {shown} % {FLAT}"


def replaced_by(referentiel: Referentiel | None, code: str) -> str:
    """The import that would replace an indicator's flat rate by local data (catalogue text)."""
    if referentiel is None:
        return ""
    ind = referentiel.by_code.get(code)
    return (getattr(ind, "forfait_remplace_par", "") or "").strip() if ind is not None else ""


def flat_remark(r: dict | None, referentiel: Referentiel | None) -> str | None:
    """« ≈ estimation forfaitaire (moyenne nationale) ; pour la remplacer : … », for a table's remark column."""
    text = flat_text(r)
    if text is None:
        return None
    replace = replaced_by(referentiel, r["indicateur"])
    return f"{MARK} {text} (moyenne nationale)" + (f" ; pour la remplacer : {replace}" if replace else "")


def flat_notes(rows: Iterable[dict], referentiel: Referentiel | None, labels: dict[str, str] | None = None,
               codes: bool = True) -> list[str]:
    """One sentence per indicator with a flat-rate figure among `rows` (catalogue order of
    appearance): what it is, how much of it, what would replace it. `codes`: name the indicator
    by its code too (not on the pages a board reads)."""
    seen: dict[str, list[dict]] = {}
    for r in rows:
        if is_flat(r):
            seen.setdefault(r["indicateur"], []).append(r)
    out = []
    for code, items in seen.items():
        label = (labels or {}).get(code) or items[0].get("libelle") or code
        whole = all(wholly_flat(r) for r in items)
        if len(items) == 1:
            what = flat_text(items[0])
        else:
            what = FLAT if whole else "en tout ou en partie estimation forfaitaire"
        replace = replaced_by(referentiel, code)
        out.append(f"{MARK} {code + ' ' if codes else ''}{label} : {what}" + (f" ; pour la remplacer : {replace}" if replace else "")
                   + ("" if replace.endswith(".") else "."))
    return out


__all__ = ["MARK", "FLAT", "LEGEND", "NON_REPARTI_CODE", "NON_REPARTI_NOM", "UNPLACED_SHORT", "UNPLACED_WHAT", "flat_share", "is_flat",
           "wholly_flat", "flat_text", "replaced_by", "flat_remark", "flat_notes"]
