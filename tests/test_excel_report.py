"""The board workbook, read back by content (values, formats, names, tables, charts), not by bytes.

Expected figures are those of the hand-checkable fixture (builders.py docstring), at EPCI level:
Toulouse Métropole (243100518) holds A's 1 050 dwellings and B's 200 in Toulouse; Montpellier
Méditerranée Métropole (243400017) holds B's other 500.
- ECO-01 Toulouse: A's Production sheet, 6 000 000 + 2 000 000 + 500 000 + 1 500 000 + 0 + 100 000
  = 10 100 000 € (B has no Production sheet and its liasse totals cannot be split: partial, 84 %);
  Montpellier: non calculable. All organisations (FRANCE level, where B's liasse counts):
  10 100 000 + 3 000 000 + 1 000 000 + 200 000 = 14 300 000 €.
- ECO-10 Toulouse: 400 000 + 120 000 (A) + 90 000 (B) = 610 000 €; Montpellier 230 000 €; all 840 000 €.
- SOC-01 (no market rent: national flat rate 261 €/month, range 227–261, on occupied dwellings: A at
  the national vacancy 2,9 %, B at its liasse's 2,5 %): Toulouse (1 050 × 0,971 + 200 × 0,975) × 261 × 12
  = 3 803 970,6 €/an, Montpellier 500 × 0,975 × 261 × 12 = 1 526 850 €/an, all 5 330 820,6 (4 636 580,4 – 5 330 820,6).
- PV-01 all: (300 + 100 + 200) / 1 750 = 34,29 %. DPE A–C all: (300 + 110 + 60 + 180) / 1 720 known
  labels = 37,79 %; F–G (90 + 70) / 1 720 = 9,30 %.
"""

import re
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from builders import MONTPELLIER_METROPOLE, SIREN_A, SIREN_B, TOULOUSE_METROPOLE, write_all
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from acterr_cli import api
from acterr_cli.api import report_inputs
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.outputs.excel_report import write_report as legacy_write_report
from acterr_cli.outputs.reports import ReportInputs, Scope, is_additive, number_format, quality, tables, write_report
from acterr_cli.outputs.reports.charts import DATA_SHEET
from acterr_cli.outputs.wording import GRADES
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.results import RESULT_SCHEMA, Computation

# openpyxl reads back the data bars' Excel 2010 extension without keeping it: not a problem here
pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported")
OVERVIEW_SHEETS = ["Synthèse", "Graphiques", "Classement", "Carte", "Parties prenantes", "Indicateurs", "Par organisme", "Sensibilité",
                   "Qualité des données", "Méthodologie", "Paramètres", "Sources", DATA_SHEET]
NBSP = "\u202f"


@pytest.fixture(scope="module")
def espace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rapport")
    report = api.import_paths(root / "espace", write_all(root / "entrees"))
    assert not report.refused, report.to_dict()
    return root / "espace"


@pytest.fixture(scope="module")
def inputs(espace) -> ReportInputs:
    inputs = report_inputs(espace, "EPCI", load_referentiel())
    inputs.warnings = [{"fichier": "org_b.xlsx", "feuille": "Patrimoine", "cellule": "E7", "message": "=surface douteuse",
                        "regle": "plage", "gravite": "avertissement", "valeur": "-12", "siren": SIREN_B,
                        "raison_sociale": "Logis Test B", "exercice": 2025}]
    return inputs


@pytest.fixture(scope="module")
def written(inputs, tmp_path_factory):
    return write_report(tmp_path_factory.mktemp("sortie") / "rapport.xlsx", inputs)


@pytest.fixture(scope="module")
def workbook(written):
    return load_workbook(written.path)


@pytest.fixture(scope="module")
def territory_book(inputs, tmp_path_factory):
    written = write_report(tmp_path_factory.mktemp("t") / "toulouse.xlsx", inputs, scope=Scope.territory(TOULOUSE_METROPOLE))
    return written, load_workbook(written.path)


@pytest.fixture(scope="module")
def organisation_book(inputs, tmp_path_factory):
    written = write_report(tmp_path_factory.mktemp("o") / "b.xlsx", inputs, scope=Scope.organisation(SIREN_B))
    return written, load_workbook(written.path)


def table_rows(ws, name: str) -> list[dict]:
    """Rows of a named Excel table as dicts (header → cell)."""
    cells = list(ws[dict(ws.tables.items())[name]])
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, row, strict=True)) for row in cells[1:]]


def find(rows: list[dict], **criteria) -> dict:
    hits = [r for r in rows if all(r[k].value == v for k, v in criteria.items())]
    assert len(hits) == 1, (criteria, len(hits))
    return hits[0]


def matrix(ws, name: str) -> dict[str, dict]:
    """A matrix table (indicators down, territories or organisations across): indicator code → row
    (header → cell)."""
    return {r["Code"].value: r for r in table_rows(ws, name)}


def column(rows: dict[str, dict], *lines: str) -> str:
    """The header of the matrix column whose lines include all these (name, code, SIREN)."""
    [hit] = [h for h in next(iter(rows.values())) if h and all(x in h.split("\n") for x in lines)]
    return hit


def named(wb, name: str):
    """The cell a workbook name points to."""
    [(sheet, coord)] = list(wb.defined_names[name].destinations)
    return wb[sheet][coord.replace("$", "")]


def all_cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from (c for c in row if c.value is not None)


def cell_values(wb, ref: str) -> list:
    """Values of a chart reference such as 'Données graphiques'!$B$5:$B$6, row by row."""
    sheet, cells = ref.rsplit("!", 1)
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws.iter_rows(min_row, max_row, min_col, max_col) for c in row]


def chart_series(wb, sheet: str) -> dict[str, dict]:
    """Every series of the charts of a sheet: name → {category: value}, read through its ranges."""
    found = {}
    for chart in wb[sheet]._charts:
        for series in chart.series:
            refs = [series.tx.strRef.f, series.val.numRef.f, (series.cat.strRef or series.cat.numRef).f]
            assert all(r.startswith(f"'{DATA_SHEET}'!") for r in refs), refs
            [name] = cell_values(wb, refs[0])
            found[name] = dict(zip(cell_values(wb, refs[2]), cell_values(wb, refs[1]), strict=True))
    return found


# ─── structure ───

def test_sheets_properties_and_print_setup(written, workbook):
    assert written.sheets == OVERVIEW_SHEETS == workbook.sheetnames  # no Pairs sheet: 2 organisations cannot be compared
    assert written.exercice == 2025 and written.perimetre == "ensemble"
    assert workbook.properties.creator == "acterr"
    assert workbook.properties.title == "Valeur créée par les organismes Hlm — par EPCI, exercice 2025"
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == ("portrait" if ws.title in (DATA_SHEET, "Parties prenantes", "Carte") else "landscape"), ws.title
        assert str(ws.page_setup.paperSize) == "9", ws.title
        # one page wide (Par organisme two); the Synthèse one page tall too (the board's page)
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # None: 1, the default; Par organisme one page tall, as small as the Indicateurs matrix
        assert ws.page_setup.fitToHeight == (None if ws.title in ("Synthèse", "Par organisme") else 0), ws.title
        assert ws.page_setup.fitToWidth == (2 if ws.title == "Par organisme" else None), ws.title
        assert "&P / &N" in ws.oddFooter.center.text and "&A" in ws.oddHeader.right.text, ws.title


def test_no_formula_anywhere(workbook, territory_book, organisation_book):
    for wb in (workbook, territory_book[1], organisation_book[1]):
        assert not [c.coordinate for c in all_cells(wb) if c.data_type == "f"]


def test_file_opens_with_calamine(written, inputs):
    reader = fastexcel.read_excel(written.path)
    assert reader.sheet_names == OVERVIEW_SHEETS
    frame = reader.load_sheet_by_name("Indicateurs", header_row=3).to_polars()
    assert {"Code", "Indicateur", f"Toulouse Métropole\n{TOULOUSE_METROPOLE}"} <= set(frame.columns)
    consolidated = inputs.computation.results.filter(pl.col("siren").is_null())
    assert set(frame["Code"].drop_nulls()) >= set(consolidated["indicateur"])


def test_legacy_import_path_still_writes_the_overview(inputs, tmp_path):
    written = legacy_write_report(tmp_path / "r.xlsx", inputs.computation)
    assert written.sheets[0] == "Synthèse" and written.exercice == 2025


# ─── Synthèse: names, values, formats ───

def test_synthese_headline_names_and_formats(workbook):
    assert named(workbook, "acterr_titre").value == "Valeur créée par les organismes Hlm — par EPCI, exercice 2025"
    assert named(workbook, "acterr_exercice").value == 2025
    eco01 = named(workbook, "acterr_ECO_01")
    assert eco01.parent.title == "Synthèse"
    assert eco01.value == pytest.approx(14_300_000)  # all organisations: B's liasse counts at FRANCE level
    assert eco01.number_format == '[$-40C]#,##0.0,, "M€"'
    soc01 = named(workbook, "acterr_SOC_01")
    assert soc01.value == pytest.approx(5_330_820.6)
    assert soc01.offset(column=1).value == "4,6 – 5,3 M€"  # low–high range beside the figure
    assert soc01.offset(column=2).value == pytest.approx(1.0)  # coverage 100 %, a true percentage
    assert named(workbook, "acterr_ECO_10").value == pytest.approx(840_000)
    assert named(workbook, "acterr_ECO_10").number_format == '[$-40C]#,##0 "€"'
    pv01 = named(workbook, "acterr_PV_01")
    assert pv01.value == pytest.approx(0.342857, abs=1e-6) and pv01.number_format == '[$-40C]#,##0.0" "%'
    assert named(workbook, "acterr_ECO_08").number_format == '[$-40C]#,##0.0 "ETP"'


def test_synthese_ledgers_side_by_side_never_added(workbook):
    ws = workbook["Synthèse"]
    texts = [c.value for c in all_cells(workbook) if c.parent.title == "Synthèse" and isinstance(c.value, str)]
    assert any("ne s'additionnent jamais" in t for t in texts)
    assert any(t.startswith("2 organismes Hlm — logements dans 2 territoires (EPCI)") for t in texts)
    local, social = named(workbook, "acterr_ECO_01"), named(workbook, "acterr_SOC_01")
    assert local.row == social.row and local.column < social.column  # same row, two panels
    bands = [c for c in all_cells(workbook) if c.parent.title == "Synthèse" and isinstance(c.value, str)
             and c.value.startswith(("Valeur locale —", "Plus-value sociale —"))]
    assert {c.row for c in bands} == {local.row - 2} and len(bands) == 2
    # no cell of the sheet holds the sum of the two ledgers
    numbers = {round(c.value) for c in all_cells(workbook) if c.parent.title == "Synthèse" and isinstance(c.value, (int, float))}
    assert round(14_300_000 + 5_330_820.6) not in numbers
    assert len(ws._charts) == 1  # SOC-01 by territory; ECO-01 is computed on one territory only: no one-bar chart


# ─── Classement ───

def test_ranking_puts_housed_territories_first_with_figures(workbook):
    ws = workbook["Classement"]
    rows = table_rows(ws, "Classement")
    assert [r["Territoire"].value for r in rows] == ["Toulouse Métropole", "Montpellier Méditerranée Métropole"]
    assert [r["Rang"].value for r in rows] == [1, 2]
    assert ws["A2"].value.startswith("2 territoires (EPCI) où les organismes ont des logements")  # never « territoire(s) »
    toulouse, montpellier = rows
    invest = next(k for k in toulouse if k.startswith("Investissement"))
    assert toulouse[invest].value == pytest.approx(10_100_000)
    assert toulouse[invest].font.color.rgb.endswith("C55A11")  # partial coverage in orange
    assert toulouse[invest].number_format == '[$-40C]#,##0 "€"'
    assert montpellier[invest].value == "n.c."  # missing is not zero
    logements = next(k for k in toulouse if k.startswith("Logements"))
    assert (toulouse[logements].value, montpellier[logements].value) == (1250, 500)
    assert ws.freeze_panes == "C5"
    bars = [rule.type for rules in ws.conditional_formatting for rule in rules.rules]
    assert bars.count("dataBar") == 2  # dwellings and investment; none drawn from the tenants' gain, a national flat rate
    # B's liasse (3 000 000 + 1 000 000 + 200 000) is placed in no EPCI: the « Non réparti » row, just
    # above « Ensemble », outside the table (no rank, never sorted among the territories)
    unplaced = ws.cell(toulouse[invest].row + 2, 2)
    assert unplaced.value == "Non réparti (données de niveau organisme)"
    assert ws.cell(unplaced.row, 1).value is None and ws.cell(unplaced.row, 3).value == "NON_REPARTI"
    assert ws.cell(unplaced.row, toulouse[invest].column).value == pytest.approx(4_200_000)
    total = ws.cell(unplaced.row + 1, 2)
    assert total.value == "Ensemble des organismes importés"
    assert ws.cell(total.row, toulouse[invest].column).value == pytest.approx(14_300_000)


# ─── Indicateurs, Par organisme ───

def test_indicateurs_values_formats_table(workbook, inputs):
    """The overview's matrix: one row per indicator, one column per territory (ranking's order),
    then Non réparti and the whole."""
    ws = workbook["Indicateurs"]
    rows = matrix(ws, "Indicateurs")
    assert ws.freeze_panes == "C5" and ws.print_title_cols == "$A:$B"
    toulouse, montpellier = column(rows, TOULOUSE_METROPOLE), column(rows, MONTPELLIER_METROPOLE)
    headers = list(next(iter(rows.values())))
    assert headers.index(toulouse) == 2 and headers[-1] == "Ensemble des organismes importés"  # the ranking's order
    eco01 = rows["ECO-01"]
    assert eco01[toulouse].value == pytest.approx(10_100_000) and "M€" in eco01[toulouse].number_format
    assert eco01[toulouse].font.color.rgb.endswith("C55A11")  # 84 % coverage: orange
    assert eco01["Indicateur"].value == "Investissement injecté (€)"
    assert rows["SOC-01"][toulouse].value == pytest.approx(3_803_970.6)
    assert rows["PV-01"][toulouse].value == pytest.approx(0.32) and '" "%' in rows["PV-01"][toulouse].number_format  # a true %, then the grade
    assert "0.00" in rows["SOC-04"][toulouse].number_format
    assert eco01[montpellier].value == "n.c." and eco01[montpellier].font.i
    assert eco01["Ensemble des organismes importés"].value == pytest.approx(14_300_000)
    # nothing lost: one cell per consolidated result of the exercice
    consolidated = inputs.computation.results.filter(pl.col("siren").is_null() & (pl.col("exercice") == 2025))
    territories = [h for h in headers[2:] if h != "Ensemble des organismes importés"]
    assert sum(r[h].value is not None for r in rows.values() for h in territories) == consolidated.height
    assert "--format csv" in ws["A2"].value  # where ranges, coverages and reasons of each result are


def test_indicateurs_grade_beside_every_figure(workbook):
    """Issue 14: each figure's evidence grade (fiabilite) as a raised letter of its number format,
    so that the cell keeps its number and the matrix its width; the grades' legend above."""
    ws = workbook["Indicateurs"]
    rows = matrix(ws, "Indicateurs")
    toulouse, montpellier = column(rows, TOULOUSE_METROPOLE), column(rows, MONTPELLIER_METROPOLE)
    eco01, soc01, eco10 = rows["ECO-01"][toulouse], rows["SOC-01"][toulouse], rows["ECO-10"][toulouse]
    assert eco01.value == pytest.approx(10_100_000) and eco01.number_format.endswith('"M€""ᴮ"')  # 84 % coverage: B
    assert soc01.value == pytest.approx(3_803_970.6) and soc01.number_format.endswith('"ᶜ"')  # a national flat rate: C
    assert eco10.value == pytest.approx(610_000) and eco10.number_format.endswith('"ᴬ"')  # measured, wholly covered: A
    assert rows["ECO-01"][montpellier].value == "n.c."  # no figure, no grade
    legend = ws["A2"].value
    assert "Lettre en exposant après chaque chiffre (ᴬ, ᴮ, ᶜ) : sa fiabilité" in legend
    assert all(text in legend for text in GRADES.values())


def test_indicateurs_of_many_territories_one_row_per_territory(inputs, tmp_path, monkeypatch):
    """Beyond MATRIX_MAX_COLUMNS territories (a national overview), one row per territory."""
    monkeypatch.setattr(tables, "MATRIX_MAX_COLUMNS", 1)
    ws = load_workbook(write_report(tmp_path / "r.xlsx", inputs).path)["Indicateurs"]
    rows = table_rows(ws, "Indicateurs")
    assert list(rows[0])[:2] == ["Territoire", "Code territoire"]
    assert [r["Code territoire"].value for r in rows][:1] == [TOULOUSE_METROPOLE]
    eco01 = next(h for h in rows[0] if h.endswith("\nECO-01"))
    assert rows[0][eco01].value == pytest.approx(10_100_000) and rows[-1]["Territoire"].value == "Ensemble des organismes importés"


def by_code(rows: list[dict]) -> dict[str, str]:
    """Indicator code → its column header in the wide Par organisme table (« libellé (unité)\nCODE »)."""
    return {h.rsplit("\n", 1)[1]: h for h in rows[0] if "\n" in h}


def test_par_organisme_one_column_per_organisation_and_territory(workbook, inputs):
    rows = matrix(workbook["Par organisme"], "Par_organisme")
    headers = list(next(iter(rows.values())))
    assert headers[:2] == ["Code", "Indicateur"]
    assert rows["ECO-10"]["Indicateur"].value == "Fiscalité locale versée (TFPB) (€)"
    # the ranking's order (Toulouse first), then dwellings: A (1 050) before B (200)
    assert headers[2:5] == [f"Toulouse Métropole\nHabitat Test A\n{SIREN_A}", f"Toulouse Métropole\nLogis Test B\n{SIREN_B}",
                            f"Montpellier Méditerranée Métropole\nLogis Test B\n{SIREN_B}"]
    a, b, c = headers[2:5]
    # each organisation's part of Toulouse's 610 000 € of TFPB: 400 000 + 120 000 (A), 90 000 (B)
    assert (rows["ECO-10"][a].value, rows["ECO-10"][b].value) == (pytest.approx(520_000), pytest.approx(90_000))
    assert "€" in rows["ECO-10"][a].number_format
    assert (rows["TER-00"][a].value, rows["TER-00"][b].value, rows["TER-00"][c].value) == (1050, 200, 500)
    assert rows["ECO-01"][a].value == pytest.approx(10_100_000)
    assert rows["ECO-01"][b].value == "n.c." and rows["ECO-01"][b].font.i  # no Production sheet, liasse not split
    # nothing lost: one cell per per-organisation result of the exercice
    results = inputs.computation.results.filter(pl.col("siren").is_not_null() & (pl.col("exercice") == 2025))
    assert sum(r[h].value is not None for r in rows.values() for h in headers[2:]) == results.height
    assert "--format csv" in workbook["Par organisme"]["A2"].value  # where the long form with ranges and reasons is


def test_par_organisme_of_many_pairs_one_row_per_organisation_and_territory(inputs, tmp_path, monkeypatch):
    from acterr_cli.outputs.reports import by_organisation

    monkeypatch.setattr(by_organisation, "MAX_COLUMNS", 1)
    ws = load_workbook(write_report(tmp_path / "r.xlsx", inputs).path)["Par organisme"]
    rows = table_rows(ws, "Par_organisme")
    assert list(rows[0])[:4] == ["Territoire", "Organisme", "Code territoire", "SIREN"]
    col = by_code(rows)
    pairs = [(r["Code territoire"].value, r["SIREN"].value) for r in rows]
    assert pairs[:3] == [(TOULOUSE_METROPOLE, SIREN_A), (TOULOUSE_METROPOLE, SIREN_B), (MONTPELLIER_METROPOLE, SIREN_B)]
    assert rows[0][col["ECO-10"]].value == pytest.approx(520_000) and rows[0]["SIREN"].data_type == "s"
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.scale == 60
    assert (ws.print_title_cols, ws.print_title_rows) == ("$A:$B", "$4:$5")
    bands = {ws.cell(4, c).value for c in range(1, ws.max_column + 1)} - {None}
    assert bands == {"Valeur locale", "Plus-value sociale", "Environnement", "Gouvernance", "Contexte territorial"}


def test_a_very_large_table_is_a_filtered_range_with_the_same_cells(inputs, workbook, tmp_path, monkeypatch):
    """Above MAX_TABLE_CELLS (a national overview by EPCI) a table is written as its headers and a
    filter button per column, without the cost of an Excel table: the same cells, row for row."""
    from acterr_cli.outputs.reports import xlsx

    monkeypatch.setattr(xlsx, "MAX_TABLE_CELLS", 10)
    ws = load_workbook(write_report(tmp_path / "grand.xlsx", inputs).path)["Par organisme"]
    assert not ws.tables
    small = workbook["Par organisme"]
    ref = small.tables["Par_organisme"].ref
    assert ws.auto_filter.ref == ref
    assert [[c.value for c in row] for row in ws[ref]] == [[c.value for c in row] for row in small[ref]]


def test_par_organisme_name_columns_fit_their_names():
    from acterr_cli.outputs.reports.by_organisation import MAX_NAME_WIDTH, NAME_WIDTH, _name_width

    assert _name_width(NAME_WIDTH, len("Toulouse Métropole")) == NAME_WIDTH  # short names: the usual width
    assert _name_width(NAME_WIDTH, len("CA Grand Montauban Communauté d'agglo")) == 39  # 37 characters and a margin
    assert _name_width(NAME_WIDTH, 80) == MAX_NAME_WIDTH  # bounded: a dozen indicators still fit a page
    assert _name_width(NAME_WIDTH, 0) == NAME_WIDTH


def test_par_organisme_table_order_names_and_cell_kinds():
    from types import SimpleNamespace

    from acterr_cli.outputs.reports.by_organisation import COMPUTED, COMPUTED_PARTIAL, NOT_COMPUTED, organisation_table

    rows = [  # territory, name, SIREN, organisation, indicator, value, status, coverage
        ("1", "T1", "111", "Org A", "TER-00", 10.0, "calcule", 100.0),
        ("1", "T1", "222", "Org B", "TER-00", 50.0, "calcule", 100.0),
        ("1", "T1", "222", "Org B", "ECO-01", None, "calcule", 100.0),  # said computed, yet no value: n.c.
        ("2", "T2", "111", "Org A", "ECO-01", 5.0, "calcule", 50.0),  # partial coverage
        ("3", "", "333", "", "ECO-01", None, "non_calculable", 0.0),  # blank names: the codes instead
    ]
    frame = pl.DataFrame(rows, orient="row", schema=["code_territoire", "nom_territoire", "siren", "raison_sociale", "indicateur",
                                                      "valeur", "statut", "couverture"])
    data = SimpleNamespace(org_frame=frame, territories=[SimpleNamespace(code="2"), SimpleNamespace(code="1")])
    table = organisation_table(data, ["TER-00", "ECO-01"])
    # ranking's order (2, then 1, then the unranked 3), then dwellings there, largest first
    assert table.select("code_territoire", "siren", "territoire", "organisme").rows() == [
        ("2", "111", "T2", "Org A"), ("1", "222", "T1", "Org B"), ("1", "111", "T1", "Org A"), ("3", "333", "3", "333")]
    assert table.select("TER-00", "TER-00|k", "ECO-01", "ECO-01|k").rows() == [
        (None, None, 5.0, COMPUTED_PARTIAL), (50.0, COMPUTED, None, NOT_COMPUTED), (10.0, COMPUTED, None, None),
        (None, None, None, NOT_COMPUTED)]


def test_par_organisme_blank_nc_and_partial_cells(tmp_path):
    """Any set of indicators per organisation: a result missing for an organisation somewhere is a blank cell."""
    rows = hand_results([
        result(code_territoire="1", nom_territoire="Un", indicateur="TER-00", unite="logements", valeur=10.0),
        result(code_territoire="1", nom_territoire="Un"),
        result(code_territoire="1", nom_territoire="Un", siren="111", raison_sociale="X", indicateur="TER-00",
               unite="logements", valeur=10.0),
        result(code_territoire="1", nom_territoire="Un", siren="111", raison_sociale="X", valeur=700.0),
        result(code_territoire="1", nom_territoire="Un", siren="222", raison_sociale="Y", valeur=None, statut="non_calculable",
               couverture=0.0, motif="données manquantes"),
        result(code_territoire="2", nom_territoire="Deux", valeur=300.0),
        result(code_territoire="2", nom_territoire="Deux", siren="111", raison_sociale="X", valeur=300.0, couverture=50.0),
    ])
    wb = load_workbook(write_report(tmp_path / "r.xlsx", Computation("EPCI", rows, {})).path)
    table = matrix(wb["Par organisme"], "Par_organisme")
    assert list(table) == ["ECO-10", "TER-00"]  # the référentiel's order
    columns = list(table["ECO-10"])[2:]
    assert columns == ["Un\nX\n111", "Un\nY\n222", "Deux\nX\n111"]
    assert [table["ECO-10"][c].value for c in columns] == [700, "n.c.", 300]
    assert [table["TER-00"][c].value for c in columns] == [10, None, None]
    assert table["ECO-10"][columns[2]].font.color.rgb.endswith("C55A11")  # partial coverage: orange
    assert "C55A11" not in str(getattr(table["ECO-10"][columns[0]].font.color, "rgb", ""))


# ─── Parties prenantes ───

def stakeholder_rows(ws, name: str) -> list[dict]:
    """Rows of one stakeholder in the single Parties prenantes table (its name on every row)."""
    return [r for r in table_rows(ws, "Parties_prenantes") if r["Partie prenante"].value.split(" (")[0] == name]


def test_stakeholder_view(workbook):
    ws = workbook["Parties prenantes"]
    assert set(ws.tables) == {"Parties_prenantes"}  # one table: no section header can end a page alone
    rows = table_rows(ws, "Parties_prenantes")
    firsts = [r["Partie prenante"].value for r in rows if r["Partie prenante"].font.b]
    assert [f.split(" (")[0] for f in firsts] == ["Locataires", "Collectivités", "État et financeurs", "Entreprises locales", "Salariés"]
    assert re.fullmatch(r"Locataires \(\d+ calculés sur \d+\)", firsts[0])
    soc01 = find(stakeholder_rows(ws, "Locataires"), Code="SOC-01")
    assert soc01["Valeur"].value == pytest.approx(5_330_820.6) and "€" in soc01["Valeur"].number_format
    assert find(stakeholder_rows(ws, "Collectivités"), Code="ECO-10")["Valeur"].value == pytest.approx(840_000)
    referentiel = load_referentiel()
    expected = {i.code for i in referentiel.indicators if "salaries" in i.parties_prenantes}
    assert {r["Code"].value for r in stakeholder_rows(ws, "Salariés")} <= expected
    assert ws.page_setup.orientation == "portrait" and ws.print_title_rows == "$4:$4"


# ─── Graphiques ───

def test_charts_read_their_data_block(workbook):
    assert len(workbook["Graphiques"]._charts) >= 4
    series = chart_series(workbook, "Graphiques")
    assert series["Investissement injecté (€)"] == {"Toulouse Métropole": pytest.approx(10_100_000)}
    gain = series["Gain de pouvoir d'achat des locataires (€/an)"]
    assert list(gain) == ["Toulouse Métropole", "Montpellier Méditerranée Métropole"]  # largest first
    assert gain["Montpellier Méditerranée Métropole"] == pytest.approx(1_526_850)
    ac, de, fg = series["A à C (%)"], series["D ou E (%)"], series["F ou G (%)"]
    assert ac["Ensemble"] == pytest.approx(0.37791, abs=1e-5) and fg["Ensemble"] == pytest.approx(0.09302, abs=1e-5)
    assert ac["Toulouse Métropole"] + de["Toulouse Métropole"] + fg["Toulouse Métropole"] == pytest.approx(1)
    assert not any(name.startswith("Achats aux entreprises") for name in series)  # no Achats nor Salaries sheet: no spending by nature
    synthese = chart_series(workbook, "Synthèse")
    assert synthese["Gain de pouvoir d'achat des locataires (€/an)"]["Toulouse Métropole"] == pytest.approx(3_803_970.6)
    data = workbook[DATA_SHEET]
    assert all(name.startswith("Graphique_") for name in data.tables)


def test_evolution_chart_when_a_previous_exercice_exists(tmp_path):
    rows = hand_results([result(code_territoire="1", nom_territoire="A", exercice=2024, valeur=1000.0),
                         result(code_territoire="1", nom_territoire="A", exercice=2025, valeur=1100.0,
                                valeur_precedente=1000.0, variation=100.0, variation_pct=10.0)])
    national = hand_results([result(code_territoire="FR", nom_territoire="France", exercice=2025, valeur=1100.0,
                                    valeur_precedente=1000.0, variation=100.0, variation_pct=10.0, niveau="FRANCE")])
    written = write_report(tmp_path / "r.xlsx", ReportInputs(Computation("EPCI", rows, {}), Computation("FRANCE", national, {})))
    wb = load_workbook(written.path)
    series = chart_series(wb, "Graphiques")
    assert series["Évolution 2024 → 2025 (%)"] == {"TFPB versée": pytest.approx(0.1)}  # the catalogue's short label
    cell = named(wb, "acterr_ECO_10")
    assert cell.offset(column=4).value == pytest.approx(0.1) and "+" in cell.offset(column=4).number_format  # after Fiabilité
    indicators = matrix(wb["Indicateurs"], "Indicateurs")
    assert indicators["ECO-10"]["A\n1"].value == pytest.approx(1100.0)
    # N-1 beside N, and the change (a true percentage: + 10 % is 0.1)
    assert indicators["ECO-10"]["Ensemble — exercice 2024"].value == pytest.approx(1000.0)
    assert indicators["ECO-10"]["Évolution de l'ensemble"].value == pytest.approx(0.1)
    stakeholders = stakeholder_rows(wb["Parties prenantes"], "Collectivités")
    assert find(stakeholders, Code="ECO-10")["Exercice 2024"].value == pytest.approx(1000.0)


def test_without_previous_exercice_the_sheets_say_so(workbook):
    for sheet in ("Indicateurs", "Parties prenantes"):
        assert "exercice précédent non importé" in workbook[sheet]["A2"].value, sheet


# ─── Qualité des données ───

def test_quality_sheet(workbook, inputs):
    ws = workbook["Qualité des données"]
    coverage = table_rows(ws, "Qualite_indicateurs")
    eco01 = find(coverage, Code="ECO-01")
    assert eco01["Couverture min. (%)"].value == pytest.approx(0.84)
    assert eco01["Non calculables"].value == 1 and eco01["Résultats (territoires)"].value == 2
    assert "aucun organisme présent ne fournit" in eco01["Motifs de non-calcul (et où)"].value
    assert "Montpellier Méditerranée Métropole" in eco01["Motifs de non-calcul (et où)"].value
    assert find(coverage, Code="ECO-10")["Non calculables"].value == 0
    # each indicator's evidence grade (fiabilite) beside its coverage, with the grades' legend under the table
    assert re.search(r" — fiabilité ([ABC]|[ABC] ×\d+(, [ABC] ×\d+)+)$", eco01["Indicateur"].value), eco01["Indicateur"].value
    assert any(str(c.value).startswith("Fiabilité — A : ") for row in ws.iter_rows() for c in row if c.value)
    [warning] = table_rows(ws, "Avertissements_import")
    assert warning["Avertissement"].value == "=surface douteuse" and warning["Avertissement"].data_type == "s"
    assert (warning["Feuille"].value, warning["Cellule"].value, warning["Organisme"].value) == ("Patrimoine", "E7", "Logis Test B")
    # B's liasse says 12,5 ETP, its Organisme sheet 12 (the liasse wins)
    etp = find(table_rows(ws, "Ecarts_liasse_questionnaire"), SIREN=SIREN_B)
    assert (etp["Liasse"].value, etp["Questionnaire"].value) == (12.5, 12)
    assert etp["Écart (%)"].value == pytest.approx(0.04) and "la liasse est retenue" in etp["Constat"].value


def test_quality_coverage_table_header_on_every_printed_page(workbook, inputs, tmp_path, monkeypatch):
    """No orphan header: the coverage table's header repeats on each printed page, and the table
    starts a page when too little room is left under what precedes it."""
    ws = workbook["Qualité des données"]
    header = range_boundaries(dict(ws.tables.items())["Qualite_indicateurs"])[1]
    assert ws.print_title_rows == f"${header}:${header}"
    assert not ws.row_breaks.brk  # a short sheet above it: the table goes on under it
    monkeypatch.setattr(quality, "TABLE_START_ROOM", 10_000)  # as if the page were nearly full
    moved = load_workbook(write_report(tmp_path / "r.xlsx", inputs).path)["Qualité des données"]
    assert [b.id for b in moved.row_breaks.brk] == [header - 2]  # the break above the section's title


def test_quality_shows_liasse_questionnaire_differences(inputs, tmp_path):
    check = {"siren": SIREN_B, "raison_sociale": "Logis Test B", "exercice": 2025, "champ": "logements",
             "libelle": "Logements au 31 décembre", "liasse": 700.0, "questionnaire": 650.0, "ecart_pct": 7.7,
             "message": "Logements au 31 décembre : la liasse (700) et le questionnaire (650) diffèrent de plus de 1 %."}
    computation = Computation("EPCI", inputs.computation.results, {**inputs.computation.meta, "controles": [check]})
    wb = load_workbook(write_report(tmp_path / "r.xlsx", ReportInputs(computation)).path)
    [row] = table_rows(wb["Qualité des données"], "Ecarts_liasse_questionnaire")
    assert (row["Liasse"].value, row["Questionnaire"].value, row["Écart (%)"].value) == (700, 650, 0.077)


# ─── Méthodologie, Paramètres, Sources ───

def test_methodology_lists_the_whole_referentiel(workbook, inputs):
    referentiel = load_referentiel()
    indicators = table_rows(workbook["Méthodologie"], "Referentiel_indicateurs")
    assert [r["Code"].value for r in indicators] == [i.code for i in referentiel.indicators]
    eco06 = find(indicators, Code="ECO-06")
    assert "basse : " in find(indicators, Code="SOC-01")["Formule (centrale ; basse et haute si différentes)"].value
    assert "Entreprises locales" in eco06["Parties prenantes"].value
    params = table_rows(workbook["Paramètres"], "Parametres")
    assert {r["Paramètre"].value for r in params} == set(referentiel.parameters)
    loyer = find(params, **{"Paramètre": "avantage_loyer_national_mois"})
    assert (loyer["Basse"].value, loyer["Centrale"].value, loyer["Haute"].value) == (227, 261, 261)
    for r in params:
        flagged = r["Statut"].value in ("hypothèse", "à vérifier")
        assert (r["Statut"].fill.fgColor.rgb not in (None, "00000000")) == flagged, r["Paramètre"].value
    assert {r["Mesure"].value for r in table_rows(workbook["Paramètres"], "Mesures_derivees")} == {m.nom for m in referentiel.measures}
    inputs_table = table_rows(workbook["Sources"], "Fichiers_entree")
    assert {r["SHA-256"].value for r in inputs_table} == {u["sha256"] for u in inputs.computation.meta["entrees"]}
    assert {r["Fichier"].value for r in inputs_table} == {"org_a.xlsx", "org_b.xlsx", "liasse.csv"}
    texts = {c.value for c in all_cells(workbook) if c.parent.title == "Méthodologie" and isinstance(c.value, str)}
    assert inputs.computation.meta["territoires"] in texts


def test_methodology_describes_the_referentiel_used(espace, tmp_path):
    user = tmp_path / "mon_referentiel.toml"
    user.write_text('[meta]\ndescription = "Loyer de marché local"\n\n[[parametre]]\nnom = "avantage_loyer_national_mois"\n'
                    'centrale = 240\nhaute = 270\n', encoding="utf-8")
    referentiel = load_referentiel(surcharges=[user])
    computation = api.compute_level(espace, "EPCI", store=False, referentiel=referentiel)
    wb = load_workbook(write_report(tmp_path / "r.xlsx", computation, referentiel=referentiel).path)
    loyer = find(table_rows(wb["Paramètres"], "Parametres"), **{"Paramètre": "avantage_loyer_national_mois"})
    assert (loyer["Centrale"].value, loyer["Haute"].value) == (240, 270)
    # what the file changed is said beside the source, the rest being the shipped référentiel's
    assert loyer["Source"].value.endswith("[modifié par mon_referentiel.toml : centrale, haute ; le reste : référentiel livré]")
    texts = [c.value for c in all_cells(wb) if c.parent.title == "Méthodologie" and isinstance(c.value, str)]
    assert "mon_referentiel.toml — Loyer de marché local" in texts
    files = table_rows(wb["Sources"], "Fichiers_referentiel")
    assert [r["Fichier"].value for r in files] == ["catalogue.toml", "parametres.toml", "mon_referentiel.toml"]
    indicators = matrix(wb["Indicateurs"], "Indicateurs")
    assert indicators["SOC-01"][column(indicators, MONTPELLIER_METROPOLE)].value == pytest.approx(500 * 0.975 * 240 * 12)  # occupied dwellings (liasse vacancy 2,5 %)


# ─── the territory and the organisation reports ───

def test_territory_report(territory_book):
    written, wb = territory_book
    assert written.perimetre == "territoire" and written.sujet == "Toulouse Métropole"
    assert wb.sheetnames[:3] == ["Synthèse", "Graphiques", "Organismes"]
    assert named(wb, "acterr_titre").value == "Toulouse Métropole — valeur créée par les organismes Hlm, exercice 2025"
    assert named(wb, "acterr_ECO_10").value == pytest.approx(610_000)
    assert named(wb, "acterr_ECO_01").value == pytest.approx(10_100_000)
    assert named(wb, "acterr_ECO_01").offset(column=2).font.color.rgb.endswith("C55A11")  # 84 % coverage
    orgs = table_rows(wb["Organismes"], "Organismes")
    assert [r["Organisme"].value for r in orgs] == ["Habitat Test A", "Logis Test B"]  # 1 050 then 200 dwellings
    tfpb = next(k for k in orgs[0] if k.startswith("TFPB"))
    assert (orgs[0][tfpb].value, orgs[1][tfpb].value) == (520_000, 90_000)
    per_org = matrix(wb["Par organisme"], "Par_organisme")
    assert list(per_org["TER-00"])[2:] == [f"Habitat Test A\n{SIREN_A}", f"Logis Test B\n{SIREN_B}"]  # one territory: no territory
    assert per_org["TER-00"][f"Logis Test B\n{SIREN_B}"].value == 200
    assert f"--code {TOULOUSE_METROPOLE}" in wb["Par organisme"]["A2"].value
    series = chart_series(wb, "Synthèse")  # by organisation: 1 050 × 0,971 × 261 × 12 and 200 × 0,975 × 261 × 12
    assert series["Gain de pouvoir d'achat des locataires (€/an)"] == {"Habitat Test A": pytest.approx(3_193_230.6),
                                                                       "Logis Test B": pytest.approx(610_740)}
    # the quality sheet gives the coverage the figures have (84 % for ECO-01), not the organisations' own 100 %
    quality = find(table_rows(wb["Qualité des données"], "Qualite_indicateurs"), Code="ECO-01")
    assert quality["Couverture min. (%)"].value == quality["Couverture max. (%)"].value == pytest.approx(1050 / 1250)


def test_territory_report_places_the_territory_in_its_region(territory_book):
    _, wb = territory_book
    ws = wb["Organismes"]
    [title] = [c for c in ws["B"] if c.value == "Toulouse Métropole dans la région Occitanie"]
    lines = {ws.cell(r, 1).value: r for r in range(title.row + 2, title.row + 12) if ws.cell(r, 1).value}
    dwellings = lines["Logements sociaux des organismes importés (TER-00)"]
    # Toulouse 1 250 dwellings (A 1 050, B 200), Montpellier 500: 1 250 / 1 750, first of two
    assert ws.cell(dwellings, 3).value == 1250 and ws.cell(dwellings, 4).value == 1750
    assert ws.cell(dwellings, 5).value == pytest.approx(1250 / 1750) and "%" in ws.cell(dwellings, 5).number_format
    assert ws.cell(dwellings, 6).value == "1er sur 2"
    ratio = next(r for label, r in lines.items() if label.endswith("(PV-01)"))
    assert ws.cell(ratio, 4).value is None and ws.cell(ratio, 5).value is None  # a rate is ranked, never summed


def test_quality_lists_what_to_ask_each_organisation(territory_book):
    """Logis Test B has no Production sheet (its liasse gives its investment): the dwellings it
    started are asked of it, sheet by sheet, with the indicators they would make computable."""
    _, wb = territory_book
    ws = wb["Qualité des données"]
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value) for r in range(1, ws.max_row + 1)]
    asks = [(siren, text) for siren, name, text in rows if siren == SIREN_B and isinstance(text, str) and "→" in text]
    production = [text for _, text in asks if text.startswith("feuille Production")]
    assert production == ["feuille Production : Logements mis en chantier\n→ 1 indicateur : Emplois du bâtiment par "
                          "logement construit ou réhabilité (ECO-07)"]
    assert not any(siren == SIREN_A and "feuille Production" in (text or "") for siren, _, text in rows)


def test_organisation_report(organisation_book):
    written, wb = organisation_book
    assert written.perimetre == "organisme" and written.sujet == "Logis Test B"
    assert "Par organisme" not in wb.sheetnames and wb.sheetnames[2] == "Territoires"
    # the organisation's own totals: its liasse counts for the whole organisation
    assert named(wb, "acterr_ECO_01").value == pytest.approx(4_200_000)
    assert named(wb, "acterr_ECO_10").value == pytest.approx(320_000)
    assert named(wb, "acterr_TER_00").value == 700
    places = table_rows(wb["Territoires"], "Territoires")
    assert [r["Territoire"].value for r in places] == ["Montpellier Méditerranée Métropole", "Toulouse Métropole"]
    rows = table_rows(wb["Indicateurs"], "Indicateurs")
    eco10 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "ECO-10"})
    assert eco10["Valeur"].value == pytest.approx(90_000)
    assert eco10["Fiabilité"].value == "A" and GRADES["A"] in wb["Indicateurs"]["A2"].value  # the grade beside, its legend above


def test_unknown_territory_or_organisation_is_a_usage_error(inputs, tmp_path):
    with pytest.raises(UsageError, match="200054807"):
        write_report(tmp_path / "x.xlsx", inputs, scope=Scope.territory("200054807"))
    with pytest.raises(UsageError, match="Habitat Test A"):
        write_report(tmp_path / "y.xlsx", inputs, scope=Scope.organisation("123456789"))
    assert not list(tmp_path.iterdir())


# ─── user strings stay text ───

def hand_results(rows: list[dict]) -> pl.DataFrame:
    base = {k: None for k in RESULT_SCHEMA}
    schema = {**RESULT_SCHEMA, "valeur_precedente": pl.Float64, "variation": pl.Float64, "variation_pct": pl.Float64}
    return pl.DataFrame([{**base, "valeur_precedente": None, "variation": None, "variation_pct": None, **r} for r in rows], schema=schema)


def result(**kw) -> dict:
    return {"indicateur": "ECO-10", "libelle": "Fiscalité locale versée (TFPB)", "axe": "ECO", "registre": "valeur_locale",
            "niveau": "EPCI", "exercice": 2025, "valeur": 1000.0, "valeur_basse": 1000.0, "valeur_haute": 1000.0,
            "unite": "€", "couverture": 100.0, "nb_organismes": 1, "nb_organismes_calcules": 1, "statut": "calcule", **kw}


EVIL_NAME = '=HYPERLINK("http://x","y")'


def test_user_strings_never_become_formulas(tmp_path):
    rows = hand_results([
        result(code_territoire="+33", nom_territoire="-2+3", indicateur="TER-00", unite="logements", valeur=10.0),
        result(code_territoire="+33", nom_territoire="-2+3"),
        result(code_territoire="+33", nom_territoire="-2+3", siren="@123", raison_sociale=EVIL_NAME),
        result(code_territoire="+33", nom_territoire="-2+3", indicateur="ECO-01", libelle="Investissement injecté",
               valeur=None, valeur_basse=None, valeur_haute=None, statut="non_calculable", couverture=0.0,
               motif="=1+1", note="@SUM(A1)"),
    ])
    meta = {"referentiel": {"nom": "=cmd", "version": "+1"}, "territoires": "-COG",
            "entrees": [{"type": "questionnaire", "siren": "@123", "exercice": 2025, "raison_sociale": EVIL_NAME,
                         "fichier": "=evil.xlsx", "sha256": "-abc", "importe_le": "2026-01-01T00:00:00+00:00"}]}
    written = write_report(tmp_path / "r.xlsx", Computation("EPCI", rows, meta))
    wb = load_workbook(written.path)
    assert not [(c.parent.title, c.coordinate) for c in all_cells(wb) if c.data_type == "f"]
    evil = [c for c in all_cells(wb) if isinstance(c.value, str) and EVIL_NAME in c.value.split("\n")]  # alone, or a header line
    assert {c.parent.title for c in evil} >= {"Par organisme", "Sources"}
    assert all(c.data_type == "s" for c in evil)
    for text in ("-2+3", "+33", "=evil.xlsx", "-COG", "@123"):
        cells = [c for c in all_cells(wb) if c.value == text]
        assert cells and all(c.data_type == "s" for c in cells), text


# ─── exercice, atomicity, edge cases ───

def test_latest_exercice_by_default_and_unknown_exercice(tmp_path):
    rows = hand_results([result(code_territoire="1", nom_territoire="A", exercice=2024, valeur=1.0),
                         result(code_territoire="1", nom_territoire="A", exercice=2025, valeur=2.0)])
    computation = Computation("EPCI", rows, {})
    assert write_report(tmp_path / "r.xlsx", computation).exercice == 2025
    older = write_report(tmp_path / "r2024.xlsx", computation, 2024)
    assert matrix(load_workbook(older.path)["Indicateurs"], "Indicateurs")["ECO-10"]["A\n1"].value == 1.0
    with pytest.raises(InputMissingError, match="2023"):  # missing input, code 4 (as compute)
        write_report(tmp_path / "r2023.xlsx", computation, 2023)
    assert not (tmp_path / "r2023.xlsx").exists()


def test_empty_results_still_give_a_report(tmp_path):
    written = write_report(tmp_path / "vide.xlsx", Computation("EPCI", pl.DataFrame(schema=RESULT_SCHEMA), {}))
    assert written.exercice is None
    wb = load_workbook(written.path)
    assert wb.sheetnames[0] == "Synthèse"
    assert table_rows(wb["Méthodologie"], "Referentiel_indicateurs")


def test_writing_is_atomic(tmp_path, inputs, monkeypatch):
    target = tmp_path / "rapport.xlsx"
    write_report(target, inputs)
    write_report(target, inputs)  # replaces the previous one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]
    before = target.read_bytes()

    def broken(wb, data, fmt):
        raise RuntimeError("panne au milieu de l'écriture")

    monkeypatch.setattr(quality, "write", broken)
    with pytest.raises(RuntimeError):
        write_report(target, inputs)
    assert target.read_bytes() == before  # the old report is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]  # no temporary file left


def test_tables_longer_than_excel_allows_are_cut_with_a_note(tmp_path, inputs, monkeypatch):
    monkeypatch.setattr(tables, "EXCEL_MAX_ROWS", 5)  # header on row 4: 1 data row fits
    monkeypatch.setattr(tables, "MATRIX_MAX_COLUMNS", 1)  # one row per territory
    ws = load_workbook(write_report(tmp_path / "r.xlsx", inputs).path)["Indicateurs"]
    assert len(table_rows(ws, "Indicateurs")) == 1
    assert "Tableau tronqué à 1 lignes sur " in ws["A2"].value


def test_par_organisme_longer_than_excel_allows_is_cut_with_a_note(tmp_path, inputs, monkeypatch):
    from acterr_cli.outputs.reports import by_organisation

    monkeypatch.setattr(tables, "EXCEL_MAX_ROWS", 8)  # header on row 5, legend two rows below the table: 1 line fits
    monkeypatch.setattr(by_organisation, "MAX_COLUMNS", 1)  # one row per organisation and territory
    ws = load_workbook(write_report(tmp_path / "r.xlsx", inputs).path)["Par organisme"]
    assert len(table_rows(ws, "Par_organisme")) == 1
    assert "Tableau tronqué à 1 lignes sur 3 " in ws["A2"].value


# ─── units ───

def test_percentages_are_true_numbers_in_every_sheet(workbook):
    """A percentage is a fraction under a percent format (35,4 % is 0.354), never 35.4 with a « % »
    suffix: a reader's own formula or chart on the cell is right. Per-mille keeps its value in ‰."""
    indicators = matrix(workbook["Indicateurs"], "Indicateurs")
    pv01 = indicators["PV-01"][column(indicators, TOULOUSE_METROPOLE)]
    assert pv01.value == pytest.approx(0.32) and "%" in re.sub(r'"[^"]*"', "", pv01.number_format)  # a % outside quotes
    assert number_format("‰").endswith('"‰"')  # no per-mille format that scales: the value stays in ‰
    suffixed = [(ws.title, cell.coordinate) for ws in workbook.worksheets for line in ws.iter_rows() for cell in line
                if isinstance(cell.value, (int, float)) and any("%" in q for q in re.findall(r'"([^"]*)"', cell.number_format))]
    assert suffixed == []
    fractions = [cell.value for ws in workbook.worksheets for line in ws.iter_rows() for cell in line
                 if isinstance(cell.value, (int, float)) and re.search(r'%("[ᴬᴮᶜ]")?$', cell.number_format) and "pt" not in cell.number_format]
    assert fractions and all(-10 <= v <= 10 for v in fractions)  # shares and changes, not hundreds


@pytest.mark.parametrize("unit, expected", [
    ("€", '#,##0 "€"'), ("€/an", '#,##0 "€"'), ("€/m²/mois", '#,##0.00 "€"'), ("%", '#,##0.0" "%'),
    ("‰", '#,##0.00 "‰"'), ("ETP", "#,##0.0"), ("ETP-année", "#,##0"), ("logements", "#,##0"),
])
def test_number_formats_are_french(unit, expected):
    assert number_format(unit) == "[$-40C]" + expected


def test_only_additive_units_are_totalled():
    assert all(is_additive(u) for u in ("€", "€/an", "ETP", "ETP-année", "logements", "ménages"))
    assert not any(is_additive(u) for u in ("%", "‰", "€/m²/mois", "€/logt", "€/mois", "€/hab", "ratio", "", None))


def test_range_text_is_french():
    from acterr_cli.outputs.reports.xlsx import range_text, short_text

    assert range_text(4_200_000, 5_481_000, "€/an") == "4,2 – 5,5 M€"
    assert range_text(591.2, 1004.4, "ETP-année") == f"591 – 1{NBSP}004 ETP-année"
    assert range_text(5.0, 5.0, "€") == ""
    assert short_text(34.2857, "%") == "34,3 %"
    assert range_text(1.86, 2.07, "ratio") == "1,86 – 2,07" and short_text(1.95, "ratio") == "1,95"  # a ratio has no unit word
    assert re.fullmatch(r"14,3 M€", short_text(14_300_000, "€"))
