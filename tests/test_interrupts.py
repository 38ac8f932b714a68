"""Interrupts: Ctrl-C (SIGINT to the process group, as a terminal sends it), SIGTERM (to the acterr
process alone, as cron's `timeout` or a service stop) and SIGHUP (to the group, a closed terminal)
at chosen points of import, compute, export and executer, with 8 worker processes forced
(ACTERR_PROCESSUS=9: 8 workers beside the command's process).

Each scenario runs the real command (`acterr_cli.cli.app.main`) in a child process started in a
new session; a monkeypatch in the child only (no test hook in the product) makes it write a marker
file and wait at the chosen point; the test then sends the signal and checks: the exit code
(128 + signal), « Interrompu. » and no traceback on stderr, the end within 2 s, no process of the
session left alive, the workspace's facts unchanged, no temporary file left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import builders
import pytest

from acterr_cli import api
from acterr_cli.workspace.store import Workspace

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process checks read /proc")

WORKERS = "9"  # processes reading files: this one and 8 workers
LIMIT = 2.0  # seconds from the signal to the end of the process

CHILD = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path

    def hold(marker, stuck=False):
        marker.write_text(str(os.getpid()))
        try:
            while True:
                time.sleep(0.02)
        finally:
            while stuck:  # a clean-up that never ends: the watchdog must end the process
                time.sleep(0.02)

    if __name__ == "__main__":  # not in the worker processes, which import this file as __mp_main__
        point, marker = sys.argv[1], Path(sys.argv[2])
        sys.argv = ["acterr", *sys.argv[3:]]
        if point in ("lecture", "bloque"):  # this process reads its first batch, the workers theirs
            from acterr_cli import importing
            importing.read_batch = lambda *a, **k: hold(marker, stuck=point == "bloque")
        elif point == "demarrage":  # a worker is started, its start-up message not yet sent to it
            from multiprocessing import util
            from acterr_cli import interrupts
            original_spawn, spawned = util.spawnv_passfds, []
            def spawn(*args):
                pid = original_spawn(*args)
                spawned.append(pid)
                if len(spawned) == 3:  # the resource tracker, then two workers
                    marker.write_text(str(os.getpid()))
                    while interrupts.received() is None:
                        time.sleep(0.02)
                return pid
            util.spawnv_passfds = spawn
        elif point == "attente":  # this process waits for the workers' batches
            from acterr_cli import importing
            importing.wait = lambda *a, **k: hold(marker)
        elif point == "ecriture":  # inside the commit: one new fact file written, manifest untouched
            from acterr_cli.workspace import store
            original = store.Workspace._write_fact
            def write_fact(self, rel, frame):
                path = original(self, rel, frame)
                hold(marker)
            store.Workspace._write_fact = write_fact
        elif point == "calcul":  # compute, under the workspace's lock
            from acterr_cli import api
            api.compute = lambda *a, **k: hold(marker)
        elif point == "rapport":  # the report is written in its temporary file, not yet renamed
            real_replace = os.replace
            def replace(src, dst):
                if str(dst).endswith(".xlsx"):
                    hold(marker)
                return real_replace(src, dst)
            os.replace = replace
        from acterr_cli.cli.app import main
        main()
''')


def distinct_questionnaires(folder: Path, count: int) -> list[Path]:
    """`count` organisations with A's tables under valid SIRENs: an import that would change the
    workspace if it went to its end."""
    folder.mkdir(parents=True, exist_ok=True)
    files, number = [], 900_002_000
    while len(files) < count:
        number += 1
        if _luhn(str(number)):
            org = {**builders.ORG_A, "siren": str(number), "raison_sociale": f"Organisme {len(files)}"}
            files.append(builders.write_questionnaire(folder / f"org_{len(files):02d}.xlsx", org, builders.TABLES_A))
    return files


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A workspace with A and B imported and computed, 16 more questionnaires, their snapshot."""
    root = tmp_path_factory.mktemp("interruptions")
    espace = root / "espace"
    assert not api.import_paths(espace, builders.write_all(root / "base")).refused
    api.compute_level(espace, "EPCI")
    return {"root": root, "espace": espace, "files": distinct_questionnaires(root / "nouveaux", 16), "facts": facts(espace)}


def facts(espace: Path) -> dict:
    """The manifest's units and every live fact, as a reader sees them."""
    ws = Workspace.open(espace, create=False)
    units = {k: {d: v for d, v in e.items() if d != "importe_le"} for k, e in ws.units().items()}
    out = {"unites": json.dumps(units, sort_keys=True)}
    for dataset in sorted({d for e in ws.units().values() for d in e["jeux"]}):
        frame = ws.scan(dataset).collect()
        out[dataset] = frame.select(sorted(frame.columns)).sort(sorted(frame.columns), nulls_last=True)
    return out


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] if isinstance(a[k], str) else a[k].equals(b[k]) for k in a)


def copy_workspace(world: dict, tmp_path: Path) -> Path:
    import shutil

    espace = tmp_path / "espace"
    shutil.copytree(world["espace"], espace)
    return espace


def session_processes(sid: int) -> list[str]:
    """Live processes (zombies aside: dead, waiting to be reaped by init) of a session."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(stat[:60])
    return found


def interrupt(tmp_path: Path, point: str, signum: int, group: bool, *args: str, cwd: Path | None = None) -> tuple[int, str, float]:
    """Runs `acterr ARGS` held at `point`, sends `signum` (to the process group, or to the acterr
    process alone), returns its exit code, stderr and the seconds from the signal to its end,
    after checking that no process of its session is left."""
    script = tmp_path / "enfant.py"
    script.write_text(CHILD, "utf-8")
    marker = tmp_path / f"repere-{point}"
    marker.unlink(missing_ok=True)
    env = {**os.environ, "ACTERR_PROCESSUS": WORKERS}
    proc = subprocess.Popen([sys.executable, str(script), point, str(marker), *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"fini avant le point {point} : {proc.stderr.read()}")
            assert time.monotonic() < deadline, f"point {point} jamais atteint"
            time.sleep(0.02)
        sent = time.monotonic()
        (os.killpg if group else os.kill)(proc.pid, signum)
        proc.wait(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    err = proc.stderr.read()
    deadline = time.monotonic() + 5  # the resource tracker leaves once it sees every user gone
    while (left := session_processes(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processus restés après l'interruption : {left}"
    return proc.returncode, err, elapsed


def check_interrupted(code: int, err: str, elapsed: float, signum: int) -> None:
    assert code == 128 + signum, err
    assert "Interrompu." in err
    for noise in ("Traceback", "Exception ignored", "KeyboardInterrupt", "BrokenProcessPool", "leaked", "Erreur interne"):
        assert noise not in err, err
    assert elapsed < LIMIT, f"{elapsed:.2f} s entre le signal et la fin"


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("point, signum, group", [
    ("lecture", signal.SIGINT, True),     # Ctrl-C while the workers start and read
    ("attente", signal.SIGTERM, False),   # timeout's SIGTERM while this process waits for them
    ("lecture", signal.SIGHUP, True),     # the terminal closed
    ("demarrage", signal.SIGTERM, True),  # a service stop, while the workers are being started
])
def test_import_interrupted_while_reading(world, tmp_path, point, signum, group):
    espace = copy_workspace(world, tmp_path)
    code, err, elapsed = interrupt(tmp_path, point, signum, group, "--espace", str(espace), "import", *map(str, world["files"]))
    check_interrupted(code, err, elapsed, signum)
    assert same(facts(espace), world["facts"])
    assert temporaries(espace) == []
    print(f"{point} {signal.Signals(signum).name} : fin {elapsed:.2f} s après le signal")


def test_import_interrupted_inside_its_commit_keeps_the_old_state(world, tmp_path):
    espace = copy_workspace(world, tmp_path)
    # 4 files (3 workers): the commit comes after the reading, which 8 workers make long on few cores
    code, err, elapsed = interrupt(tmp_path, "ecriture", signal.SIGTERM, False, "--espace", str(espace), "import",
                                   *map(str, world["files"][:4]))
    check_interrupted(code, err, elapsed, signal.SIGTERM)
    assert same(facts(espace), world["facts"])
    # the next writer cleans what was left and imports whole
    assert not api.import_paths(espace, world["files"][:2]).refused
    assert temporaries(espace) == []


def test_stuck_clean_up_is_cut_by_the_watchdog(world, tmp_path):
    espace = copy_workspace(world, tmp_path)
    code, err, elapsed = interrupt(tmp_path, "bloque", signal.SIGINT, True, "--espace", str(espace), "import",
                                   *map(str, world["files"]))
    check_interrupted(code, err, elapsed, signal.SIGINT)
    assert same(facts(espace), world["facts"])


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_compute_interrupted(world, tmp_path, signum, group):
    espace = copy_workspace(world, tmp_path)
    code, err, elapsed = interrupt(tmp_path, "calcul", signum, group, "--espace", str(espace), "compute", "--territoire", "EPCI")
    check_interrupted(code, err, elapsed, signum)
    assert same(facts(espace), world["facts"])
    api.compute_level(espace, "EPCI")  # the lock went with the process


@pytest.mark.parametrize("signum, group", [(signal.SIGTERM, False), (signal.SIGINT, True)])
def test_export_interrupted_leaves_no_temporary_file(world, tmp_path, signum, group):
    espace = copy_workspace(world, tmp_path)
    out = tmp_path / "sortie"
    out.mkdir()
    code, err, elapsed = interrupt(tmp_path, "rapport", signum, group, "--espace", str(espace), "export",
                                   "--territoire", "EPCI", "--sortie", str(out / "rapport.xlsx"))
    check_interrupted(code, err, elapsed, signum)
    assert list(out.iterdir()) == []  # neither the report nor its temporary file
    assert same(facts(espace), world["facts"])


@pytest.mark.parametrize("signum, group", [(signal.SIGHUP, True), (signal.SIGTERM, False)])  # the terminal closed; cron's timeout
def test_executer_interrupted_while_importing(world, tmp_path, signum, group):
    base = tmp_path / "tache"
    depot = base / "depot"
    depot.mkdir(parents=True)
    for f in world["files"]:
        (depot / f.name).write_bytes(f.read_bytes())
    import shutil

    shutil.copytree(world["espace"], base / "espace")
    (base / "acterr.toml").write_text('depot = "depot"\nespace = "espace"\njournal = "journal.json"\n'
                                      '[[rapports]]\nniveau = "EPCI"\nsortie = "rapport.xlsx"\n', "utf-8")
    code, err, elapsed = interrupt(tmp_path, "lecture", signum, group, "executer", str(base / "acterr.toml"))
    check_interrupted(code, err, elapsed, signum)
    assert same(facts(base / "espace"), world["facts"])
    assert not (base / "rapport.xlsx").exists()
    assert temporaries(base) == []
    journal = json.loads((base / "journal.json").read_text("utf-8"))  # the run report says why it stopped
    assert journal["erreur"] == f"interrompu ({signal.Signals(signum).name})" and journal["code_sortie"] == 128 + signum


def test_export_killed_its_temporary_file_goes_with_the_next_export(world, tmp_path):
    espace = copy_workspace(world, tmp_path)
    out = tmp_path / "sortie"
    out.mkdir()
    args = ("--espace", str(espace), "export", "--territoire", "EPCI", "--sortie", str(out / "rapport.xlsx"))
    code, err, _ = interrupt(tmp_path, "rapport", signal.SIGKILL, False, *args)
    assert code == -signal.SIGKILL
    assert [p.name.startswith(".rapport.xlsx.") for p in temporaries(out)] == [True]  # SIGKILL: left behind
    result = subprocess.run([sys.executable, "-m", "acterr_cli", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert temporaries(out) == [] and (out / "rapport.xlsx").exists()


def test_import_killed_leaves_no_worker_behind(world, tmp_path):
    """SIGKILL cannot be handled: the workers notice their parent's death by themselves."""
    espace = copy_workspace(world, tmp_path)
    code, err, elapsed = interrupt(tmp_path, "lecture", signal.SIGKILL, False, "--espace", str(espace), "import",
                                   *map(str, world["files"]))
    assert code == -signal.SIGKILL
    assert "Traceback" not in err, err
    assert same(facts(espace), world["facts"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupt_while_the_command_loads(signum):
    """Between the start of `acterr` and its main function (half a second of imports), an
    interrupt ends it at once, as promised."""
    code = ("import os, signal, sys, time\n"
            "sys.argv = ['/usr/bin/acterr']\n"
            "import acterr_cli.cli  # what the entry point imports first\n"
            f"os.kill(os.getpid(), {int(signum)})\n"
            "time.sleep(30)\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 128 + signum and result.stderr == "Interrompu.\n", result.stderr
    assert time.monotonic() - started < 10


def test_compute_and_executer_killed_then_run_again(world, tmp_path):
    """SIGKILL in a compute (under the lock) and in an executer run (reading the drop folder):
    figures unchanged, and the next run works and leaves no temporary file."""
    espace = copy_workspace(world, tmp_path)
    code, _, _ = interrupt(tmp_path, "calcul", signal.SIGKILL, False, "--espace", str(espace), "compute", "--territoire", "EPCI")
    assert code == -signal.SIGKILL
    assert same(facts(espace), world["facts"])
    api.compute_level(espace, "EPCI")  # the lock went with the process
    assert temporaries(espace) == []

    base = tmp_path / "tache"
    (base / "depot").mkdir(parents=True)
    for f in world["files"][:4]:
        (base / "depot" / f.name).write_bytes(f.read_bytes())
    (base / "acterr.toml").write_text('depot = "depot"\nespace = "espace"\njournal = "journal-{date}-{heure}.json"\n', "utf-8")
    code, _, _ = interrupt(tmp_path, "lecture", signal.SIGKILL, False, "executer", str(base / "acterr.toml"))
    assert code == -signal.SIGKILL
    [left] = base.glob("journal-*.json")  # a killed run's journal says it never ended
    assert json.loads(left.read_text("utf-8"))["erreur"].startswith("exécution en cours")
    result = subprocess.run([sys.executable, "-m", "acterr_cli", "executer", str(base / "acterr.toml")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert temporaries(base) == []
