"""The board workbook, read back by content (values, formats, tables, charts), not by bytes.

Expected figures are those of the hand-checkable fixture (builders.py docstring), at EPCI level:
Toulouse Métropole (243100518) holds A's 1 050 dwellings and B's 200 in Toulouse; Montpellier
Méditerranée Métropole (243400017) holds B's other 500.
- ECO-01 Toulouse: A's Production sheet, 6 000 000 + 2 000 000 + 500 000 + 1 500 000 + 0 + 100 000
  = 10 100 000 € (B has no Production sheet and its liasse totals cannot be split: partial, 84 %);
  Montpellier: non calculable.
- ECO-10 Toulouse: 400 000 + 120 000 (A) + 90 000 (B) = 610 000 €; Montpellier 230 000 €; total 840 000 €.
- SOC-01 (no market rent: national flat rate 225 €/month): Toulouse 1 250 × 225 × 12 = 3 375 000 €/an,
  Montpellier 500 × 225 × 12 = 1 350 000 €/an, total 4 725 000 €/an.
"""

import re
import sys
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

sys.path.insert(0, str(Path(__file__).parent))

from builders import MONTPELLIER_METROPOLE, SIREN_A, TOULOUSE_METROPOLE, write_all  # noqa: E402

from acterr_cli import api  # noqa: E402
from acterr_cli.engine.compute import RESULT_SCHEMA  # noqa: E402
from acterr_cli.engine.run import Computation  # noqa: E402
from acterr_cli.errors import UsageError  # noqa: E402
from acterr_cli.outputs import excel_report  # noqa: E402
from acterr_cli.outputs.excel_report import SHEETS, is_additive, number_format, write_report  # noqa: E402
from acterr_cli.referentiel.model import load_referentiel  # noqa: E402

TOTAL = "Total (ensemble des territoires)"


@pytest.fixture(scope="module")
def computation(tmp_path_factory) -> Computation:
    root = tmp_path_factory.mktemp("rapport")
    espace = root / "espace"
    report = api.import_paths(espace, write_all(root / "entrees"))
    assert not report.refused, report.to_dict()
    return api.compute_level(espace, "EPCI")


@pytest.fixture(scope="module")
def written(computation, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sortie")
    return write_report(folder / "rapport.xlsx", computation)


@pytest.fixture(scope="module")
def workbook(written):
    return load_workbook(written.path)


def table_rows(ws, name: str) -> list[dict]:
    """Rows of a named Excel table as dicts (header → cell)."""
    ref = dict(ws.tables.items())[name]
    cells = list(ws[ref])
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, row, strict=True)) for row in cells[1:]]


def find(rows: list[dict], **criteria) -> dict:
    hits = [r for r in rows if all(r[k].value == v for k, v in criteria.items())]
    assert len(hits) == 1, (criteria, len(hits))
    return hits[0]


def all_cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from (c for c in row if c.value is not None)


# ─── structure ───

def test_sheets_properties_and_print_setup(written, workbook):
    assert written.sheets == list(SHEETS) == workbook.sheetnames
    assert written.exercice == 2025
    assert workbook.properties.creator == "acterr"
    assert workbook.properties.title == "Valeur créée par les organismes Hlm — par EPCI, exercice 2025"
    assert workbook.properties.subject
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert "&P / &N" in ws.oddFooter.center.text, ws.title
        assert "&A" in ws.oddHeader.right.text, ws.title
        assert ws.print_title_rows, ws.title


def test_no_formula_anywhere(workbook):
    assert not [c.coordinate for c in all_cells(workbook) if c.data_type == "f"]


def test_file_opens_with_calamine(written, computation):
    reader = fastexcel.read_excel(written.path)
    assert reader.sheet_names == list(SHEETS)
    frame = reader.load_sheet_by_name("Indicateurs", header_row=3).to_polars()
    assert {"Code territoire", "Valeur", "Unité", "Couverture (%)"} <= set(frame.columns)
    assert frame.height == computation.results.filter(pl.col("siren").is_null()).height


# ─── Indicateurs, Par organisme ───

def test_indicateurs_values_formats_table(workbook):
    ws = workbook["Indicateurs"]
    rows = table_rows(ws, "Indicateurs")
    assert ws.freeze_panes == "C5"
    eco01 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "ECO-01"})
    assert eco01["Valeur"].value == pytest.approx(10_100_000)
    assert "€" in eco01["Valeur"].number_format
    assert eco01["Couverture (%)"].value == pytest.approx(84.0)
    assert eco01["Statut"].value == "calculé"
    assert "partiel" in eco01["Motif / note"].value
    eco10 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "ECO-10"})
    assert eco10["Valeur"].value == pytest.approx(610_000) and "€" in eco10["Valeur"].number_format
    soc01 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "SOC-01"})
    assert soc01["Valeur"].value == pytest.approx(3_375_000)
    assert soc01["Basse"].value == pytest.approx(3_000_000) and soc01["Haute"].value == pytest.approx(3_915_000)
    assert "€" in soc01["Basse"].number_format and soc01["Unité"].value == "€/an"
    assert soc01["Registre"].value == "Plus-value sociale"
    pv01 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "PV-01"})
    assert pv01["Valeur"].value == pytest.approx(32.0)  # already in percent, not × 100
    assert '"%"' in pv01["Valeur"].number_format
    soc04 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "Code indicateur": "SOC-04"})
    assert "0.00" in soc04["Valeur"].number_format
    missing = find(rows, **{"Code territoire": MONTPELLIER_METROPOLE, "Code indicateur": "ECO-01"})
    assert missing["Valeur"].value is None and missing["Statut"].value == "non calculable"
    assert missing["Motif / note"].value.startswith("aucun organisme présent ne fournit")
    assert missing["Code territoire"].data_type == "s"  # codes stay text


def test_par_organisme(workbook):
    rows = table_rows(workbook["Par organisme"], "Par_organisme")
    a = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "SIREN": SIREN_A, "Code indicateur": "ECO-01"})
    assert a["Raison sociale"].value == "Habitat Test A"
    assert a["Valeur"].value == pytest.approx(10_100_000) and "€" in a["Valeur"].number_format
    assert a["SIREN"].data_type == "s"
    a10 = find(rows, **{"Code territoire": TOULOUSE_METROPOLE, "SIREN": SIREN_A, "Code indicateur": "ECO-10"})
    assert a10["Valeur"].value == pytest.approx(520_000)
    assert {r["SIREN"].value for r in rows} == {SIREN_A, "900000019"}


# ─── Synthèse ───

def synthese_blocks(ws) -> list[dict]:
    """Each territory block: {ledger band, columns (col → (code, unit)), rows (label → row cells)}."""
    blocks, current, band = [], None, ""
    header = re.compile(r"^(\S+) — .* \((.+)\)$")
    for row in ws.iter_rows():
        first = row[0].value
        cols = {c.column: header.match(c.value).groups() for c in row if isinstance(c.value, str) and header.match(c.value)}
        if cols:
            current = {"band": band, "columns": cols, "rows": {}}
            blocks.append(current)
        elif isinstance(first, str) and first.startswith(("Valeur locale —", "Plus-value sociale —", "Environnement —")):
            band, current = first, None
        elif current is not None and first and not cols:
            current["rows"][first] = {c.column: c for c in row}
    return blocks


def test_synthese_ledgers_side_by_side_never_added(workbook):
    ws = workbook["Synthèse"]
    texts = [c.value for c in all_cells(workbook) if c.parent.title == "Synthèse" and isinstance(c.value, str)]
    assert texts[0] == "Valeur créée par les organismes Hlm — par EPCI, exercice 2025"
    assert any("ne s'additionnent jamais" in t for t in texts)
    assert "2 organisme(s) Hlm, 2 territoire(s) (EPCI)" in texts
    bands = [t for t in texts if t.startswith(("Valeur locale —", "Plus-value sociale —", "Environnement —"))]
    assert bands[:3] == [
        "Valeur locale — investissement, emplois et fiscalité qui restent sur le territoire",
        "Plus-value sociale — gains des locataires, accès au logement, politique de la ville",
        "Environnement — performance énergétique du parc",
    ]
    blocks = synthese_blocks(ws)
    by_code = {code: (b, col) for b in blocks for col, (code, _) in b["columns"].items() if b["rows"].get("Toulouse Métropole")}
    # the ECO and SOC/PV codes never share a block
    for b in blocks:
        ledgers = {code.split("-")[0] in ("ECO",) for code, _ in b["columns"].values()}
        assert len(ledgers) == 1
    block, col = by_code["ECO-01"]
    cell = block["rows"]["Toulouse Métropole"][col]
    assert cell.value == pytest.approx(10_100_000) and "€" in cell.number_format
    assert block["rows"]["Montpellier Méditerranée Métropole"][col].value == "n.c."
    total = block["rows"][TOTAL]
    assert total[col].value == pytest.approx(10_100_000) and total[col + 2].value == "partiel"
    block, col = by_code["ECO-10"]
    assert block["rows"][TOTAL][col].value == pytest.approx(840_000)
    assert block["rows"][TOTAL][col + 2].value == "100 %"
    block, col = by_code["SOC-01"]
    assert block["rows"]["Toulouse Métropole"][col].value == pytest.approx(3_375_000)
    assert block["rows"][TOTAL][col].value == pytest.approx(4_725_000)


def test_synthese_never_sums_a_ratio(workbook):
    blocks = synthese_blocks(workbook["Synthèse"])
    checked = 0
    for b in blocks:
        total = b["rows"].get(TOTAL)
        if total is None:
            continue
        for col, (code, unit) in b["columns"].items():
            if not is_additive(unit):
                assert not isinstance(total[col].value, (int, float)), (code, total[col].value)
                checked += 1
    assert checked >= 3  # SOC-04, PV-01, SOC-13 at least
    # the environment block holds only ratios: no total row at all
    env = [b for b in blocks if b["band"].startswith("Environnement")]
    assert env and TOTAL not in env[0]["rows"]


def test_synthese_organisation_table(workbook):
    blocks = synthese_blocks(workbook["Synthèse"])
    orgs = [b for b in blocks if "Habitat Test A" in b["rows"]]
    assert orgs
    eco = next(b for b in orgs if any(code == "ECO-10" for code, _ in b["columns"].values()))
    col = next(c for c, (code, _) in eco["columns"].items() if code == "ECO-10")
    assert eco["rows"]["Habitat Test A"][col].value == pytest.approx(520_000)
    assert eco["rows"]["Logis Test B"][col].value == pytest.approx(320_000)  # 90 000 Toulouse + 230 000 Montpellier
    assert eco["rows"]["Logis Test B"][col + 2].value == "2 / 2"
    for b in orgs:
        assert all(is_additive(unit) for _, unit in b["columns"].values())


# ─── Graphiques ───

def test_charts_reference_the_data_block(workbook):
    ws = workbook["Graphiques"]
    assert len(ws._charts) >= 2
    found = {}
    for chart in ws._charts:
        for series in chart.series:
            for ref in (series.tx.strRef.f, series.val.numRef.f, series.cat.strRef.f):
                assert ref.startswith("Graphiques!"), ref
            [name] = cell_values(ws, series.tx.strRef.f)
            found[name] = dict(zip(cell_values(ws, series.cat.strRef.f), cell_values(ws, series.val.numRef.f), strict=True))
    assert found["Investissement (€)"] == {"Toulouse Métropole": pytest.approx(10_100_000)}
    assert found["Part du parc en QPV (%)"] == {"Montpellier Méditerranée Métropole": pytest.approx(40.0),
                                                  "Toulouse Métropole": pytest.approx(32.0)}
    assert found["DPE A–C (%)"]["Toulouse Métropole"] == pytest.approx(37.903, abs=1e-3)
    assert found["DPE F–G (%)"]["Montpellier Méditerranée Métropole"] == pytest.approx(10.417, abs=1e-3)


def cell_values(ws, ref: str) -> list:
    """Values of a chart reference such as Graphiques!$B$51:$B$52, row by row."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.split("!")[1].replace("$", ""))
    return [c.value for row in ws.iter_rows(min_row, max_row, min_col, max_col) for c in row]


# ─── Qualité des données ───

def test_quality_sheet(workbook, computation):
    ws = workbook["Qualité des données"]
    coverage = table_rows(ws, "Qualite_indicateurs")
    eco01 = find(coverage, Code="ECO-01")
    assert eco01["Couverture min. (%)"].value == pytest.approx(0.0)
    assert eco01["Couverture max. (%)"].value == pytest.approx(84.0)
    assert eco01["Non calculables"].value == 1 and eco01["Territoires"].value == 2
    assert "aucun organisme présent ne fournit" in eco01["Motifs de non-calcul"].value
    assert find(coverage, Code="ECO-10")["Non calculables"].value == 0
    missing = table_rows(ws, "Non_calculables")
    row = find(missing, Code="ECO-01")
    assert row["Code territoire"].value == MONTPELLIER_METROPOLE
    assert row["Motif"].value.startswith("aucun organisme présent ne fournit")
    expected = computation.results.filter(pl.col("siren").is_null() & (pl.col("statut") == "non_calculable"))
    assert {(r["Code"].value, r["Code territoire"].value) for r in missing} == set(
        expected.select("indicateur", "code_territoire").iter_rows())


# ─── Méthodologie ───

def test_methodology_lists_the_whole_referentiel(workbook, computation):
    ws = workbook["Méthodologie"]
    referentiel = load_referentiel()
    indicators = table_rows(ws, "Referentiel_indicateurs")
    assert [r["Code"].value for r in indicators] == [i.code for i in referentiel.indicators]
    eco06 = find(indicators, Code="ECO-06")
    assert "basse : " in eco06["Formule (centrale ; basse et haute si différentes)"].value
    assert eco06["Formule (centrale ; basse et haute si différentes)"].data_type == "s"
    assert "Entreprises locales" in eco06["Parties prenantes"].value
    params = table_rows(ws, "Parametres")
    assert {r["Paramètre"].value for r in params} == set(referentiel.parameters)
    loyer = find(params, **{"Paramètre": "avantage_loyer_national_mois"})
    assert (loyer["Basse"].value, loyer["Centrale"].value, loyer["Haute"].value) == (200, 225, 261)
    for r in params:
        flagged = r["Statut"].value in ("hypothèse", "à vérifier")
        assert (r["Statut"].fill.fgColor.rgb not in (None, "00000000")) == flagged, r["Paramètre"].value
    measures = table_rows(ws, "Mesures_derivees")
    assert {r["Mesure"].value for r in measures} == {m.nom for m in referentiel.measures}
    inputs = table_rows(ws, "Fichiers_entree")
    assert {r["SHA-256"].value for r in inputs} == {u["sha256"] for u in computation.meta["entrees"]}
    assert {r["Fichier"].value for r in inputs} == {"org_a.xlsx", "org_b.xlsx", "liasse.csv"}
    texts = {c.value for c in all_cells(workbook) if c.parent.title == "Méthodologie" and isinstance(c.value, str)}
    assert computation.meta["territoires"] in texts
    assert any(t.startswith("Référentiel acterr — version ") for t in texts)


# ─── user strings stay text ───

def hand_results(rows: list[dict]) -> pl.DataFrame:
    base = {k: None for k in RESULT_SCHEMA}
    return pl.DataFrame([{**base, **r} for r in rows], schema=RESULT_SCHEMA)


def result(**kw) -> dict:
    return {"indicateur": "ECO-10", "libelle": "Fiscalité locale versée (TFPB)", "axe": "ECO", "registre": "valeur_locale",
            "niveau": "EPCI", "exercice": 2025, "valeur": 1000.0, "valeur_basse": 1000.0, "valeur_haute": 1000.0,
            "unite": "€", "couverture": 100.0, "nb_organismes": 1, "nb_organismes_calcules": 1, "statut": "calcule", **kw}


EVIL_NAME = '=HYPERLINK("http://x","y")'


def test_user_strings_never_become_formulas(tmp_path):
    rows = hand_results([
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
    evil = [c for c in all_cells(wb) if c.value == EVIL_NAME]
    assert {c.parent.title for c in evil} >= {"Synthèse", "Par organisme", "Méthodologie"}
    assert all(c.data_type == "s" for c in evil)
    for text in ("-2+3", "+33", "=1+1", "@123", "=evil.xlsx", "-COG"):
        cells = [c for c in all_cells(wb) if c.value == text]
        assert cells and all(c.data_type == "s" for c in cells), text


# ─── exercice, atomicity, edge cases ───

def test_latest_exercice_by_default_and_unknown_exercice(tmp_path):
    rows = hand_results([result(code_territoire="1", nom_territoire="A", exercice=2024, valeur=1.0),
                         result(code_territoire="1", nom_territoire="A", exercice=2025, valeur=2.0)])
    computation = Computation("EPCI", rows, {})
    latest = write_report(tmp_path / "r.xlsx", computation)
    assert latest.exercice == 2025
    older = write_report(tmp_path / "r2024.xlsx", computation, 2024)
    table = table_rows(load_workbook(older.path)["Indicateurs"], "Indicateurs")
    assert [r["Valeur"].value for r in table] == [1.0]
    with pytest.raises(UsageError, match="2023"):
        write_report(tmp_path / "r2023.xlsx", computation, 2023)
    assert not (tmp_path / "r2023.xlsx").exists()


def test_empty_results_still_give_a_report(tmp_path):
    written = write_report(tmp_path / "vide.xlsx", Computation("EPCI", pl.DataFrame(schema=RESULT_SCHEMA), {}))
    assert written.exercice is None
    wb = load_workbook(written.path)
    assert wb.sheetnames == list(SHEETS)
    assert table_rows(wb["Méthodologie"], "Referentiel_indicateurs")


def test_writing_is_atomic(tmp_path, computation, monkeypatch):
    target = tmp_path / "rapport.xlsx"
    write_report(target, computation)
    write_report(target, computation)  # replaces the previous one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]
    before = target.read_bytes()

    def broken(wb, report):
        raise RuntimeError("panne au milieu de l'écriture")

    monkeypatch.setattr(excel_report, "_qualite", broken)
    with pytest.raises(RuntimeError):
        write_report(target, computation)
    assert target.read_bytes() == before  # the old report is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]  # no temporary file left


# ─── units ───

@pytest.mark.parametrize("unit, expected", [
    ("€", '#,##0 "€"'), ("€/an", '#,##0 "€"'), ("€/m²/mois", '#,##0.00 "€"'), ("%", '#,##0.0 "%"'),
    ("‰", '#,##0.00 "‰"'), ("ETP", "#,##0.0"), ("ETP-année", "#,##0"), ("logements", "#,##0"),
])
def test_number_formats(unit, expected):
    assert number_format(unit) == expected


def test_only_additive_units_are_totalled():
    assert all(is_additive(u) for u in ("€", "€/an", "ETP", "ETP-année", "logements", "ménages"))
    assert not any(is_additive(u) for u in ("%", "‰", "€/m²/mois", "€/logt", "€/mois", "€/hab", "ratio", "", None))


def test_tables_longer_than_excel_allows_are_cut_with_a_note(tmp_path, computation, monkeypatch):
    monkeypatch.setattr(excel_report, "EXCEL_MAX_ROWS", 14)  # header on row 4: 10 data rows fit
    written = write_report(tmp_path / "r.xlsx", computation)
    ws = load_workbook(written.path)["Indicateurs"]
    assert len(table_rows(ws, "Indicateurs")) == 10
    assert ws["A2"].value.endswith("choisissez un niveau plus agrégé, un exercice, ou la sortie JSON de « acterr compute ».")
    assert "Tableau tronqué à 10 lignes sur " in ws["A2"].value
