"""The reader registry (inputs/registry.py): one entry per input format, the readers loaded only
when used, and a new format added by one module and one entry."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.engine.measures import FACT_DATASETS
from acterr_cli.errors import UsageError
from acterr_cli.inputs import registry
from acterr_cli.inputs.model import ImportUnit, ParsedFile

ROOT = Path(__file__).resolve().parent.parent


def test_every_entry_names_a_reading_function():
    for entry in registry.READERS:
        assert callable(entry.function()), entry.kind
        assert entry.recognises is None or callable(entry.recogniser()), entry.kind
        assert entry.public or entry.suffixes, entry.kind


def test_the_engine_reads_the_datasets_the_readers_write():
    written = {d for r in registry.READERS for d in r.datasets}
    assert set(FACT_DATASETS) <= written
    assert written - set(FACT_DATASETS) == {registry.QPV_DATASET}  # QPV names, looked up by the QPV level


def test_readers_are_loaded_only_when_used():
    code = ("import sys, acterr_cli.api, acterr_cli.engine.run, acterr_cli.cli.app; "
            "print(sorted(m for m in sys.modules if m.startswith('acterr_cli.inputs.')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for entry in registry.READERS:
        assert f"'acterr_cli.inputs.{entry.module}'" not in loaded, entry.module


def test_type_help_lists_every_kind():
    from acterr_cli.cli.app import app

    help_text = " ".join(CliRunner().invoke(app, ["import", "--help"], terminal_width=300).output.split())
    for entry in registry.READERS:
        assert entry.kind in help_text


def test_a_new_format_is_one_module_and_one_entry(tmp_path, monkeypatch):
    """A reader of public data declared by one entry is imported by `api.import_paths` and
    `acterr import --type`, and its dataset is stored."""
    module = types.ModuleType("acterr_cli.inputs.essai")

    def read_file(path, reference, options, facts):
        table = pl.DataFrame({"siren": ["liste"], "exercice": [options.exercice], "commune": ["31555"], "valeur": [1.0]})
        parsed = ParsedFile(path=path, sha256="0" * 64, kind="essai")
        parsed.units.append(ImportUnit("essai", "liste", options.exercice, "Essai", {"essai_donnees": table}))
        return parsed

    module.read_file = read_file
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(registry, "READERS", (*registry.READERS, registry.Reader(
        "essai", "fichier d'essai", "essai", "read_file", ("essai_donnees",), public=True)))
    source = tmp_path / "essai.csv"
    source.write_text("x\n1\n")
    report = api.import_paths(tmp_path / "espace", [source], "essai", exercice=2024)
    assert [f.statut for f in report.fichiers] == ["importe"]
    assert api.Workspace.open(tmp_path / "espace").scan("essai_donnees").collect()["valeur"].to_list() == [1.0]
    with pytest.raises(UsageError, match="demande --exercice"):
        api.import_paths(tmp_path / "espace", [source], "essai")
