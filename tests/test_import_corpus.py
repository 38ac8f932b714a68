"""The corpus of tests/corpus (see generate_corpus.py): messy workbooks saved by LibreOffice give
exactly the facts and figures of their tidy twins; every broken file is refused with its cell."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from acterr_cli import api
from acterr_cli.errors import ERREUR
from acterr_cli.workspace.store import Workspace

CORPUS = Path(__file__).parent / "corpus"
TIDY = [CORPUS / "tidy" / n for n in ("org_a.xlsx", "org_b.xlsx", "org_c.xlsx", "org_d.xlsx", "liasse.csv")]
MESSY = [CORPUS / "messy" / n for n in ("org_a.xlsx", "org_b.ods", "org_c.xlsx", "org_d.xls", "liasse.xlsx")]
EXPECTED = json.loads((CORPUS / "broken" / "attendu.json").read_text("utf-8"))
# Where a fact came from, and the codes as typed: the only columns allowed to differ.
PROVENANCE = {"source_fichier", "source_sha256", "feuille", "ligne"}
DATASETS = ("organismes", "patrimoine", "production", "fiscalite", "salaries", "achats", "actions", "attributions", "energie", "liasse")


def stored_facts(root: Path, dataset: str) -> pl.DataFrame | None:
    scan = Workspace.open(root, create=False).scan(dataset)
    if scan is None:
        return None
    frame = scan.collect()
    keep = [c for c in frame.columns if c not in PROVENANCE and not c.endswith("_saisie")]
    return frame.select(sorted(keep)).sort(sorted(keep), nulls_last=True)


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Path, Path]:
    tidy, messy = tmp_path_factory.mktemp("tidy"), tmp_path_factory.mktemp("messy")
    for root, files in ((tidy, TIDY), (messy, MESSY)):
        report = api.import_paths(root, files)
        assert not report.refused and not report.errors_found, [str(p) for p in report.problems if p.gravite == ERREUR]
    return tidy, messy


@pytest.mark.parametrize("dataset", DATASETS)
def test_messy_twins_store_the_same_facts(twins, dataset):
    tidy, messy = (stored_facts(root, dataset) for root in twins)
    assert tidy is not None and messy is not None
    assert messy.equals(tidy), f"{dataset}\ntidy:\n{tidy}\nmessy:\n{messy}"


@pytest.mark.parametrize("level", ["COMMUNE", "EPCI", "DEPARTEMENT"])
def test_messy_twins_compute_the_same_figures(twins, level):
    tidy, messy = (api.compute_level(root, level, store=False).results for root in twins)
    assert tidy.height > 0
    assert messy.equals(tidy)


def test_messy_codes_were_really_messy(twins):
    """The messy side did go through the tolerance rules (else the test proves nothing)."""
    _, messy = twins
    saisies = Workspace.open(messy, create=False).scan("patrimoine").collect()["commune_saisie"].to_list()
    assert {"1003", "31214", "75111", "69383", "13201", "2a004", "Blagnac (31)"} <= {str(s).removesuffix(".0") for s in saisies}


def test_messy_twins_report_what_they_tolerated(twins):
    report = api.verify_paths(MESSY)
    rules = {p.regle for p in report.problems}
    assert {"total", "sous_total", "commune_nom"} <= rules
    named = next(p for p in report.problems if p.regle == "commune_nom")
    assert named.cellule and named.valeur == "Blagnac (31)" and "31069" in named.message


def test_latin1_csv_liasse_with_a_title_line_is_its_tidy_twin(tmp_path):
    for name, path in (("tidy", CORPUS / "tidy" / "liasse.csv"), ("messy", CORPUS / "messy" / "liasse_latin1.csv")):
        assert not api.import_paths(tmp_path / name, [path]).refused
    assert stored_facts(tmp_path / "messy", "liasse").equals(stored_facts(tmp_path / "tidy", "liasse"))


def test_questionnaire_resaved_by_libreoffice_is_unchanged(tmp_path):
    for name, path in (("tidy", CORPUS / "tidy" / "org_a.xlsx"), ("resaved", CORPUS / "resaved" / "org_a.xlsx")):
        report = api.import_paths(tmp_path / name, [path])
        assert not report.refused and not report.problems
    for dataset in ("organismes", "patrimoine", "production", "fiscalite"):
        assert stored_facts(tmp_path / "resaved", dataset).equals(stored_facts(tmp_path / "tidy", dataset))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_is_refused_naming_its_cell(name):
    expected = EXPECTED[name]
    report = api.verify_paths([CORPUS / "broken" / name], **expected["options"])
    assert report.refused
    errors = {(p.feuille, p.cellule, p.regle) for p in report.problems if p.gravite == ERREUR}
    assert (expected["feuille"], expected["cellule"], expected["regle"]) in errors, errors


def test_broken_files_do_not_reach_the_workspace(tmp_path):
    root = tmp_path / "espace"
    api.import_paths(root, [CORPUS / "tidy" / "org_b.xlsx"])
    before = (root / "manifest.json").read_bytes()
    report = api.import_paths(root, sorted((CORPUS / "broken").glob("*.xlsx")), exercice=2025)
    assert len(report.refused) == len(report.fichiers)
    assert (root / "manifest.json").read_bytes() == before


def test_a_run_of_refused_files_creates_no_workspace(tmp_path):
    report = api.import_paths(tmp_path / "nouvel-espace", sorted((CORPUS / "broken").glob("*.xlsx")), exercice=2025)
    assert len(report.refused) == len(report.fichiers)
    assert not (tmp_path / "nouvel-espace").exists()


def test_unknown_commune_suggests_the_close_code():
    report = api.verify_paths([CORPUS / "broken" / "commune_inconnue.xlsx"])
    [problem] = [p for p in report.problems if p.regle == "commune"]
    assert "Vouliez-vous dire" in problem.message and "31555 (Toulouse" in problem.message


def test_every_corpus_file_through_the_real_command(tmp_path):
    """The installed entry point (not CliRunner): no traceback, exit code 3, each cell named."""
    files = sorted(p for p in (CORPUS / "broken").iterdir() if p.suffix != ".json") + MESSY
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "acterr_cli", "verifier", "--exercice", "2025", *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Erreur interne" not in done.stderr
    flat = " ".join(done.stderr.split())
    for name, expected in EXPECTED.items():
        assert f"{name}" in flat and f"cellule {expected['cellule']}" in flat, name
