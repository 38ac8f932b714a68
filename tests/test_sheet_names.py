"""Nothing dropped silently: a questionnaire sheet whose name is not recognised is reported by
name with the closest known one; names are matched with Unicode case folding and without accents
(« FISCALİTÉ », « fıscalıte »); a known sheet missing from a workbook that replaces a stored one
refuses the file (exit 3, stored figures unchanged) unless --feuilles-retirees says it is meant."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import builders
import openpyxl
import pytest

from acterr_cli import api
from acterr_cli.inputs.excel import sheet_key
from acterr_cli.workspace.store import Workspace


def rename_sheet(path: Path, old: str, new: str | None) -> Path:
    """`new` None: the sheet is deleted."""
    wb = openpyxl.load_workbook(path)
    if new is None:
        del wb[old]
    else:
        wb[old].title = new
    wb.save(path)
    return path


def org_a(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return builders.write_org_a(folder, name)


def acterr(espace: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "acterr_cli", "--espace", str(espace), *args],
                          capture_output=True, text=True, timeout=120)


def fiscalite(espace: Path):
    frame = Workspace.open(espace, create=False).scan("fiscalite")
    return None if frame is None else frame.collect().sort("commune")


def test_sheet_keys_fold_case_accents_and_dotless_i():
    assert {sheet_key(s) for s in ("Fiscalite", "FISCALİTÉ", "fıscalıte", "Fiscalité", " fiscalite ")} == {"fiscalite"}
    assert sheet_key("ACTIONS SOCIALES") == sheet_key("Actions_sociales")


@pytest.mark.parametrize("name", ["FISCALİTÉ", "fıscalıte", "fiscalité"])
def test_sheet_spelt_otherwise_is_read(tmp_path, name):
    path = rename_sheet(org_a(tmp_path, "a.xlsx"), "Fiscalite", name)
    report = api.verify_paths([path])
    assert not report.refused and report.problems == []
    assert report.fichiers[0].organismes[0]["feuilles"]["fiscalite"] == 2


def test_unrecognised_sheet_is_named_with_the_closest_missing_one(tmp_path):
    path = rename_sheet(org_a(tmp_path, "a.xlsx"), "Fiscalite", "Taxes foncieres")
    report = api.verify_paths([path])
    assert not report.refused  # a first import: told, not refused
    [problem] = report.problems
    assert problem.gravite == "avertissement" and problem.feuille == "Taxes foncieres"
    assert "« Taxes foncieres » non reconnue" in problem.message and "« Fiscalite »" in problem.message


def test_extra_sheet_of_the_user_is_told_too(tmp_path):
    path = org_a(tmp_path, "a.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Notes du DAF")
    wb.save(path)
    [problem] = api.verify_paths([path]).problems
    assert "« Notes du DAF » non reconnue" in problem.message and "pas une feuille du questionnaire" in problem.message


@pytest.mark.parametrize("new_name", ["Taxes foncieres", None])
def test_missing_sheet_in_a_replacing_workbook_is_refused(tmp_path, new_name):
    espace = tmp_path / "espace"
    assert not api.import_paths(espace, [org_a(tmp_path / "v1", "org_a.xlsx")]).refused
    before = fiscalite(espace)
    changed = rename_sheet(org_a(tmp_path / "v2", "org_a.xlsx"), "Fiscalite", new_name)
    result = acterr(espace, "import", str(changed))
    assert result.returncode == 3, result.stderr
    text = " ".join(result.stderr.split())
    assert "feuille « Fiscalite » absente du classeur" in text and "--feuilles-retirees" in text
    assert "Traceback" not in result.stderr
    assert fiscalite(espace).equals(before)  # the stored figures stay
    # said to be meant: imported, the sheet's data withdrawn
    result = acterr(espace, "import", "--feuilles-retirees", str(changed))
    assert result.returncode == 0, result.stderr
    assert fiscalite(espace) is None


def test_emptied_sheet_replaces_with_a_warning(tmp_path):
    espace = tmp_path / "espace"
    assert not api.import_paths(espace, [org_a(tmp_path / "v1", "org_a.xlsx")]).refused
    folder = tmp_path / "v2"
    folder.mkdir()
    emptied = builders.write_questionnaire(folder / "org_a.xlsx", builders.ORG_A, {**builders.TABLES_A, "Fiscalite": []})
    report = api.import_paths(espace, [emptied])
    assert not report.refused
    assert [p.regle for p in report.problems] == ["feuille_videe"]
    assert fiscalite(espace) is None


def test_executer_refuses_a_missing_sheet_unless_the_file_is_listed(tmp_path):
    from acterr_cli.scheduled import execute

    base = tmp_path / "ar"
    depot = base / "depot"
    config = base / "acterr.toml"
    org_a(depot, "org_a.xlsx")
    config.write_text('depot = "depot"\nespace = "espace"\n', "utf-8")
    assert execute(config, lambda _: None)[1] == 0
    before = fiscalite(base / "espace")
    rename_sheet(org_a(depot, "org_a.xlsx"), "Fiscalite", "Taxes foncieres")
    lines: list[str] = []
    report, code = execute(config, lines.append)
    assert code == 3 and any("feuille « Fiscalite » absente" in line for line in lines)
    assert fiscalite(base / "espace").equals(before)
    config.write_text('depot = "depot"\nespace = "espace"\nfeuilles_retirees = ["org_a.xlsx"]\n', "utf-8")
    report, code = execute(config, lambda _: None)  # the same file, refused before, read again now that it is listed
    assert code == 0, report
    assert fiscalite(base / "espace") is None
