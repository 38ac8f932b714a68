"""Qualité des données: what each organisation should send back (the inputs missing for each
indicator it cannot compute); for each indicator, its coverage and why it is not computable where
it is not (and where); the warnings carried from the import; the differences between liasse and
questionnaire. The tables are stacked on the same columns, so they share one grid."""

from __future__ import annotations

import re
from collections import Counter

import polars as pl
from xlsxwriter.workbook import Workbook

from acterr_cli.outputs.nature import MARK, flat_share, is_flat, replaced_by, wholly_flat
from acterr_cli.outputs.reports.model import TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import (
    COVERAGE_FORMAT,
    FR,
    GREY,
    ORANGE,
    Col,
    Formats,
    fit_row,
    heading,
    merged,
    note,
    print_setup,
    table,
)
from acterr_cli.outputs.wording import GRADE_LEGEND, count
from acterr_cli.results import CALCULE

SHEET = "Qualité des données"
MAX_NAMES = 6  # places named for one reason; the rest are counted
GRID = (10, 38, 10, 10, 10, 10, 86)  # column widths shared by the tables: the last holds long reasons, in small type
SMALL = 8
MISSING = "données manquantes — "  # how the engine begins an organisation's reason (compute._describe_missing)
# The engine's explanation of organisation-level data in a territory, the same on many reasons: said once below the table.
NOT_SPLIT_TEXT = (" (les données de niveau organisme, liasse ou totaux, ne comptent que pour un organisme dont tout le "
                  "patrimoine est dans le territoire : un organisme présent ici en a aussi ailleurs)")
NOT_SPLIT_MARK = " (¹)"


def write(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet(SHEET)
    row = heading(ws, fmt, data.title, "Ce qui manque et pourquoi : une donnée absente rend l'indicateur non calculable, "
                                       "elle n'est jamais comptée comme zéro.", list(GRID))
    for j, w in enumerate(GRID):
        ws.set_column(j, j, w)
    row = _requests(ws, data, fmt, row)
    sections = (  # the estimations first: what a reader must not take for a measure
        (f"Estimations forfaitaires (« {MARK} ») : moyenne nationale à la place d'une donnée locale absente, et ce qui la remplacerait",
         _flat_columns(data, fmt), _flat_rows(data), "Estimations_forfaitaires"),
        ("Couverture et motifs de non-calcul, par indicateur", _coverage_columns(data, fmt), _coverage_rows(data), "Qualite_indicateurs"),
        ("Avertissements de l'import (fichiers importés malgré eux)", _warning_columns(fmt), data.warnings, "Avertissements_import"),
        ("Écarts de plus de 1 % entre la liasse et le questionnaire (la liasse est retenue)", _check_columns(fmt),
         data.controles, "Ecarts_liasse_questionnaire"),
    )
    repeat = None
    for title, cols, rows, name in sections:
        if not rows:  # one line, not an empty table: the page keeps its room for what is there
            ws.write_string(row, 0, f"{title} — aucun", fmt.section(GREY))
            row += 2
            continue
        if name == "Qualite_indicateurs":  # the long table's header repeated on each page, never alone at a page's foot
            if _room_left(ws, row) < TABLE_START_ROOM:
                ws.set_h_pagebreaks([row])
            repeat = (row + 1, row + 1)
        ws.write_string(row, 0, f"{title} — {len(rows)}", fmt.section())
        row = table(ws, fmt, row + 1, cols, rows, name, set_widths=False) + 1
        if name == "Qualite_indicateurs" and any(NOT_SPLIT_MARK in (r["motifs"] or "") for r in rows):
            row = note(ws, fmt, row - 1, f"(¹) {NOT_SPLIT_TEXT.strip().strip('()')}.", 0, len(GRID) - 1, sum(GRID)) + 1
        if name == "Qualite_indicateurs" and any(r["grades"] for r in rows):
            row = note(ws, fmt, row - 1, GRADE_LEGEND, 0, len(GRID) - 1, sum(GRID)) + 1
    ws.freeze_panes(3, 0)
    print_setup(ws, data.title, repeat)


# Where a printed page ends, estimated from the rows' heights (each fitted to its text): A4 landscape
# within print_setup's margins, in points, and the printed width of a unit of column width at 100 %
# (measured on this sheet through LibreOffice: its first page holds about 990 points of rows); the sheet is
# fitted to the page's width.
PRINTABLE = (784, 505)
POINTS_PER_WIDTH = 8.8
TABLE_START_ROOM = 150  # a section title, the header and a few rows: less than that, the table starts a page


def _room_left(ws, row: int) -> float:
    """Points (of the sheet, before fitting) left on the printed page where `row` would fall."""
    scale = min(1.0, PRINTABLE[0] / (sum(GRID) * POINTS_PER_WIDTH))
    page = PRINTABLE[1] / scale
    used = sum(((ws.row_sizes.get(r) or [None])[0] or 15) for r in range(row))
    return page - used % page


def _scope_rows(data: ReportData) -> list[dict]:
    """The rows whose coverage is reported: each organisation on a territory, else each territory."""
    return data.org_rows if data.kind == TERRITOIRE else data.rows


def _coverage_columns(data: ReportData, fmt: Formats) -> list[Col]:
    where = "organismes" if data.kind == TERRITOIRE else "territoires"
    return [
        Col("Code", GRID[0], lambda r: r["code"], lambda r: fmt(bold=True)),
        Col("Indicateur", GRID[1], lambda r: f"{r['libelle']} ({r['unite']})" + (f" — fiabilité {r['grades']}" if r["grades"] else ""),
            lambda r: fmt.wrap(font_size=9)),
        Col(f"Résultats ({where})", GRID[2], lambda r: r["total"], lambda r: fmt.integer(align="center")),
        Col("Non calculables", GRID[2], lambda r: r["nc"], lambda r: fmt.integer(align="center", **({"font_color": ORANGE} if r["nc"] else {}))),
        Col("Couverture min. (%)", GRID[2], lambda r: r["min"], lambda r: fmt.coverage(r["min"], align="center")),
        Col("Couverture max. (%)", GRID[2], lambda r: r["max"], lambda r: fmt.coverage(r["max"], align="center")),
        Col("Motifs de non-calcul (et où)", GRID[-1], lambda r: r["motifs"], lambda r: fmt.wrap(font_color=GREY, font_size=SMALL)),
    ]


def _coverage_rows(data: ReportData) -> list[dict]:
    by_code: dict[str, list[dict]] = {}
    for r in _scope_rows(data):
        by_code.setdefault(r["indicateur"], []).append(r)
    # Coverage is that of the consolidated figures (the ones the Indicateurs sheet shows): an
    # organisation's own result is covered wholly or not at all.
    covered: dict[str, list[float]] = {}
    grades: dict[str, Counter] = {}
    for r in data.rows:
        if r["couverture"] is not None and r["statut"] == CALCULE:
            covered.setdefault(r["indicateur"], []).append(r["couverture"])
        if r["statut"] == CALCULE and r.get("fiabilite"):
            grades.setdefault(r["indicateur"], Counter())[r["fiabilite"]] += 1
    out = []
    for code, rows in by_code.items():
        coverages = covered.get(code, [])
        info = data.labels.get(code, {"libelle": code, "unite": ""})
        out.append({"code": code, "libelle": info["libelle"], "unite": info["unite"], "total": len(rows),
                    "nc": sum(r["statut"] != CALCULE for r in rows), "min": min(coverages, default=None),
                    "max": max(coverages, default=None), "motifs": _reasons(data, code, rows),
                    "grades": _grades(grades.get(code))})
    return out


def _grades(counts: Counter | None) -> str:
    """« A » when every figure has grade A, else « A ×10, C ×2 » (the figures of each grade)."""
    if not counts:
        return ""
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{g} ×{counts[g]}" for g in sorted(counts))


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
        motif = motif.replace(NOT_SPLIT_TEXT, NOT_SPLIT_MARK)
        shown = ", ".join(where[:MAX_NAMES]) + (f" et {count(len(where) - MAX_NAMES, 'autre')}" if len(where) > MAX_NAMES else "")
        items.append(f"• {motif} — {shown}")
    return "\n".join(items) or None


# ─── what to ask each organisation ───

def requested_inputs(data: ReportData) -> list[dict]:
    """For each organisation of the scope and each sheet of its questionnaire (or its liasse) with
    inputs missing: those inputs and the indicators they would make computable — the list a
    regional association sends back to its members. Read from each organisation's own results
    (FRANCE level: its whole patrimoine), whose reason names the missing inputs sheet by sheet
    (« données manquantes — feuille Achats : … ; feuille Salaries : … »). Public data of the
    territory (RPLS) are not asked of the organisations: see `public_inputs`."""
    asks: dict[tuple[str, str], dict] = {}
    for r in _own_missing(data):
        for source, inputs in _missing_parts(r["motif"]):
            if not _asked_of_members(source):
                continue
            item = asks.setdefault((r["siren"], source), {"siren": r["siren"], "organisme": r["raison_sociale"] or r["siren"],
                                                          "source": source, "donnees": [], "indicateurs": []})
            item["donnees"] += [i for i in _inputs(inputs) if i not in item["donnees"]]
            item["indicateurs"].append(r["indicateur"])
    return _listed(data, sorted(asks.values(), key=lambda a: (a["organisme"].casefold(), a["siren"], a["source"].casefold())))


def public_inputs(data: ReportData) -> list[dict]:
    """Public data of the territories (RPLS…) missing for some indicators: imported by the
    association itself, not asked of the organisations."""
    needs: dict[str, dict] = {}
    for r in _own_missing(data):
        for source, inputs in _missing_parts(r["motif"]):
            if _asked_of_members(source):
                continue
            item = needs.setdefault(source, {"source": source, "donnees": [], "indicateurs": []})
            item["donnees"] += [i for i in _inputs(inputs) if i not in item["donnees"]]
            if r["indicateur"] not in item["indicateurs"]:
                item["indicateurs"].append(r["indicateur"])
    return _listed(data, list(needs.values()))


def _own_missing(data: ReportData) -> list[dict]:
    national = data.inputs.national
    if national is None or data.year is None:
        return []
    return national.results.filter(
        (pl.col("exercice") == data.year) & pl.col("siren").is_in(sorted(data.sirens)) & (pl.col("statut") != CALCULE)
    ).select("siren", "raison_sociale", "indicateur", "motif").to_dicts()


def _listed(data: ReportData, items: list[dict]) -> list[dict]:
    order = {c: i for i, c in enumerate(data.labels)}
    for a in items:
        a["indicateurs"].sort(key=lambda c: order.get(c, len(order)))
        a["nombre"] = len(a["indicateurs"])
        a["liste"] = ", ".join(f"{data.labels.get(c, {}).get('libelle') or c} ({c})" for c in a["indicateurs"])
    return items


def _asked_of_members(source: str) -> bool:
    return source.startswith("feuille") or "liasse" in source or source == OTHER


OTHER = "autre motif"


def _missing_parts(motif: str | None) -> list[tuple[str, str]]:
    """(source, inputs) for each source named in an organisation's reason (« feuille Achats »,
    « RPLS (parc social du territoire) »); any other reason (a formula without a value) as it is."""
    if not motif or not motif.startswith(MISSING):
        return [(OTHER, motif or "non calculable (motif non précisé)")]
    parts = [p.strip().split(" : ", 1) for p in motif[len(MISSING):].split(" ; ") if p.strip()]
    return [(p[0], p[1]) if len(p) == 2 else (OTHER, p[0]) for p in parts]


def _inputs(text: str) -> list[str]:
    """The inputs of a list « Achats HT, total de l'organisme, Achats HT auprès de l'ESS »: a
    comma starts a new input only before a capital (a label may hold a comma)."""
    return [p.strip() for p in re.split(r",\s+(?=[A-ZÀ-Ý])", text) if p.strip()]


def _requests(ws, data: ReportData, fmt: Formats, row: int) -> int:
    """The « à demander » list: one line per organisation and sheet (the text over the last columns,
    wrapped). Returns the next free row."""
    requests = requested_inputs(data)
    ws.write_string(row, 0, f"Données à demander à chaque organisme (ce qui manque pour ses indicateurs non calculables) — "
                            f"{count(len({r['siren'] for r in requests}), 'organisme')}", fmt.section())
    header, text_width = fmt.header(), sum(GRID[2:])
    for j, h in enumerate(("SIREN", "Organisme")):
        ws.write_string(row + 1, j, h, header)
    merged(ws, row + 1, 2, len(GRID) - 1, "Données à fournir (feuille du questionnaire ou liasse) → indicateurs qu'elles "
                                          "rendraient calculables", header)
    row += 2
    if not requests:
        ws.write_string(row, 0, "(aucune : tous les indicateurs des organismes sont calculés)", fmt.note())
        return row + 2
    text = fmt.wrap(font_size=SMALL)
    for r in requests:
        source = r["source"] if r["source"] != OTHER else "autre motif"
        what = f"{source} : {' ; '.join(r['donnees'])}\n→ {count(r['nombre'], 'indicateur')} : {r['liste']}"
        ws.write_string(row, 0, r["siren"], fmt())
        ws.write_string(row, 1, r["organisme"], fmt.wrap(bold=True))
        merged(ws, row, 2, len(GRID) - 1, what, text)
        fit_row(ws, row, [(what, text_width, text), (r["organisme"], GRID[1], fmt.wrap(bold=True))])
        row += 1
    public = public_inputs(data)
    if public:
        listed = " ; ".join(f"{p['source']} : {', '.join(p['donnees'])} → {p['liste']}" for p in public)
        row = note(ws, fmt, row, "Données publiques du territoire manquantes, à importer par vous (acterr import), pas à "
                                 f"demander aux organismes — {listed}.", 0, len(GRID) - 1, sum(GRID))
    return row + 1


def _flat_columns(data: ReportData, fmt: Formats) -> list[Col]:
    where = "organismes" if data.kind == TERRITOIRE else "territoires"
    return [
        Col("Code", GRID[0], lambda r: r["code"], lambda r: fmt(bold=True)),
        Col("Indicateur", GRID[1], lambda r: f"{r['libelle']} ({r['unite']})", lambda r: fmt.wrap(font_size=9)),
        Col("Part forfaitaire de la synthèse (%)", GRID[2], lambda r: r["synthese"],
            lambda r: fmt.flat(num_format=COVERAGE_FORMAT, align="center") if r["synthese"] else fmt(num_format=COVERAGE_FORMAT, align="center")),
        Col(f"Résultats ({where})", GRID[2], lambda r: r["total"], lambda r: fmt.integer(align="center")),
        Col("Entièrement forfaitaires", GRID[2], lambda r: r["entiers"], lambda r: fmt.integer(align="center")),
        Col("En partie forfaitaires", GRID[2], lambda r: r["partiels"], lambda r: fmt.integer(align="center")),
        Col("Pour remplacer l'estimation par des données locales", GRID[-1], lambda r: r["remplace"], lambda r: fmt.wrap()),
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
        Col("Organisme", GRID[0], lambda r: r.get("raison_sociale") or r.get("siren"), lambda r: fmt.wrap(bold=True)),
        Col("Fichier", GRID[1], lambda r: r.get("fichier"), lambda r: fmt.wrap()),
        Col("Feuille", GRID[2], lambda r: r.get("feuille"), lambda r: fmt.wrap()),
        Col("Cellule", GRID[2], lambda r: r.get("cellule")),
        Col("Colonne", GRID[2], lambda r: r.get("colonne"), lambda r: fmt.wrap()),
        Col("Valeur lue", GRID[2], lambda r: r.get("valeur"), lambda r: fmt.wrap(font_color=GREY)),
        Col("Avertissement", GRID[-1], lambda r: r.get("message"), lambda r: fmt.wrap()),
    ]


def _check_columns(fmt: Formats) -> list[Col]:
    return [
        Col("SIREN", GRID[0], lambda r: r.get("siren")),
        Col("Organisme", GRID[1], lambda r: r.get("raison_sociale"), lambda r: fmt.wrap(bold=True)),
        Col("Exercice", GRID[2], lambda r: r.get("exercice"), lambda r: fmt(num_format="0", align="center")),
        Col("Liasse", GRID[2], lambda r: r.get("liasse"), lambda r: fmt.integer()),
        Col("Questionnaire", GRID[2], lambda r: r.get("questionnaire"), lambda r: fmt.integer()),
        Col("Écart (%)", GRID[2], lambda r: r.get("ecart_pct"), lambda r: fmt(num_format=FR + '0.0" "%', align="center")),
        Col("Constat", GRID[-1], lambda r: r.get("message"), lambda r: fmt.wrap()),
    ]
