"""The drop folder of `acterr executer` is open to the organisations: a symbolic link (to a file or
a folder, inside or outside), or anything that is not a regular file, is refused and listed in
the run report, never read; control characters in file names are escaped in every log line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import builders
import pytest

from acterr_cli.scheduled import execute

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="POSIX links")


@pytest.fixture
def task(tmp_path) -> dict:
    base = tmp_path / "ar"
    depot = base / "depot"
    depot.mkdir(parents=True)
    builders.write_org_b(depot)
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text("siren;mot_de_passe\nroot;x:0:0:SECRET\n", "utf-8")
    builders.write_org_a(outside)
    config = base / "acterr.toml"
    config.write_text('espace = "espace"\ndepot = "depot"\njournal = "journal.json"\n', "utf-8")
    return {"base": base, "depot": depot, "outside": outside, "secret": secret, "config": config}


def run(config: Path) -> tuple[dict, int, list[str]]:
    lines: list[str] = []
    report, code = execute(config, lines.append)
    return report, code, lines


def by_name(report: dict) -> dict[str, dict]:
    return {f["fichier"]: f for f in report["fichiers"]}


def test_links_are_refused_and_listed(task):
    depot = task["depot"]
    (depot / "mot_de_passe.csv").symlink_to(task["secret"])
    (depot / "org_a.xlsx").symlink_to(task["outside"] / "org_a.xlsx")
    (depot / "copie_b.xlsx").symlink_to(depot / "org_b.xlsx")  # inside the folder: still a link
    (depot / "casse.xlsx").symlink_to(task["outside"] / "absent.xlsx")  # dangling
    (depot / "partage").symlink_to(task["outside"], target_is_directory=True)
    report, code, lines = run(task["config"])
    assert code == 3
    files = by_name(report)
    assert files["org_b.xlsx"]["statut"] == "importe"
    for name in ("mot_de_passe.csv", "org_a.xlsx", "copie_b.xlsx", "casse.xlsx", "partage"):
        assert files[name]["statut"] == "refuse" and "lien symbolique" in files[name]["motif"], files[name]
        assert any(line.startswith(f"refusé : {name} : lien symbolique") for line in lines), lines
    assert not any("org_a.xlsx" in f or "secret" in f for f in files if f not in ("org_a.xlsx",))
    journal = (task["base"] / "journal.json").read_text("utf-8")
    assert "SECRET" not in journal and "SECRET" not in " ".join(lines)  # the target was never read
    assert json.loads(journal)["depot_resume"]["refuses"] == 5
    # only B reached the workspace
    units = json.loads((task["base"] / "espace" / "manifest.json").read_text("utf-8"))["unites"]
    assert {u["siren"] for u in units.values()} == {builders.SIREN_B}


def test_a_named_pipe_is_refused_without_blocking_the_run(task):
    os.mkfifo(task["depot"] / "tube.csv")
    report, code, lines = run(task["config"])
    assert code == 3
    assert "pas un fichier ordinaire" in by_name(report)["tube.csv"]["motif"]


def test_control_characters_in_file_names_are_escaped_in_the_log(task):
    depot = task["depot"]
    hostile = "org\x1b[31mROUGE\rfaux\nrefusé.xlsx"
    (depot / hostile).write_text("pas un classeur", "utf-8")  # refused: its name is logged
    result = subprocess.run([sys.executable, "-m", "acterr_cli", "executer", str(task["config"])],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert "refusé : org\\x1b[31mROUGE faux refusé.xlsx : " in result.stderr  # CR, LF: blanks of the one-line motif
    # one dated line per message, whatever the names hold
    assert all(line[:4].isdigit() for line in result.stderr.splitlines() if line.strip()), result.stderr
    journal = json.loads((task["base"] / "journal.json").read_text("utf-8"))
    assert hostile in {f["fichier"] for f in journal["fichiers"]}  # the JSON keeps the name, escaped by JSON itself


def test_verifier_escapes_a_hostile_name_on_the_terminal(tmp_path):
    folder = tmp_path / "f"
    path = builders.write_org_b(folder, "b\x1b]0;titre\x07\x1b[2J.xlsx")
    result = subprocess.run([sys.executable, "-m", "acterr_cli", "verifier", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr
    assert "b\\x1b]0;titre" in result.stderr


def test_a_line_break_in_a_file_name_is_escaped_in_the_import_report(tmp_path):
    path = tmp_path / "deux\nlignes.xlsx"
    path.write_text("pas un classeur", "utf-8")
    result = subprocess.run([sys.executable, "-m", "acterr_cli", "verifier", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "deux\\x0alignes.xlsx : refusé" in result.stderr and "erreur deux\\x0alignes.xlsx : " in result.stderr
    assert not any(line.startswith("lignes.xlsx") for line in result.stderr.splitlines())
