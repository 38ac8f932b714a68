"""Nothing lost, ever: an import killed (SIGKILL) inside its commit leaves the workspace in its old
or its new state, never half; two acterr processes on one workspace cannot corrupt it.

Each scenario runs a real child process. The child pauses at a chosen point of the commit (a
monkeypatch in the child only: no test hook in the product), writes a marker file, and the test
kills it there or lets it go on.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import builders
import polars as pl
import pytest

from acterr_cli import api
from acterr_cli.workspace.store import MANIFEST, Workspace

CHILD = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    from acterr_cli import api
    from acterr_cli.workspace import store

    espace, marker, point, files = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
    pause = float(os.environ.get("PAUSE", "3600"))

    def hold():  # until killed, or until the test creates the release file, or `pause` seconds
        marker.write_text(str(os.getpid()))
        release, deadline = Path(str(marker) + ".go"), time.monotonic() + pause
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    if point == "fait":  # the second new fact file is written, the manifest is untouched
        original_fact, written = store.Workspace._write_fact, []
        def write_fact(self, rel, frame):
            path = original_fact(self, rel, frame)
            written.append(path)
            if len(written) == 2:
                hold()
            return path
        store.Workspace._write_fact = write_fact
    elif point == "manifeste":  # the new manifest is in its temporary file, not yet renamed
        real_replace = os.replace
        def replace(src, dst):
            if Path(dst).name == "manifest.json":
                hold()
            return real_replace(src, dst)
        os.replace = replace
    elif point in ("menage", "verrou"):  # menage: manifest renamed, replaced files still there
        original_gc, original_manifest, state = store.Workspace._collect_garbage, store.Workspace._write_manifest, {}
        def write_manifest(self, manifest):
            original_manifest(self, manifest)
            state["committed"] = True
        def collect_garbage(self):
            if point == "verrou" or state.get("committed"):  # verrou: right after taking the lock
                hold()
            original_gc(self)
        store.Workspace._write_manifest = write_manifest
        store.Workspace._collect_garbage = collect_garbage
    report = api.import_paths(espace, [Path(f) for f in files], wait_seconds=float(os.environ.get("ATTENDRE", "0")))
    sys.exit(3 if report.refused else 0)
''')


def start_child(tmp_path: Path, espace: Path, point: str, files: list[Path], pause: float = 3600, attendre: float = 0) -> tuple:
    script = tmp_path / "child.py"
    script.write_text(CHILD, "utf-8")
    marker = tmp_path / f"marker-{point}-{time.monotonic_ns()}"
    env = {**os.environ, "PAUSE": str(pause), "ATTENDRE": str(attendre)}
    proc = subprocess.Popen([sys.executable, str(script), str(espace), str(marker), point, *map(str, files)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, marker


def wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"le processus s'est terminé avant le point d'arrêt : {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("point d'arrêt jamais atteint")
        time.sleep(0.05)


def snapshot(root: Path) -> dict[str, pl.DataFrame]:
    """Every live fact of the workspace, as a reader sees it."""
    ws = Workspace.open(root, create=False)
    datasets = sorted({d for e in ws.units().values() for d in e["jeux"]})
    out = {}
    for dataset in datasets:
        frame = ws.scan(dataset).collect()
        out[dataset] = frame.select(sorted(frame.columns)).sort(sorted(frame.columns), nulls_last=True)
    return out


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)


def leftovers(root: Path) -> list[Path]:
    """Files on disk the manifest does not list (after the next writer has cleaned up)."""
    ws = Workspace.open(root, create=False)
    live = {p.resolve() for d in {d for e in ws.units().values() for d in e["jeux"]} for p in ws.dataset_paths(d)}
    facts = [p for p in (root / "faits").rglob("*") if p.is_file() and p.resolve() not in live]
    return facts + [p for p in root.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def states(tmp_path) -> dict:
    """Files of an old state (A, B) and of an import that changes A and adds C, and both states."""
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    old_files = [builders.write_org_a(inputs), builders.write_org_b(inputs)]
    tables = {**builders.TABLES_A, "Fiscalite": [{"commune": "31555", "tfpb_eur": 1000}]}
    new_files = [builders.write_questionnaire(inputs / "org_a_v2.xlsx", builders.ORG_A, tables), builders.write_org_c(inputs)]
    reference = tmp_path / "reference"
    api.import_paths(reference, old_files)
    old = snapshot(reference)
    api.import_paths(reference, new_files)
    return {"old_files": old_files, "new_files": new_files, "old": old, "new": snapshot(reference)}


@pytest.mark.parametrize("point, expected", [("fait", "old"), ("manifeste", "old"), ("menage", "new")])
def test_import_killed_inside_its_commit_leaves_old_or_new_state(tmp_path, states, point, expected):
    espace = tmp_path / "espace"
    api.import_paths(espace, states["old_files"])
    proc, marker = start_child(tmp_path, espace, point, states["new_files"])
    wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    seen = snapshot(espace)
    assert same(seen, states[expected]), f"état lu après SIGKILL ({point}) : ni l'ancien ni le nouveau"
    assert leftovers(espace), "le processus devait être tué au milieu de son écriture"
    # The next writer cleans what the killed one left, and its own import is whole.
    report = api.import_paths(espace, states["new_files"])
    assert not report.refused
    assert same(snapshot(espace), states["new"])
    assert leftovers(espace) == []


def test_first_import_killed_leaves_an_empty_usable_workspace(tmp_path, states):
    espace = tmp_path / "espace"
    proc, marker = start_child(tmp_path, espace, "fait", states["old_files"])
    wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (espace / MANIFEST).exists()
    assert Workspace.open(espace, create=False).units() == {}  # the old state: nothing
    assert not api.import_paths(espace, states["old_files"]).refused  # not mistaken for a foreign folder
    assert same(snapshot(espace), states["old"])
    assert leftovers(espace) == []


def test_second_process_is_told_the_workspace_is_busy(tmp_path, states):
    espace = tmp_path / "espace"
    proc, marker = start_child(tmp_path, espace, "verrou", states["old_files"], pause=300)
    wait_for(marker, proc)
    other = tmp_path / "autre"
    other.mkdir()
    second = subprocess.run([sys.executable, "-m", "acterr_cli", "--espace", str(espace), "import",
                             str(builders.write_org_c(other))], capture_output=True, text=True, timeout=120)
    Path(str(marker) + ".go").touch()  # the first process may now finish its import
    assert second.returncode == 4, second.stderr
    assert "utilisé par un autre processus acterr" in " ".join(second.stderr.split())
    assert "Traceback" not in second.stderr
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert same(snapshot(espace), states["old"])  # the first import is whole, the second wrote nothing


def test_second_process_waits_with_attendre(tmp_path, states):
    espace = tmp_path / "espace"
    proc, marker = start_child(tmp_path, espace, "verrou", states["old_files"], pause=2)
    wait_for(marker, proc)
    second = subprocess.run([sys.executable, "-m", "acterr_cli", "--espace", str(espace), "import", "--attendre", "60",
                             *map(str, states["new_files"])], capture_output=True, text=True, timeout=180)
    assert proc.wait(timeout=120) == 0
    assert second.returncode == 0, second.stderr
    assert same(snapshot(espace), states["new"])


def test_concurrent_imports_on_a_new_workspace_all_land(tmp_path):
    """Four processes create and fill one workspace at the same moment, each waiting its turn."""
    espace = tmp_path / "espace"
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    files = [builders.write_org_a(inputs), builders.write_org_b(inputs), builders.write_org_c(inputs), builders.write_liasse(inputs)]
    procs = [subprocess.Popen([sys.executable, "-m", "acterr_cli", "--espace", str(espace), "import", "--attendre", "120", str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    units = json.loads((espace / MANIFEST).read_text("utf-8"))["unites"]
    assert len(units) == 4
    assert leftovers(espace) == []
    reference = tmp_path / "reference"
    api.import_paths(reference, files)
    assert same(snapshot(espace), snapshot(reference))


def test_paths_can_never_lead_outside_the_workspace(tmp_path, states):
    """A value read from a file becomes part of a fact's file name: it is checked; a manifest
    edited to point elsewhere is refused rather than followed."""
    from acterr_cli.errors import ConfigurationError, InvalidDataError
    from acterr_cli.inputs.model import ImportUnit

    espace = tmp_path / "espace"
    api.import_paths(espace, states["old_files"])
    ws = Workspace.open(espace, create=False)
    frame = pl.DataFrame({"x": [1]})
    for unit in (ImportUnit("questionnaire", "../../../evil", 2025, None, {"patrimoine": frame}),
                 ImportUnit("questionnaire", "900000001", 2025, None, {"../../evil": frame})):
        with pytest.raises(InvalidDataError), ws.locked():
            ws.commit_units([unit], {unit.key: {"fichier": "x", "sha256": "0"}})
    assert not list(tmp_path.rglob("evil*"))
    assert same(snapshot(espace), states["old"])
    manifest = json.loads((espace / MANIFEST).read_text("utf-8"))
    entry = next(iter(manifest["unites"].values()))
    entry["jeux"]["patrimoine"]["chemin"] = "../../outside.parquet"
    (espace / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ConfigurationError, match="hors de l'espace"):
        Workspace.open(espace, create=False).scan("patrimoine")


def test_workspace_of_a_newer_acterr_is_refused_not_misread(tmp_path, states):
    """Several organisations share a fact file since format 2: a reader that does not know a
    format could count rows twice, so it says so instead of computing."""
    from acterr_cli.errors import ConfigurationError
    from acterr_cli.workspace.store import VERSION

    espace = tmp_path / "espace"
    api.import_paths(espace, states["old_files"])
    manifest = json.loads((espace / MANIFEST).read_text("utf-8"))
    assert manifest["version"] == VERSION
    manifest["version"] = VERSION + 1
    (espace / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(ConfigurationError, match="version plus récente"):
        api.compute_level(espace, "EPCI")


def test_results_left_half_written_by_a_killed_compute_go_at_the_next_one(tmp_path):
    import builders

    from acterr_cli import api

    espace = tmp_path / "espace"
    api.import_paths(espace, [builders.write_org_a(tmp_path)])
    api.compute_level(espace, "EPCI")
    leftover = espace / "resultats" / ".COMMUNE.393154c9.tmp"
    leftover.write_bytes(b"21 Mo d'un calcul interrompu")
    api.compute_level(espace, "FRANCE")
    assert not leftover.exists() and (espace / "resultats" / "FRANCE.parquet").exists()
