"""Méthodologie (what was computed and how: référentiel, common rules, indicators and formulas,
their flat-rate part and limits), Paramètres (values low / central / high, unit, year, source,
status, remark; derived measures) and Sources (input files with their sha256, référentiel files):
everything needed to recompute a figure by hand. It says what the method note (docs/METHODE.md,
acterr_cli/referentiel/method_note.py) says, from the same fields and the same rules.

The référentiel shown is the one passed for the computation (user overrides included); the
parameter values are those recorded with the results (`meta["parametres"]`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from acterr_cli import __version__
from acterr_cli.common.formatting import fr_datetime
from acterr_cli.outputs.reports.model import LEVEL_NOUNS, ReportData
from acterr_cli.outputs.reports.xlsx import FLAT_FILL, Col, Formats, fit_row, heading, merged, print_setup, table
from acterr_cli.referentiel.method_note import FLAGGED_STATUSES, LEVELS, NO_LIMITS, PROVISIONAL, RULES, STAGES
from acterr_cli.referentiel.model import LEDGER_LABELS, STAKEHOLDERS


def write(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    _methodologie(wb, data, fmt)
    _parametres(wb, data, fmt)
    _sources(wb, data, fmt)


# ─── Méthodologie ───

INDICATOR_COLS = (10, 28, 46, 12, 10, 12, 16, 58, 28, 48)  # balanced: the fewest wrapped lines for the widest page


def _methodologie(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Méthodologie")
    row = heading(ws, fmt, data.title, "Méthode : le référentiel utilisé pour ce calcul, ses règles, ses indicateurs et leurs formules, leur "
                                       "part forfaitaire et leurs limites. Note de méthode complète : « acterr referentiel --methode » "
                                       "(docs/METHODE.md).",
                  list(INDICATOR_COLS))
    for j, w in enumerate(INDICATOR_COLS):
        ws.set_column(j, j, w)
    row = _meta_lines(ws, data, fmt, row)
    row = _rules(ws, fmt, row)
    ws.write_string(row, 0, "Indicateurs du référentiel", fmt.section())
    table(ws, fmt, row + 1, _indicator_columns(fmt), indicator_rows(data), "Referentiel_indicateurs", set_widths=False)
    print_setup(ws, data.title)


def _meta_lines(ws, data: ReportData, fmt: Formats, row: int) -> int:
    meta, ref = data.meta, data.referentiel
    used = meta.get("referentiel") or {}
    overrides = ref.meta.get("surcharges") or []
    lines = [
        ("Référentiel", f"{ref.meta.get('nom', 'Référentiel')} — version {ref.version} (paramètres version "
                        f"{ref.meta.get('version_parametres') or '?'})"),
        ("Fichiers du référentiel", " ; ".join(f"{f['fichier']} (sha256 {f['sha256']})" for f in ref.sources)),
        ("Surcharges de l'utilisateur", " ; ".join(f"{o['fichier']}" + (f" — {o['description']}" if o.get("description") else "")
                                                   for o in overrides) or "aucune"),
        ("Référentiel territorial", str(meta.get("territoires") or "")),
        ("Niveau territorial", LEVEL_NOUNS.get(data.level, data.level)),
        ("Exercice", "" if data.year is None else str(data.year)),
        ("Calculé le", fr_datetime(meta.get("calcule_le"))),
        ("Version d'acterr", str(meta.get("acterr", __version__))),
        ("Rapport produit le", f"{datetime.now():%d/%m/%Y %H:%M}"),
    ]
    if used.get("fichiers") and used["fichiers"] != ref.sources:
        lines.append(("Attention", "les résultats ont été calculés avec d'autres fichiers de référentiel que ceux décrits ici "
                                   f"({', '.join(f['fichier'] for f in used['fichiers'])}) : relancez « acterr compute »."))
    width = sum(INDICATOR_COLS[2:])
    for label, value in lines:
        merged(ws, row, 0, 1, label, fmt(bold=True))
        f = fmt.wrap(**({"font_color": "#C00000", "bold": True} if label == "Attention" else {}))
        merged(ws, row, 2, len(INDICATOR_COLS) - 1, value, f)
        fit_row(ws, row, [(value, width, f)])
        row += 1
    return row + 1


def _rules(ws, fmt: Formats, row: int) -> int:
    """The rules every figure follows, as the method note words them."""
    ws.write_string(row, 0, "Règles de calcul (les mêmes que la note de méthode, docs/METHODE.md)", fmt.section())
    row += 1
    width = sum(INDICATOR_COLS[2:])
    text_format = fmt.wrap()
    for i, (title, text) in enumerate(RULES, 1):
        merged(ws, row, 0, 1, f"{i}. {title}", fmt.wrap(bold=True))
        merged(ws, row, 2, len(INDICATOR_COLS) - 1, text, text_format)
        fit_row(ws, row, [(text, width, text_format), (f"{i}. {title}", sum(INDICATOR_COLS[:2]), fmt.wrap(bold=True))])
        row += 1
    return row + 1


def _indicator_columns(fmt: Formats) -> list[Col]:
    mono, w = fmt.wrap(font_name="Consolas", font_size=8), INDICATOR_COLS  # the widths the rows are fitted to
    return [
        Col("Code", w[0], lambda r: r["code"], lambda r: fmt(bold=True)),
        Col("Libellé", w[1], lambda r: r["libelle"], lambda r: fmt.wrap()),
        Col("Formule (centrale ; basse et haute si différentes)", w[2], lambda r: r["formules"], lambda r: mono),
        Col("Registre", w[3], lambda r: r["registre"], lambda r: fmt.wrap(font_size=9)),
        Col("Unité", w[4], lambda r: r["unite"], lambda r: fmt.wrap(font_size=9)),
        Col("Étape", w[5], lambda r: r["etape"], lambda r: fmt.wrap(font_size=9)),
        Col("Parties prenantes", w[6], lambda r: r["parties"], lambda r: fmt.wrap(font_size=9)),
        Col("Description, note et source", w[7], lambda r: r["description"], lambda r: fmt.wrap(font_size=9)),
        Col("Part forfaitaire (et ce qui la remplace)", w[8], lambda r: r["forfait"],
            lambda r: fmt.wrap(font_size=9, **({"bg_color": FLAT_FILL} if r["forfaitaire"] else {}))),
        Col("Limites et biais connus", w[9], lambda r: r["limites"], lambda r: fmt.wrap(font_size=9)),
    ]


def indicator_rows(data: ReportData) -> list[dict]:
    out = []
    for ind in data.referentiel.indicators:
        formulas = [ind.formule]
        for label, variant in (("basse", ind.formule_basse), ("haute", ind.formule_haute), ("repli", ind.formule_repli)):
            if variant and variant != ind.formule:
                formulas.append(f"{label} : {variant}")
        out.append({
            "code": ind.code, "libelle": ind.libelle, "formules": "\n".join(formulas),
            "registre": LEDGER_LABELS.get(ind.registre, ind.registre), "unite": f"{ind.unite} ({LEVELS.get(ind.niveau, ind.niveau)})",
            "etape": STAGES.get(ind.etape, ind.etape),
            "parties": ", ".join(STAKEHOLDERS.get(p, p) for p in ind.parties_prenantes),
            "description": " ".join(p for p in (ind.description, ind.note and f"Note : {ind.note}",
                                                ind.source and f"Source : {ind.source}") if p),
            "forfaitaire": bool(ind.formule_forfait), "forfait": _flat_rate_text(ind),
            "limites": ind.limites.strip() or NO_LIMITS[0].upper() + NO_LIMITS[1:] + ".",
        })
    return out


def _flat_rate_text(ind) -> str:
    if not ind.formule_forfait:
        return "Aucune (0 %)."
    replaced = ind.forfait_remplace_par.strip().rstrip(".") or "non indiqué dans le catalogue"
    return (f"Estimation forfaitaire pour la partie {ind.formule_forfait} (moyenne nationale à la place d'une donnée "
            f"locale absente). Remplacée par des données locales : {replaced}.")


# ─── Paramètres ───

def _parametres(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Paramètres")
    cols = _parameter_columns(fmt)
    row = heading(ws, fmt, data.title, "Paramètres de calcul (valeurs basse / centrale / haute), leur source et leur remarque. "
                                       "Surlignés : statut « à vérifier » ou « hypothèse » — des choix de méthode ou des chiffres "
                                       "à confirmer.",
                  [c.width for c in cols])
    ws.write_string(row, 0, "Paramètres (valeurs utilisées pour ce calcul)", fmt.section())
    row = table(ws, fmt, row + 1, cols, parameter_rows(data), "Parametres") + 1
    ws.write_string(row, 0, "Mesures dérivées (d'où vient une mesure quand plusieurs sources existent)", fmt.section())
    mono = fmt.wrap(font_name="Consolas", font_size=8)
    cols = [Col("Mesure", 28, lambda r: r["nom"], lambda r: fmt(bold=True)),
            Col("Description", 34, lambda r: r["description"], lambda r: fmt.wrap()),
            Col("Formule", 44, lambda r: r["formule"], lambda r: mono)]
    table(ws, fmt, row + 1, cols, [m.__dict__ for m in data.referentiel.measures], "Mesures_derivees", set_widths=False)
    print_setup(ws, data.title)


def _flagged(r: dict) -> bool:
    return any(s in (r.get("statut") or "") for s in FLAGGED_STATUSES)


def _parameter_columns(fmt: Formats) -> list[Col]:
    def style(**extra: Any) -> Callable[[dict], Format]:
        return lambda r: fmt(**extra, **({"bg_color": FLAT_FILL} if _flagged(r) else {}))

    number = "[$-40C]#,##0.###"
    return [
        Col("Paramètre", 28, lambda r: r["nom"], style(bold=True, font_size=9)),
        Col("Libellé", 34, lambda r: r["libelle"], style(text_wrap=True)),
        Col("Source", 44, lambda r: r["source"], style(text_wrap=True, font_size=9)),
        Col("Statut", 12, lambda r: r["statut"], style(text_wrap=True, bold=True)),
        Col("Basse", 10, lambda r: r["basse"], style(num_format=number)),
        Col("Centrale", 10, lambda r: r["centrale"], style(num_format=number, bold=True)),
        Col("Haute", 10, lambda r: r["haute"], style(num_format=number)),
        Col("Année", 7, lambda r: r["annee"], style(num_format="0", align="center")),
        Col("Unité", 20, lambda r: r["unite"], style(text_wrap=True, font_size=9)),
        Col("Remarque (pourquoi provisoire, ce qui permettrait de trancher)", 44, parameter_remark, style(text_wrap=True, font_size=9)),
    ]


def parameter_remark(r: dict) -> str:
    remark = (r.get("remarque") or "").strip()
    if not remark and PROVISIONAL in (r.get("statut") or ""):
        return "Aucune remarque : ni pourquoi la valeur est provisoire, ni ce qui permettrait de trancher."
    return remark


def parameter_rows(data: ReportData) -> list[dict]:
    """Parameters as recorded with the results, completed by the référentiel used."""
    used = data.meta.get("parametres") or {}
    params = data.referentiel.parameters
    out = []
    for nom in list(params) + [n for n in used if n not in params]:
        p = params.get(nom)
        base = {"nom": nom, "libelle": p.libelle if p else nom, "annee": p.annee if p else None}
        values = {k: getattr(p, k) for k in ("basse", "centrale", "haute", "unite", "source", "statut", "remarque")} if p else {}
        row = {**base, **values, **{k: v for k, v in (used.get(nom) or {}).items() if k in values or not p}}
        # which fields a user's file changed: the others are still the shipped référentiel's
        for override in data.referentiel.meta.get("surcharges", []):
            fields = (override.get("parametres") or {}).get(nom)
            if fields:
                row["source"] = f"{row.get('source') or ''} [modifié par {override['fichier']} : {', '.join(fields)} ; le reste : référentiel livré]"
            elif nom in (override.get("parametres_ajoutes") or []):
                row["source"] = f"{row.get('source') or ''} [ajouté par {override['fichier']}]"
        out.append(row)
    return out


# ─── Sources ───

def _sources(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Sources")
    mono = fmt.wrap(font_name="Consolas", font_size=8)
    cols = [
        Col("Fichier", 30, lambda r: r.get("fichier"), lambda r: fmt.wrap()),
        Col("SHA-256", 46, lambda r: r.get("sha256"), lambda r: mono),
        Col("Organisme", 24, lambda r: r.get("raison_sociale"), lambda r: fmt.wrap()),
        Col("SIREN", 10, lambda r: r.get("siren")),
        Col("Type", 12, lambda r: r.get("type")),
        Col("Exercice", 9, lambda r: r.get("exercice"), lambda r: fmt(num_format="0", align="center")),
        Col("Importé le", 15, lambda r: fr_datetime(r.get("importe_le"))),
    ]
    row = heading(ws, fmt, data.title, "Fichiers lus pour ce calcul, avec leur empreinte SHA-256 (un fichier modifié change "
                                       "d'empreinte).", [c.width for c in cols])
    ws.write_string(row, 0, "Fichiers d'entrée", fmt.section())
    row = table(ws, fmt, row + 1, cols, list(data.meta.get("entrees") or []), "Fichiers_entree") + 1
    ws.write_string(row, 0, "Fichiers du référentiel", fmt.section())
    ref_cols = [Col("Fichier", 30, lambda r: r["fichier"]), Col("SHA-256", 46, lambda r: r["sha256"], lambda r: mono)]
    table(ws, fmt, row + 1, ref_cols, data.referentiel.sources, "Fichiers_referentiel", set_widths=False)
    print_setup(ws, data.title)
