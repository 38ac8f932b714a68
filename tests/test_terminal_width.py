"""The terminal summaries at 80 and 120 columns (issue 15): COLUMNS is honoured when the output is
redirected too; no line is wider than the terminal, no number is cut (« 7… »), every headline
label of the panels reads whole at 80 columns (the panels stand one above the other), and the
narrow table's abbreviations and the evidence grades are explained."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acterr_cli.cli.app import app

SAMPLES = Path(__file__).parents[1] / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def espace(tmp_path_factory) -> Path:
    espace = tmp_path_factory.mktemp("largeur") / "espace"
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + sorted(SAMPLES.glob("liasse_*.csv"))
    result = runner.invoke(app, ["--espace", str(espace), "import", *map(str, files)])
    assert result.exit_code == 0, result.output
    return espace


def run(espace: Path, width: int, *args: str) -> str:
    """The command as a user runs it, its output redirected (a pipe, not a terminal)."""
    env = {**os.environ, "COLUMNS": str(width)}
    done = subprocess.run([sys.executable, "-m", "acterr_cli", "--espace", str(espace), *args], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("width", [80, 120])
def test_no_line_wider_than_the_terminal_and_no_number_cut(espace, tmp_path, width):
    screens = [run(espace, width, "compute", "--territoire", "EPCI"),
               run(espace, width, "export", "--territoire", "EPCI", "--sortie", str(tmp_path / "r.xlsx"))]
    for screen in screens:
        lines = screen.splitlines()
        assert max(len(line) for line in lines) <= width, max(lines, key=len)
        assert not re.search(r"\d…|…\d", screen)  # a figure is never cut
        assert "(s)" not in screen  # « 7 autres territoires », never « autre(s) »
    table, report = screens
    assert "Colonnes — Logements : Logements sociaux des organismes importés" in " ".join(table.split())
    assert "Fiabilité : A mesurée" in " ".join(table.split())
    assert re.search(r"\d [ABC]\b", table)  # the grade beside each figure
    if width == 80:  # the panels one above the other: every label whole
        panels = [line for line in report.splitlines() if line.startswith("│")]
        assert panels and "…" not in "".join(panels)
        assert any(line.startswith("│ Investissement ") for line in panels)
