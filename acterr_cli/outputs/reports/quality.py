"""Qualité des données: for each indicator, its coverage and why it is not computable where it is
not (and where); the warnings carried from the import; the differences between liasse and
questionnaire. The three tables are stacked on the same columns, so they share one grid."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from acterr_cli.outputs.nature import MARK, flat_share, is_flat, replaced_by, wholly_flat
from acterr_cli.outputs.reports.model import TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import COVERAGE_FORMAT, FR, GREY, ORANGE, Col, Formats, heading, print_setup, table
from acterr_cli.results import CALCULE

SHEET = "Qualité des données"
MAX_NAMES = 6  # places named for one reason; the rest are counted
GRID = (16, 34, 11, 11, 11, 11, 58)  # column widths shared by the three tables


def write(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet(SHEET)
    row = heading(ws, fmt, data.title, "Ce qui manque et pourquoi : une donnée absente rend l'indicateur non calculable, "
                                       "elle n'est jamais comptée comme zéro.", list(GRID))
    for j, w in enumerate(GRID):
        ws.set_column(j, j, w)
    sections = (  # the estimations first: what a reader must not take for a measure
        (f"Estimations forfaitaires (« {MARK} ») : moyenne nationale à la place d'une donnée locale absente, et ce qui la remplacerait",
         _flat_columns(data, fmt), _flat_rows(data), "Estimations_forfaitaires"),
        ("Couverture et motifs de non-calcul, par indicateur", _coverage_columns(data, fmt), _coverage_rows(data), "Qualite_indicateurs"),
        ("Avertissements de l'import (fichiers importés malgré eux)", _warning_columns(fmt), data.warnings, "Avertissements_import"),
        ("Écarts de plus de 1 % entre la liasse et le questionnaire (la liasse est retenue)", _check_columns(fmt),
         data.controles, "Ecarts_liasse_questionnaire"),
    )
    for title, cols, rows, name in sections:
        ws.write_string(row, 0, f"{title} — {len(rows)}", fmt.section())
        row = table(ws, fmt, row + 1, cols, rows, name, set_widths=False) + 1
    ws.freeze_panes(3, 0)
    print_setup(ws, data.title)


def _scope_rows(data: ReportData) -> list[dict]:
    """The rows whose coverage is reported: each organisation on a territory, else each territory."""
    return data.org_rows if data.kind == TERRITOIRE else data.rows


def _coverage_columns(data: ReportData, fmt: Formats) -> list[Col]:
    where = "organismes" if data.kind == TERRITOIRE else "territoires"
    return [
        Col("Code", 16, lambda r: r["code"], lambda r: fmt(bold=True)),
        Col("Indicateur", 34, lambda r: f"{r['libelle']} ({r['unite']})", lambda r: fmt.wrap()),
        Col(f"Résultats ({where})", 11, lambda r: r["total"], lambda r: fmt.integer(align="center")),
        Col("Non calculables", 11, lambda r: r["nc"], lambda r: fmt.integer(align="center", **({"font_color": ORANGE} if r["nc"] else {}))),
        Col("Couverture min. (%)", 11, lambda r: r["min"], lambda r: fmt.coverage(r["min"], align="center")),
        Col("Couverture max. (%)", 11, lambda r: r["max"], lambda r: fmt.coverage(r["max"], align="center")),
        Col("Motifs de non-calcul (et où)", 58, lambda r: r["motifs"], lambda r: fmt.wrap(font_color=GREY, font_size=9)),
    ]


def _coverage_rows(data: ReportData) -> list[dict]:
    by_code: dict[str, list[dict]] = {}
    for r in _scope_rows(data):
        by_code.setdefault(r["indicateur"], []).append(r)
    # Coverage is that of the consolidated figures (the ones the Indicateurs sheet shows): an
    # organisation's own result is covered wholly or not at all.
    covered: dict[str, list[float]] = {}
    for r in data.rows:
        if r["couverture"] is not None and r["statut"] == CALCULE:
            covered.setdefault(r["indicateur"], []).append(r["couverture"])
    out = []
    for code, rows in by_code.items():
        coverages = covered.get(code, [])
        info = data.labels.get(code, {"libelle": code, "unite": ""})
        out.append({"code": code, "libelle": info["libelle"], "unite": info["unite"], "total": len(rows),
                    "nc": sum(r["statut"] != CALCULE for r in rows), "min": min(coverages, default=None),
                    "max": max(coverages, default=None), "motifs": _reasons(data, code, rows)})
    return out


def _reasons(data: ReportData, code: str, rows: list[dict]) -> str | None:
    """« • motif — où » for each distinct reason, the synthèse figure first."""
    places: dict[str, list[str]] = {}
    head = data.headline.get(code)
    if head is not None and head["statut"] != CALCULE:
        places.setdefault(head["motif"] or "non calculable", []).append("synthèse")
    for r in rows:
        if r["statut"] != CALCULE:
            where = r["raison_sociale"] if data.kind == TERRITOIRE else r["nom_territoire"]
            places.setdefault(r["motif"] or "non calculable", []).append(where or r["code_territoire"] or "?")
    items = []
    for motif, where in places.items():
        shown = ", ".join(where[:MAX_NAMES]) + (f" et {len(where) - MAX_NAMES} autre(s)" if len(where) > MAX_NAMES else "")
        items.append(f"• {motif} — {shown}")
    return "\n".join(items) or None


def _flat_columns(data: ReportData, fmt: Formats) -> list[Col]:
    where = "organismes" if data.kind == TERRITOIRE else "territoires"
    return [
        Col("Code", 16, lambda r: r["code"], lambda r: fmt(bold=True)),
        Col("Indicateur", 34, lambda r: f"{r['libelle']} ({r['unite']})", lambda r: fmt.wrap()),
        Col("Part forfaitaire de la synthèse (%)", 11, lambda r: r["synthese"],
            lambda r: fmt.flat(num_format=COVERAGE_FORMAT, align="center") if r["synthese"] else fmt(num_format=COVERAGE_FORMAT, align="center")),
        Col(f"Résultats ({where})", 11, lambda r: r["total"], lambda r: fmt.integer(align="center")),
        Col("Entièrement forfaitaires", 11, lambda r: r["entiers"], lambda r: fmt.integer(align="center")),
        Col("En partie forfaitaires", 11, lambda r: r["partiels"], lambda r: fmt.integer(align="center")),
        Col("Pour remplacer l'estimation par des données locales", 58, lambda r: r["remplace"], lambda r: fmt.wrap()),
    ]


def _flat_rows(data: ReportData) -> list[dict]:
    """Each indicator with an estimation forfaitaire in the scope (the synthèse's figure or a territory's)."""
    by_code: dict[str, list[dict]] = {}
    for r in _scope_rows(data):
        by_code.setdefault(r["indicateur"], []).append(r)
    out = []
    for code, info in data.labels.items():
        rows = by_code.get(code, [])
        head = data.headline.get(code)
        flat = [r for r in rows if is_flat(r)]
        if not flat and not is_flat(head):
            continue
        out.append({"code": code, "libelle": info["libelle"], "unite": info["unite"], "synthese": flat_share(head),
                    "total": len(rows), "entiers": sum(wholly_flat(r) for r in flat),
                    "partiels": sum(not wholly_flat(r) for r in flat),
                    "remplace": replaced_by(data.referentiel, code) or "aucune donnée locale prévue par le référentiel"})
    return out


def _warning_columns(fmt: Formats) -> list[Col]:
    return [
        Col("Organisme", 16, lambda r: r.get("raison_sociale") or r.get("siren"), lambda r: fmt.wrap(bold=True)),
        Col("Fichier", 34, lambda r: r.get("fichier"), lambda r: fmt.wrap()),
        Col("Feuille", 11, lambda r: r.get("feuille"), lambda r: fmt.wrap()),
        Col("Cellule", 11, lambda r: r.get("cellule")),
        Col("Colonne", 11, lambda r: r.get("colonne"), lambda r: fmt.wrap()),
        Col("Valeur lue", 11, lambda r: r.get("valeur"), lambda r: fmt.wrap(font_color=GREY)),
        Col("Avertissement", 58, lambda r: r.get("message"), lambda r: fmt.wrap()),
    ]


def _check_columns(fmt: Formats) -> list[Col]:
    return [
        Col("SIREN", 16, lambda r: r.get("siren")),
        Col("Organisme", 34, lambda r: r.get("raison_sociale"), lambda r: fmt.wrap(bold=True)),
        Col("Exercice", 11, lambda r: r.get("exercice"), lambda r: fmt(num_format="0", align="center")),
        Col("Liasse", 11, lambda r: r.get("liasse"), lambda r: fmt.integer()),
        Col("Questionnaire", 11, lambda r: r.get("questionnaire"), lambda r: fmt.integer()),
        Col("Écart (%)", 11, lambda r: r.get("ecart_pct"), lambda r: fmt(num_format=FR + '0.0" "%', align="center")),
        Col("Constat", 58, lambda r: r.get("message"), lambda r: fmt.wrap()),
    ]
