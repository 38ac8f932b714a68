"""Readers do not block writers: compute and export read one snapshot of the facts (the manifest)
without the write lock, and store their results under a short lock of their own; an import runs
meanwhile; a read-only workspace can still be queried."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import builders
import pytest
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.engine.run import compute
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import READERS, RESULTS_LOCK, exclusive

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def fact_files(espace: Path) -> set[Path]:
    return {p for p in (espace / "faits").rglob("*.parquet")}


def test_compute_and_export_run_while_an_import_holds_the_write_lock(espace, tmp_path):
    ws = api.Workspace.open(espace, create=False)
    with ws.locked():
        result = run("--espace", espace, "compute", "--territoire", "EPCI")
        assert result.exit_code == 0, result.output
        assert "résultats enregistrés" in result.stderr
        exported = run("--espace", espace, "export", "--territoire", "COMMUNE", "--sortie", tmp_path / "r.xlsx")
        assert exported.exit_code == 0, exported.output
    results, meta = ws.load_results("EPCI")
    assert meta["generation"] == ws.generation and results.height > 0


def test_an_import_commits_while_a_compute_reads_and_the_replaced_files_stay_for_it(espace, tmp_path):
    """A reader's snapshot lists files an import replaces: they stay until no reader is left,
    then the next writer removes them. The import itself neither waits nor fails."""
    ws = api.Workspace.open(espace, create=False)
    before = fact_files(espace)
    with ws.snapshot():
        generation = ws.generation
        changed = builders.write_questionnaire(tmp_path / "nouveau" / "org_a.xlsx", {**builders.ORG_A, "etp_total": 22},
                                               builders.TABLES_A)
        result = run("--espace", espace, "import", changed)  # --attendre 0: it does not wait for the reader
        assert result.exit_code == 0, result.output
        assert ws.generation == generation  # the reader's manifest, not the new one
        assert before <= fact_files(espace)  # the files it lists are still there
        old = compute(ws, TerritorialReference.load(), load_referentiel(), "FRANCE")
        # Stored under the results' lock: refused, as the facts changed after the snapshot.
        why = ws.save_results("FRANCE", old.results, old.meta)
        assert why is not None and "modifiées par un import pendant le calcul" in why
        assert ws.load_results("FRANCE") is None
    assert (espace / ".ecriture_en_cours").exists()  # the clean-up is due
    with api.Workspace.open(espace, create=False).locked():  # the next writer: no reader left
        pass
    listed = {espace / i["chemin"] for u in api.Workspace.open(espace, create=False).units().values() for i in u["jeux"].values()}
    assert not (espace / ".ecriture_en_cours").exists()
    assert fact_files(espace) == listed and before - listed  # the replaced files are gone now


def test_a_compute_waits_for_another_computes_short_write(espace):
    lock = exclusive(espace / RESULTS_LOCK, 0, "occupé ({})")
    lock.__enter__()
    threading.Timer(0.5, lock.__exit__, (None, None, None)).start()
    result = run("--espace", espace, "compute", "--territoire", "FRANCE")  # --attendre 0
    assert result.exit_code == 0, result.output
    assert api.Workspace.open(espace, create=False).load_results("FRANCE") is not None


def test_an_import_concurrent_with_a_compute_succeeds(espace, tmp_path):
    """Two real processes: the compute reads and stores, the import commits; both exit 0, and
    the stored results are either up to date or tagged with the older generation."""
    changed = builders.write_questionnaire(tmp_path / "nouveau" / "org_a.xlsx", {**builders.ORG_A, "etp_total": 23},
                                           builders.TABLES_A)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "acterr_cli", "--espace", str(espace)]
    compute = subprocess.Popen([*base, "compute", "--territoire", "COMMUNE,EPCI,FRANCE"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    imported = subprocess.run([*base, "import", str(changed)], env=env, capture_output=True, text=True, timeout=180)
    assert compute.wait(timeout=180) == 0, compute.stderr.read()
    assert imported.returncode == 0, imported.stderr
    ws = api.Workspace.open(espace, create=False)
    for level in ("COMMUNE", "EPCI", "FRANCE"):
        stored = ws.load_results(level)
        assert stored is None or stored[1]["generation"] <= ws.generation
    # What an export reads is up to date whatever the race: stale results are computed anew.
    fresh = api.results_for(espace, "FRANCE")
    assert fresh.meta["generation"] == ws.generation


def _without_write_rights() -> list[str] | None:
    """A command prefix under which the workspace's modes are obeyed: none needed for a user;
    root obeys them once it drops the capability to override them (setpriv), else None."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_compute_json_on_a_read_only_workspace(espace):
    """A mounted backup, or a folder the user may only read: the figures are given, the results
    are not stored, and that is said once (not once per level)."""
    prefix = _without_write_rights()
    if prefix is None:
        pytest.skip("root without setpriv: modes cannot be enforced")
    run("--espace", espace, "compute", "--territoire", "EPCI")  # stored results: they stay as they are
    copy = Path(tempfile.mkdtemp(prefix="acterr-ro-"))
    try:
        shutil.copytree(espace, copy / "espace")
        (copy / "espace" / READERS).unlink(missing_ok=True)  # even the readers' lock file cannot be made
        for path in [copy / "espace", *(copy / "espace").rglob("*")]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        before = sorted((p.relative_to(copy), p.stat().st_mtime_ns) for p in copy.rglob("*"))
        command = [*prefix, sys.executable, "-m", "acterr_cli", "--espace", str(copy / "espace"), "compute",
                   "--territoire", "EPCI,FRANCE", "--json"]
        done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        assert [level["niveau"] for level in document["calculs"]] == ["EPCI", "FRANCE"]
        assert done.stderr.count("en lecture seule : résultats non enregistrés") == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert sorted((p.relative_to(copy), p.stat().st_mtime_ns) for p in copy.rglob("*")) == before
        expected = json.loads(run("--espace", espace, "compute", "--territoire", "EPCI,FRANCE", "--json").stdout)
        for level in (document, expected):
            for part in level["calculs"]:
                part["provenance"].pop("calcule_le")
        assert document == expected
    finally:
        for path in [copy, *copy.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(copy)
