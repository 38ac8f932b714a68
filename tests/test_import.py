"""Import: facts with provenance, idempotent re-imports, refusals that leave the workspace untouched."""

import json
from contextlib import contextmanager
from pathlib import Path

import builders
import polars as pl
import pytest

from acterr_cli import api
from acterr_cli.errors import ERREUR
from acterr_cli.progress import Progress
from acterr_cli.workspace.store import Workspace


def facts(root, dataset) -> pl.DataFrame:
    return Workspace.open(root, create=False).scan(dataset).collect()


def manifest(root) -> dict:
    return json.loads((root / "manifest.json").read_text("utf-8"))


def test_questionnaire_facts_carry_provenance(espace):
    patrimoine = facts(espace, "patrimoine").filter(pl.col("siren") == builders.SIREN_A).sort("ligne")
    assert patrimoine["commune"].to_list() == ["31555", "31069"]
    assert patrimoine["logements"].to_list() == [800, 250]
    assert patrimoine["feuille"].to_list() == ["Patrimoine", "Patrimoine"]
    assert patrimoine["ligne"].to_list() == [4, 5]  # Excel rows under the header of row 3
    assert patrimoine["source_fichier"][0] == "org_a.xlsx"
    assert len(patrimoine["source_sha256"][0]) == 64
    organismes = facts(espace, "organismes").sort("siren")
    assert organismes["raison_sociale"].to_list() == ["Habitat Test A", "Logis Test B"]
    liasse = facts(espace, "liasse")
    assert liasse["etp_total"].to_list() == [12.5]  # « 12,5 » read with a decimal comma
    assert liasse["loyers_quittances_eur"].to_list() == [3_400_000]  # « 3 400 000 »
    assert liasse["autofinancement_net_eur"].to_list() == [-50_000]


def test_reimport_is_idempotent(tmp_path, espace, fixture_files):
    before = api.compute_level(espace, "EPCI").results
    units_before = manifest(espace)["unites"].keys()
    report = api.import_paths(espace, fixture_files)
    assert not report.refused
    assert manifest(espace)["unites"].keys() == units_before
    assert facts(espace, "patrimoine").height == 4
    after = api.compute_level(espace, "EPCI").results
    assert after.equals(before)
    # Replaced fact files are gone: on disk, exactly the files the manifest lists, one per dataset,
    # exercice and source type (the units of one import share their files).
    units = manifest(espace)["unites"].values()
    files = {p.relative_to(espace).as_posix() for p in (espace / "faits").rglob("*.parquet")}
    assert files == {item["chemin"] for u in units for item in u["jeux"].values()}
    assert len(files) == len({(d, u["exercice"], u["type"]) for u in units for d in u["jeux"]})


def test_reimport_replaces_an_organisation(tmp_path, espace):
    tables = {**builders.TABLES_A, "Fiscalite": [{"commune": "31555", "tfpb_eur": 1000}]}
    path = builders.write_questionnaire(tmp_path / "org_a_v2.xlsx", builders.ORG_A, tables)
    api.import_paths(espace, [path])
    tfpb = facts(espace, "fiscalite").filter(pl.col("siren") == builders.SIREN_A)
    assert tfpb["tfpb_eur"].to_list() == [1000]


def test_unreadable_file_is_refused_and_workspace_untouched(tmp_path, espace):
    before = (espace / "manifest.json").read_bytes()
    fake = tmp_path / "faux.xlsx"
    fake.write_text("ceci n'est pas un classeur")
    report = api.import_paths(espace, [fake])
    assert [f.statut for f in report.fichiers] == ["refuse"]
    assert "faux.xlsx" in report.problems[0].message
    assert (espace / "manifest.json").read_bytes() == before


def test_unknown_commune_is_refused_with_its_cell(tmp_path):
    tables = {"Patrimoine": [{"commune": "31555", "logements": 10}, {"commune": "99999", "logements": 5}]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    report = api.import_paths(tmp_path / "espace", [path])
    assert report.refused
    [problem] = [p for p in report.problems if p.gravite == ERREUR]
    assert (problem.feuille, problem.cellule, problem.valeur) == ("Patrimoine", "A5", "99999")
    assert "code commune inconnu" in problem.message
    assert not (tmp_path / "espace" / "manifest.json").exists()


def test_commune_codes_as_users_type_them(tmp_path):
    tables = {"Patrimoine": [
        {"commune": "1053", "logements": 10},  # leading zero lost
        {"commune": 31555, "logements": 20},  # typed as a number
        {"commune": "75111", "logements": 30},  # Paris arrondissement
        {"commune": " 2a004 ", "logements": 40},  # Corsica, lower case, spaces
    ]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    root = tmp_path / "espace"
    assert not api.import_paths(root, [path]).refused
    stored = facts(root, "patrimoine").sort("ligne")
    assert stored["commune"].to_list() == ["01053", "31555", "75056", "2A004"]


def test_blank_cells_are_zero_but_blank_columns_are_missing(tmp_path):
    tables = {"Patrimoine": [
        {"commune": "31555", "logements": 100, "logements_qpv": 40},
        {"commune": "31069", "logements": 50},  # blank QPV cell in a filled column: zero
    ]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    root = tmp_path / "espace"
    api.import_paths(root, [path])
    stored = facts(root, "patrimoine").sort("ligne")
    assert stored["logements_qpv"].to_list() == [40, 0]
    assert stored["surface_m2"].to_list() == [None, None]  # never filled: not provided


def test_french_numbers_as_text(tmp_path):
    tables = {"Fiscalite": [{"commune": "31555", "tfpb_eur": "1 234,56 €"}, {"commune": "31069", "tfpb_eur": "2\u00a0000"}]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    root = tmp_path / "espace"
    api.import_paths(root, [path])
    assert facts(root, "fiscalite").sort("ligne")["tfpb_eur"].to_list() == [1234.56, 2000]


def test_bad_cells_are_reported_with_their_reference(tmp_path):
    org = {**builders.ORG_A, "siren": "123456789", "famille": "Bailleur"}
    tables = {"Patrimoine": [{"commune": "31555", "logements": "beaucoup"}, {"commune": "31069", "logements": -3}]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", org, tables)
    report = api.verify_paths([path])
    cells = {(p.feuille, p.cellule, p.regle) for p in report.problems}
    assert ("Organisme", "B5", "siren") in cells
    assert ("Organisme", "B7", "liste") in cells


def test_table_errors_are_reported(tmp_path):
    tables = {"Patrimoine": [{"commune": "31555", "logements": "beaucoup"}, {"commune": "31069", "logements": -3}]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    report = api.verify_paths([path])
    cells = {(p.feuille, p.cellule, p.regle) for p in report.problems}
    assert ("Patrimoine", "B4", "nombre") in cells
    assert ("Patrimoine", "B5", "positif") in cells
    assert report.refused


def test_same_organisation_twice_in_one_run_is_an_error(tmp_path):
    a1 = builders.write_org_a(tmp_path, "a1.xlsx")
    a2 = builders.write_questionnaire(tmp_path / "a2.xlsx", builders.ORG_A, {"Fiscalite": [{"commune": "31555", "tfpb_eur": 1}]})
    report = api.import_paths(tmp_path / "espace", [a1, a2])
    assert [f.statut for f in report.fichiers] == ["refuse", "refuse"]
    assert all("deux fichiers différents" in f.problemes[-1].message for f in report.fichiers)


def test_total_row_is_ignored_and_checked(tmp_path):
    tables = {"Fiscalite": [{"commune": "31555", "tfpb_eur": 100}, {"commune": "31069", "tfpb_eur": 50},
                            {"commune": "Total", "tfpb_eur": 160}]}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)
    root = tmp_path / "espace"
    report = api.import_paths(root, [path])
    assert not report.refused
    assert [p.cellule for p in report.problems if p.regle == "total"] == ["B6"]
    assert facts(root, "fiscalite")["tfpb_eur"].sum() == 150


def test_liasse_with_latin1_and_duplicates(tmp_path):
    path = tmp_path / "liasse.csv"
    path.write_bytes((builders.LIASSE_HEADER + "\n" + builders.LIASSE_B.replace("Logis Test B", "Logis Été") + "\n").encode("cp1252"))
    root = tmp_path / "espace"
    assert not api.import_paths(root, [path]).refused
    assert facts(root, "liasse")["raison_sociale"].to_list() == ["Logis Été"]
    dup = builders.write_liasse(tmp_path, "dup.csv", (builders.LIASSE_B, builders.LIASSE_B))
    report = api.verify_paths([dup])
    assert report.refused and any(p.regle == "doublon" for p in report.problems)


def test_workspace_refuses_a_foreign_folder(tmp_path, fixture_files):
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "important.txt").write_text("x")
    from acterr_cli.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        api.import_paths(foreign, fixture_files)


def test_warnings_are_kept_with_the_facts(tmp_path):
    tables = {"Fiscalite": [{"commune": "31555", "tfpb_eur": 100}, {"commune": "31069", "tfpb_eur": 50},
                            {"commune": "Total", "tfpb_eur": 160}]}
    root = tmp_path / "espace"
    api.import_paths(root, [builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, tables)])
    [unit] = [u for u in manifest(root)["unites"].values() if u["type"] == "questionnaire"]
    assert [w["regle"] for w in unit["avertissements"]] == ["total"]
    assert unit["avertissements"][0]["cellule"] == "B6"


def test_reimport_of_one_organisation_keeps_the_others_rows_in_the_shared_files(tmp_path):
    """The organisations of one import share their fact files; re-importing one of them rewrites
    those files without its old rows and leaves the others' facts as they were."""
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    files = [builders.write_org_a(inputs), builders.write_org_b(inputs), builders.write_org_c(inputs)]
    root = tmp_path / "espace"
    assert not api.import_paths(root, files).refused
    units = manifest(root)["unites"]
    assert len({u["jeux"]["patrimoine"]["chemin"] for u in units.values()}) == 1  # one file for the three
    others = facts(root, "patrimoine").filter(pl.col("siren") != builders.SIREN_A).sort("siren", "ligne")
    tables = {**builders.TABLES_A, "Patrimoine": [{"commune": "31555", "logements": 10}]}
    assert not api.import_paths(root, [builders.write_questionnaire(tmp_path / "org_a_v2.xlsx", builders.ORG_A, tables)]).refused
    after = facts(root, "patrimoine")
    assert after.filter(pl.col("siren") == builders.SIREN_A)["logements"].to_list() == [10]
    assert after.filter(pl.col("siren") != builders.SIREN_A).sort("siren", "ligne").equals(others)
    for key, unit in manifest(root)["unites"].items():  # each unit's rows are where the manifest says
        item = unit["jeux"]["patrimoine"]
        rows = pl.read_parquet(root / item["chemin"]).slice(item["debut"], item["lignes"])
        assert set(rows["siren"].to_list()) == {unit["siren"]}, key
    files_on_disk = {p.relative_to(root).as_posix() for p in (root / "faits").rglob("*.parquet")}
    assert files_on_disk == {i["chemin"] for u in manifest(root)["unites"].values() for i in u["jeux"].values()}


class Counting(Progress):
    """What an import tells as it goes (a terminal would draw it)."""

    def __init__(self):
        self.totals, self.done, self.steps = [], [], []

    @contextmanager
    def files(self, total, label):
        self.totals.append(total)
        yield self.done.append

    @contextmanager
    def step(self, text):
        self.steps.append(text)
        yield


def test_files_read_by_worker_processes_give_the_same_report_and_facts(tmp_path, monkeypatch):
    """Large runs are read by batches in this process and in worker processes (results sent back
    as Arrow buffers): the report and the stored facts are those of a run read here alone."""
    from acterr_cli import importing

    corpus = Path(__file__).parent / "corpus"
    files = sorted((corpus / "tidy").iterdir()) + sorted((corpus / "broken").glob("*.xlsx"))
    told_alone, told_shared = Counting(), Counting()
    alone = api.import_paths(tmp_path / "seul", files, progress=told_alone)
    for name, value in (("PARALLEL_FROM", 2), ("MIN_BATCH_FILES", 1), ("BATCH_FILES", 2)):
        monkeypatch.setattr(importing, name, value)
    shared = api.import_paths(tmp_path / "partage", files, progress=told_shared)
    assert shared.to_dict() == alone.to_dict()
    # every file told once as read, here or by a worker; then the write
    for told in (told_alone, told_shared):
        assert told.totals == [len(files)] and sum(told.done) == len(files)
        assert told.steps == ["Écriture dans l'espace de travail"]
    for dataset in ("organismes", "patrimoine", "achats", "liasse"):
        a, b = (facts(root, dataset) for root in (tmp_path / "seul", tmp_path / "partage"))
        columns = sorted(a.columns)  # their order follows the batches a file was read in
        assert b.select(columns).sort(columns, nulls_last=True).equals(a.select(columns).sort(columns, nulls_last=True)), dataset


def test_many_copies_of_one_questionnaire_name_a_few_of_the_others(tmp_path):
    """Hundreds of copies in a drop folder: each refusal names three others and counts the rest,
    so that a log stays readable."""
    import shutil

    first = builders.write_org_a(tmp_path / "copies")
    for i in range(9):
        shutil.copy(first, tmp_path / "copies" / f"copie_{i}.xlsx")
    report = api.verify_paths(sorted((tmp_path / "copies").glob("*.xlsx")))
    messages = [p.message for p in report.problems if p.regle == "doublon"]
    assert len(report.refused) == 10 and len(messages) == 10
    assert all("10 fichiers identiques pour l'organisme" in m and "et 6 autres" in m for m in messages)
