"""What a figure is, told by every output: an « estimation forfaitaire » never looks measured, and
the NON_REPARTI row makes the totals add up without being a territory (issue 13).

Hand-checkable fixture (builders.py), EPCI level, no market rent imported:
- SOC-01 is the national flat rate (dwellings × the national rent advantage): part_forfaitaire 100
  everywhere (its value is the engine's: the flat rate itself is tested with the indicators).
- ECO-01 is measured (part_forfaitaire 0): Toulouse 10 100 000 € (A's Production sheet),
  Montpellier non calculable; B's liasse (3 000 000 + 1 000 000 + 200 000 = 4 200 000 €) cannot be
  split by EPCI: NON_REPARTI 4 200 000, and 10 100 000 + 4 200 000 = 14 300 000 € (FRANCE).
Then the samples (4 organisations, their liasse), where the Classement's columns must add up to
« Ensemble » to the cent.
"""

import json
import re
from pathlib import Path

import polars as pl
import pytest
from builders import MONTPELLIER_METROPOLE, TOULOUSE_METROPOLE, write_all
from openpyxl import load_workbook
from rich.console import Console
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.api import report_inputs
from acterr_cli.cli.app import app
from acterr_cli.outputs import terminal
from acterr_cli.outputs.fiche import fiche_subjects
from acterr_cli.outputs.nature import LEGEND, NON_REPARTI_CODE, NON_REPARTI_NOM, flat_text
from acterr_cli.outputs.reports import ReportInputs, write_report
from acterr_cli.outputs.reports.charts import DATA_SHEET
from acterr_cli.outputs.reports.model import ReportData
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.results import Computation

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported")
SAMPLES = Path(__file__).parents[1] / "samples"
runner = CliRunner()
NBSP = "\u202f"


def run(espace, *args):
    return runner.invoke(app, ["--espace", str(espace), *[str(a) for a in args]])


@pytest.fixture(scope="module")
def espace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nature")
    report = api.import_paths(root / "espace", write_all(root / "entrees"))
    assert not report.refused, report.to_dict()
    return root / "espace"


@pytest.fixture(scope="module")
def inputs(espace) -> ReportInputs:
    return report_inputs(espace, "EPCI", load_referentiel())


@pytest.fixture(scope="module")
def workbook(inputs, tmp_path_factory):
    return load_workbook(write_report(tmp_path_factory.mktemp("classeur") / "rapport.xlsx", inputs).path)


@pytest.fixture(scope="module")
def replacement() -> str:
    text = load_referentiel().by_code["SOC-01"].forfait_remplace_par
    assert "loyers" in text  # the catalogue names the import of market rents
    return text


def named(wb, name: str):
    [(sheet, coord)] = list(wb.defined_names[name].destinations)
    return wb[sheet][coord.replace("$", "")]


def table_rows(ws, name: str) -> list[dict]:
    cells = list(ws[dict(ws.tables.items())[name]])
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, row, strict=True)) for row in cells[1:]]


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def engine(inputs: ReportInputs, code: str, territory: str | None = None) -> float:
    """The consolidated value the engine gives (FRANCE level without a territory)."""
    results = inputs.computation.results if territory else inputs.national.results
    rows = results.filter((pl.col("indicateur") == code) & pl.col("siren").is_null()
                          & ((pl.col("code_territoire") == territory) if territory else pl.lit(True)))
    [value] = rows["valeur"].to_list()
    return value


def is_flat_style(cell) -> bool:
    return '"≈ "' in cell.number_format and bool(cell.font.i) and cell.fill.fgColor.rgb.endswith("FFF2CC")


# ─── the workbook ───

def test_synthese_shows_the_flat_rate_as_an_estimate_with_its_legend(workbook, inputs, replacement):
    ws = workbook["Synthèse"]
    soc01, eco01 = named(workbook, "acterr_SOC_01"), named(workbook, "acterr_ECO_01")
    assert soc01.value == pytest.approx(engine(inputs, "SOC-01")) and is_flat_style(soc01)
    assert eco01.value == pytest.approx(14_300_000) and not is_flat_style(eco01) and '"≈' not in eco01.number_format
    label = ws.cell(soc01.row, soc01.column - 1).value
    assert label.startswith("Gain de pouvoir d'achat des locataires") and "\n≈ estimation forfaitaire\n" in label
    # the value shown is gross; its net value after additionality is said under the label (× 0,9 × 0,65 × 1)
    assert label.splitlines()[-1].startswith("valeur brute ; nette d'additionnalité : ")
    assert "estimation" not in ws.cell(eco01.row, eco01.column - 1).value
    notes = texts(ws)
    assert f"Sur fond jaune, {LEGEND}" in notes
    assert any(t.startswith("≈ Gain de pouvoir d'achat des locataires : estimation forfaitaire ; pour la remplacer : ")
               and replacement in t for t in notes)
    # how much of the headline figures is not placed in a territory: B's liasse, 4,2 of 14,3 M€
    [unplaced] = [t for t in notes if t.startswith("Non placé dans un territoire")]
    assert "4,2 M€ sur 14,3 M€ (29 %) pour « Investissement injecté »" in unplaced
    assert NON_REPARTI_NOM in unplaced


def test_classement_has_the_non_reparti_row_above_ensemble(workbook):
    ws = workbook["Classement"]
    rows = table_rows(ws, "Classement")
    assert [r["Code"].value for r in rows] == [TOULOUSE_METROPOLE, MONTPELLIER_METROPOLE]  # not a territory of the table
    invest = next(k for k in rows[0] if k.startswith("Investissement"))
    gain = next(k for k in rows[0] if k.startswith("Gain des locataires"))
    last = rows[-1][invest].row
    assert ws.cell(last + 1, 2).value == NON_REPARTI_NOM and ws.cell(last + 1, 1).value is None  # no rank
    assert ws.cell(last + 2, 2).value == "Ensemble des organismes importés"
    col = rows[0][invest].column
    toulouse, unplaced, total = (ws.cell(r, col).value for r in (rows[0][invest].row, last + 1, last + 2))
    assert (toulouse, unplaced, total) == (pytest.approx(10_100_000), pytest.approx(4_200_000), pytest.approx(14_300_000))
    assert rows[1][invest].value == "n.c."
    # the tenants' gain is the national flat rate on every line, and its total
    assert all(is_flat_style(r[gain]) for r in rows) and is_flat_style(ws.cell(last + 2, rows[0][gain].column))
    assert not is_flat_style(rows[0][invest])
    assert any(t.startswith("≈ SOC-01") for t in texts(ws)) and any(LEGEND in t for t in texts(ws))
    # no data bar drawn from the flat rate (it would only repeat the dwellings): dwellings and investment only
    bars = {str(cf.sqref) for cf in ws.conditional_formatting for rule in cf.rules if rule.type == "dataBar"}
    assert len(bars) == 2 and not any(rows[0][gain].column_letter in b for b in bars)


def test_indicateurs_mark_the_flat_rate(workbook, inputs):
    from test_excel_report import column, matrix

    rows = matrix(workbook["Indicateurs"], "Indicateurs")
    toulouse, montpellier = column(rows, TOULOUSE_METROPOLE), column(rows, MONTPELLIER_METROPOLE)
    soc01 = rows["SOC-01"][toulouse]
    assert soc01.value == pytest.approx(engine(inputs, "SOC-01", TOULOUSE_METROPOLE)) and is_flat_style(soc01)
    assert soc01.number_format.startswith('[$-40C]"≈ "')
    assert not is_flat_style(rows["ECO-01"][toulouse]) and rows["ECO-01"][montpellier].value == "n.c."
    # NON_REPARTI after every territory, before the whole
    headers = list(rows["ECO-01"])
    assert headers[-2:] == ["Non réparti (données de niveau organisme)", "Ensemble des organismes importés"]
    assert rows["ECO-01"][headers[-2]].value == pytest.approx(4_200_000)
    assert any("« ≈ » : estimation forfaitaire" in t or "≈ estimation forfaitaire" in t for t in texts(workbook["Indicateurs"]))


def test_par_organisme_marks_the_flat_rate(workbook):
    from test_excel_report import matrix

    ws = workbook["Par organisme"]
    rows = matrix(ws, "Par_organisme")
    values = [c for h, c in rows["SOC-01"].items() if h not in ("Code", "Indicateur") and isinstance(c.value, (int, float))]
    assert len(values) == 3 and all(is_flat_style(c) for c in values)  # A in Toulouse, B in Toulouse and Montpellier
    assert not any(is_flat_style(c) for h, c in rows["ECO-01"].items() if h not in ("Code", "Indicateur"))
    assert any("« ≈ » : estimation forfaitaire" in t for t in texts(ws))


def test_quality_sheet_lists_the_estimations_and_their_replacement(workbook, replacement):
    rows = table_rows(workbook["Qualité des données"], "Estimations_forfaitaires")
    soc01 = next(r for r in rows if r["Code"].value == "SOC-01")
    assert soc01["Part forfaitaire de la synthèse (%)"].value == 1
    assert soc01["Entièrement forfaitaires"].value == 2 and soc01["En partie forfaitaires"].value == 0
    assert soc01["Pour remplacer l'estimation par des données locales"].value == replacement
    assert "ECO-01" not in {r["Code"].value for r in rows}


def test_charts_name_the_flat_rate_and_never_chart_non_reparti(workbook):
    data = texts(workbook[DATA_SHEET])
    assert any(t.startswith("Gain de pouvoir d'achat des locataires (SOC-01) — ≈ estimation forfaitaire") for t in data)
    assert NON_REPARTI_NOM not in data and NON_REPARTI_CODE not in data
    titles = [c.title.tx.rich.p[0].r[0].t for c in workbook["Graphiques"]._charts if c.title is not None]
    # chart titles in plain words: the libellé, never the code (the data sheet keeps it, to trace a bar)
    assert any(t.startswith("Gain de pouvoir d'achat des locataires") and "≈ estimation forfaitaire" in t for t in titles)
    assert not any(t.startswith("Investissement injecté") and "≈" in t for t in titles)
    assert not any(re.search(r"\b(ECO|SOC|PV|ENV|GOV|TER)-\d", t) for t in titles)


def test_an_organisation_report_reconciles_its_territories_with_its_total(inputs, tmp_path):
    """B's investment is known only from its liasse (4 200 000 €), which no EPCI can hold: its
    Territoires sheet says n.c. on each territory, 4 200 000 non réparti, and the same total."""
    from builders import SIREN_B

    from acterr_cli.outputs.reports import Scope

    wb = load_workbook(write_report(tmp_path / "b.xlsx", inputs, scope=Scope.organisation(SIREN_B)).path)
    ws = wb["Territoires"]
    rows = table_rows(ws, "Territoires")
    invest = next(k for k in rows[0] if k.endswith("\nECO-01"))
    assert [r[invest].value for r in rows] == ["n.c.", "n.c."]
    last = rows[-1][invest].row
    assert ws.cell(last + 1, 2).value == NON_REPARTI_NOM and ws.cell(last + 2, 2).value == "Total de l'organisme"
    assert ws.cell(last + 1, rows[0][invest].column).value == pytest.approx(4_200_000)
    assert ws.cell(last + 2, rows[0][invest].column).value == pytest.approx(4_200_000)
    dwellings = next(k for k in rows[0] if k.endswith("\nTER-00"))  # every dwelling is placed: nothing left over
    assert ws.cell(last + 1, rows[0][dwellings].column).value == 0
    assert any(t.startswith("Non placé dans un territoire") and "« Territoires »" in t for t in texts(wb["Synthèse"]))


def test_an_organisation_relates_its_dwellings_to_the_population_where_they_are(inputs, espace, tmp_path):
    """A's 1 050 dwellings are all in Toulouse Métropole: its TER-01 is the engine's FRANCE-level
    figure for A (per 1 000 inhabitants of its territories), never recomputed with France's
    population (1 050 / 68 million = 0,015 ‰)."""
    from builders import SIREN_A

    from acterr_cli.outputs.reports import Scope

    wb = load_workbook(write_report(tmp_path / "a.xlsx", inputs, scope=Scope.organisation(SIREN_A)).path)
    national = inputs.national.results.filter((pl.col("siren") == SIREN_A) & (pl.col("indicateur") == "TER-01"))
    [value] = national["valeur"].to_list()
    assert named(wb, "acterr_TER_01").value == pytest.approx(value) and value > 1
    screen = run(espace, "export", "--organisme", SIREN_A, "--sortie", tmp_path / "a2.xlsx").stdout
    assert "Parc par habitant de ses territoires" in " ".join(screen.split())


def test_non_reparti_is_never_a_territory(inputs, espace, tmp_path):
    data = ReportData.build(inputs)
    assert [t.code for t in data.territories] == [TOULOUSE_METROPOLE, MONTPELLIER_METROPOLE]
    assert {r["indicateur"] for r in data.unplaced} >= {"ECO-01", "ECO-10"}
    assert all(r["code_territoire"] == NON_REPARTI_CODE and r["siren"] is None for r in data.unplaced)
    assert NON_REPARTI_CODE not in {s.key for s in fiche_subjects(data)}
    result = run(espace, "export", "--code", NON_REPARTI_CODE, "--sortie", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "n'est pas un territoire" in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_partly_flat_figure_says_how_much():
    r = {"indicateur": "SOC-01", "statut": "calcule", "valeur": 1000.0, "part_forfaitaire": 40.0}
    assert flat_text(r) == "dont 40 % estimation forfaitaire"
    assert flat_text({**r, "part_forfaitaire": 100.0}) == "estimation forfaitaire"
    assert flat_text({**r, "part_forfaitaire": 0.0}) is None
    assert flat_text({**r, "part_forfaitaire": 0.3}) == "dont moins de 1 % estimation forfaitaire"
    assert flat_text({**r, "statut": "non_calculable", "valeur": None}) is None


def test_partly_flat_figure_in_the_workbook_and_on_screen(tmp_path):
    from test_excel_report import hand_results, result

    rows = hand_results([
        result(code_territoire="1", nom_territoire="A", indicateur="TER-00", unite="logements", valeur=10.0, part_forfaitaire=0.0),
        result(code_territoire="1", nom_territoire="A", indicateur="SOC-01", libelle="Gain", registre="plus_value_sociale",
               unite="€/an", valeur=1000.0, part_forfaitaire=40.0),
        result(code_territoire="1", nom_territoire="A", indicateur="ECO-01", libelle="Investissement", valeur=None,
               valeur_basse=None, valeur_haute=None, statut="non_calculable", couverture=0.0, motif="donnée absente"),
    ])
    wb = load_workbook(write_report(tmp_path / "r.xlsx", Computation("EPCI", rows, {})).path)
    from test_excel_report import matrix

    assert is_flat_style(matrix(wb["Indicateurs"], "Indicateurs")["SOC-01"]["A\n1"])
    [soc01] = [r for r in table_rows(wb["Qualité des données"], "Estimations_forfaitaires") if r["Code"].value == "SOC-01"]
    assert (soc01["Entièrement forfaitaires"].value, soc01["En partie forfaitaires"].value) == (0, 1)
    console = Console(record=True, width=200)
    terminal.print_summary(rows, "EPCI", console)
    screen = console.export_text()
    assert f"≈ 1{NBSP}000 €/an" in screen and "dont 40 % estimation forfaitaire" in screen and LEGEND in screen
    [eco01] = [line for line in screen.splitlines() if "ECO-01" in line]
    assert "non calculable" in eco01 and "0 %" not in eco01  # a figure not computed covers nothing: no « 0 % »


def test_a_user_template_marks_the_flat_rate(inputs, tmp_path):
    from test_export_template import make_template

    from acterr_cli.outputs.template_fill import fill_template

    def names(wb, ws):
        wb.define_name("acterr_SOC_01_nature", "=Couverture!$D$4")
        wb.define_name("acterr_SOC_01_forfaitaire", "=Couverture!$E$4")
        wb.define_name("acterr_ECO_10_nature", "=Couverture!$D$3")

    filled = fill_template(make_template(tmp_path / "modele.xlsx", names), tmp_path / "rempli.xlsx", ReportData.build(inputs))
    cover = load_workbook(filled.path)["Couverture"]
    assert cover["B4"].value == pytest.approx(engine(inputs, "SOC-01"))  # acterr_soc_01, a cell left « Standard »
    assert cover["B4"].number_format.startswith('[$-40C]"≈ "') and "M€" in cover["B4"].number_format
    assert cover["D4"].value == "estimation forfaitaire" and cover["E4"].value == 1
    assert cover["D3"].value in (None, "")  # ECO-10 is measured
    assert "≈" not in cover["B3"].number_format


# ─── terminal, JSON, CSV ───

def test_terminal_marks_the_flat_rate_and_shows_non_reparti_last(inputs, replacement):
    console = Console(record=True, width=250)
    terminal.print_summary(inputs.computation.results, "EPCI", console)
    text = console.export_text()
    lines = text.splitlines()
    first = {name: next(i for i, line in enumerate(lines) if line.lstrip().startswith(name))
             for name in ("Toulouse Métropole", "Montpellier", "Non réparti (niveau organisme)")}
    toulouse, unplaced = lines[first["Toulouse Métropole"]], lines[first["Non réparti (niveau organisme)"]]
    gain = engine(inputs, "SOC-01", TOULOUSE_METROPOLE) / 1e6
    assert f"≈ {gain:.1f}".replace(".", ",") in toulouse  # SOC-01, the flat rate, in M€/an
    assert "10,1*" in toulouse and "≈ 10,1" not in toulouse  # ECO-01 measured (partial coverage)
    assert first["Non réparti (niveau organisme)"] > max(first["Toulouse Métropole"], first["Montpellier"])
    assert " 4,2 " in unplaced and "≈" not in unplaced.split("4,2")[0]
    screen = " ".join(text.split())
    assert LEGEND in screen and f"pour la remplacer : {' '.join(replacement.split())}" in screen


def test_compute_json_carries_part_forfaitaire_and_non_reparti(espace):
    result = run(espace, "compute", "--territoire", "EPCI", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["resultats"]
    assert all("part_forfaitaire" in r for r in rows)
    cons = {(r["code_territoire"], r["indicateur"]): r for r in rows if r["siren"] is None}
    assert cons[(TOULOUSE_METROPOLE, "SOC-01")]["part_forfaitaire"] == 100
    assert cons[(TOULOUSE_METROPOLE, "ECO-01")]["part_forfaitaire"] == 0
    assert cons[(MONTPELLIER_METROPOLE, "ECO-01")]["part_forfaitaire"] is None  # not computed
    unplaced = cons[(NON_REPARTI_CODE, "ECO-01")]
    assert unplaced["valeur"] == pytest.approx(4_200_000) and unplaced["nom_territoire"] == NON_REPARTI_NOM


def test_export_csv_parquet_and_json_carry_them(espace, tmp_path, replacement):
    assert run(espace, "export", "--format", "csv", "--sortie", tmp_path / "r.csv").exit_code == 0
    frame = pl.read_csv(tmp_path / "r.csv", schema_overrides={"code_territoire": pl.Utf8, "siren": pl.Utf8})
    assert frame.columns.index("part_forfaitaire") == frame.columns.index("couverture") + 1
    cons = frame.filter(pl.col("siren").is_null())
    soc01 = cons.filter((pl.col("code_territoire") == TOULOUSE_METROPOLE) & (pl.col("indicateur") == "SOC-01"))
    assert soc01["part_forfaitaire"].to_list() == [100.0]
    eco01 = cons.filter(pl.col("indicateur") == "ECO-01")
    assert eco01["code_territoire"].to_list() == [TOULOUSE_METROPOLE, MONTPELLIER_METROPOLE, NON_REPARTI_CODE]
    assert eco01["valeur"].to_list()[2] == pytest.approx(4_200_000)
    assert run(espace, "export", "--format", "parquet", "--sortie", tmp_path / "r.parquet").exit_code == 0
    parquet = pl.read_parquet(tmp_path / "r.parquet")
    assert parquet.filter(pl.col("indicateur") == "SOC-01")["part_forfaitaire"].drop_nulls().to_list()
    result = run(espace, "export", "--sortie", tmp_path / "r.xlsx", "--json")
    document = json.loads(result.stdout)
    [soc01] = [e for e in document["estimations_forfaitaires"] if e["indicateur"] == "SOC-01"]
    assert soc01["part_forfaitaire"] == 100 and soc01["remplace_par"] == replacement
    assert "ECO-01" not in {e["indicateur"] for e in document["estimations_forfaitaires"]}
    assert document["non_reparti"]["ECO-01"] == pytest.approx(4_200_000)


def test_explain_says_the_figure_is_an_estimate_and_what_replaces_it(espace, replacement):
    result = run(espace, "compute", "--expliquer", "SOC-01", "--code", TOULOUSE_METROPOLE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Résultat : ≈ 3" in out and "≈ estimation forfaitaire : 100 % de la valeur centrale" in out
    assert "pour la remplacer : " in out and replacement[:50] in out.replace("\n", " ")
    measured = run(espace, "compute", "--expliquer", "ECO-10", "--code", TOULOUSE_METROPOLE).stdout
    assert "≈" not in measured and "forfaitaire" not in measured
    document = json.loads(run(espace, "compute", "--expliquer", "SOC-01", "--code", TOULOUSE_METROPOLE, "--json").stdout)
    assert document["resultat"]["part_forfaitaire"] == 100
    assert document["indicateur"]["forfait_remplace_par"] == replacement
    assert "avantage_loyer_national_mois" in document["indicateur"]["formule_forfait"]


def test_compute_on_screen_marks_the_flat_rate_and_ends_with_non_reparti(espace):
    result = run(espace, "compute", "--territoire", "EPCI")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [unplaced] = [i for i, line in enumerate(lines) if line.lstrip().startswith("Non réparti")]
    territories = [i for i, line in enumerate(lines) if line.lstrip().startswith(("Toulouse Métropole", "Montpellier"))]
    assert len(territories) == 2 and unplaced > max(territories)
    assert all("≈" in lines[i] for i in territories)  # the tenants' gain column
    assert "estimation forfaitaire" in result.stdout


def test_referentiel_json_tells_the_nature_of_each_figure(replacement):
    document = json.loads(runner.invoke(app, ["referentiel", "--json"]).stdout)
    by_code = {i["code"]: i for i in document["indicateurs"]}
    assert by_code["SOC-01"]["forfait_remplace_par"] == replacement and by_code["SOC-01"]["formule_forfait"]
    assert by_code["ECO-01"]["additif"] is True and by_code["ECO-01"]["formule_forfait"] is None
    assert by_code["PV-01"]["additif"] is False  # a percentage never adds up over territories


# ─── the samples: totals that add up ───

@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + sorted(SAMPLES.glob("liasse_*.csv"))  # 2024 and 2025, as make demo
    result = run(root / "espace", "import", *files)
    assert result.exit_code == 0, result.output
    target = root / "rapport.xlsx"
    result = run(root / "espace", "export", "--territoire", "EPCI", "--sortie", target)
    assert result.exit_code == 0, result.output
    return load_workbook(target), result.stdout


@pytest.mark.parametrize("code", ["ECO-01", "ECO-06", "ECO-10"])
def test_on_the_samples_territories_plus_non_reparti_give_ensemble_to_the_cent(samples, code):
    wb, _ = samples
    ws = wb["Classement"]
    rows = table_rows(ws, "Classement")
    header = next(h for h in rows[0] if h.endswith(f"\n{code}"))
    column = [r[header].value for r in rows]  # « n.c. » where a territory lacks the data: never counted as zero
    territories = sum(v for v in column if isinstance(v, (int, float)))
    below = rows[-1][header].row
    assert ws.cell(below + 1, 2).value == NON_REPARTI_NOM and ws.cell(below + 2, 2).value == "Ensemble des organismes importés"
    unplaced, total = ws.cell(below + 1, rows[0][header].column).value, ws.cell(below + 2, rows[0][header].column).value
    assert territories + unplaced == pytest.approx(total, abs=0.005)
    if code == "ECO-01":
        assert unplaced > 1_000_000  # the liasse's investment of organisations without a Production sheet


def test_on_the_samples_counts_and_screen_leave_non_reparti_out(samples):
    wb, screen = samples
    ws = wb["Classement"]
    rows = table_rows(ws, "Classement")
    assert NON_REPARTI_CODE not in {r["Code"].value for r in rows}
    housed = sum(r["Rang"].value is not None for r in rows)
    assert ws["A2"].value.startswith(f"{housed} territoires (EPCI)")
    assert f"logements dans {housed} territoires" in wb["Synthèse"]["B2"].value
    [gain] = [line for line in screen.splitlines() if "Gain des locataires" in line]
    assert "Gain des locataires ≈ " in " ".join(gain.split())  # the panel's figure is marked
    assert "Ménages logés ≈" not in " ".join(screen.split()) and "Non placé dans un territoire" in screen
    assert screen.count("Non réparti (niveau organisme)") == 1
