"""No leftovers, clear failures: a full disk or a refused write is a French error naming the
user's file (exit 1, no traceback, nothing half-written); the temporary file of a killed writer
goes with the next write of the same file; configuration values are bounded (`attendre`); the
journal path is checked first and a dated journal is each run's own."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime as real_datetime
from pathlib import Path

import builders
import pytest

from acterr_cli import scheduled
from acterr_cli.common.atomic import atomic_output, atomic_write_bytes
from acterr_cli.errors import system_reason

FULL_DISK = textwrap.dedent('''
    import errno, sys
    import xlsxwriter.workbook

    def full(filename, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(filename))

    xlsxwriter.workbook.ZipFile = full
    from acterr_cli.cli.app import main
    sys.argv = ["acterr", *sys.argv[1:]]
    main()
''')


def test_export_on_a_full_disk_is_a_clear_french_error(espace, tmp_path):
    script = tmp_path / "disque_plein.py"
    script.write_text(FULL_DISK, "utf-8")
    out = tmp_path / "sortie"
    out.mkdir()
    target = out / "rapport.xlsx"
    result = subprocess.run([sys.executable, str(script), "--espace", str(espace), "export", "--territoire", "EPCI",
                             "--sortie", str(target)], capture_output=True, text=True, timeout=300)
    err = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stderr
    assert f"lecture ou écriture impossible : {target} (plus de place sur le disque)" in err
    for noise in ("Traceback", "Erreur interne", "FileCreateError", "No space left"):
        assert noise not in err
    assert list(out.iterdir()) == []  # nothing half-written, no temporary file


def test_library_errors_around_a_system_error_name_the_target(tmp_path):
    from xlsxwriter.exceptions import FileCreateError

    target = tmp_path / "r.xlsx"
    with pytest.raises(OSError) as raised:
        with atomic_output(target) as tmp:
            raise FileCreateError(OSError(errno.EROFS, "Read-only file system", str(tmp)))
    assert raised.value.filename == str(target) and raised.value.errno == errno.EROFS
    assert list(tmp_path.iterdir()) == []


def test_system_errors_are_said_in_french():
    assert system_reason(OSError(errno.EROFS, "Read-only file system")) == "système de fichiers en lecture seule"
    assert system_reason(OSError(errno.ENOSPC, "No space left on device")) == "plus de place sur le disque"
    assert system_reason(OSError(errno.EACCES, "Permission denied")) == "permission refusée"


def test_abandoned_temporary_files_go_with_the_next_write(tmp_path):
    target = tmp_path / "rapport.xlsx"
    abandoned = tmp_path / ".rapport.xlsx.k1ll3d.tmp"  # its writer was killed: no one holds it
    abandoned.write_bytes(b"half")
    busy = tmp_path / ".rapport.xlsx.w0rk1n.tmp"  # another process is writing it
    busy.write_bytes(b"half")
    other = tmp_path / ".autre.xlsx.k1ll3d.tmp"  # another file's: not ours to judge
    other.write_bytes(b"half")
    with open(busy, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        atomic_write_bytes(target, b"new")
        assert not abandoned.exists() and busy.exists() and other.exists()
    assert target.read_bytes() == b"new"


def write_config(base: Path, extra: str) -> Path:
    builders.write_org_b(base / "depot")
    config = base / "acterr.toml"
    config.write_text('depot = "depot"\nespace = "espace"\n' + extra, "utf-8")
    return config


@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "-1", "86401"])
def test_attendre_is_bounded(tmp_path, value):
    config = write_config(tmp_path, f"attendre = {value}\n")
    report, code = scheduled.execute(config, lambda _: None)
    assert code == 5 and "entre 0 et 86 400 (24 h)" in report["erreur"]
    assert not (tmp_path / "espace").exists()


def test_cli_attendre_is_bounded(tmp_path):
    result = subprocess.run([sys.executable, "-m", "acterr_cli", "--espace", str(tmp_path / "e"), "import", "--attendre", "1e308",
                             str(builders.write_org_b(tmp_path))], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "24 h" in result.stderr and "Traceback" not in result.stderr


def test_a_journal_that_is_a_folder_stops_the_run_before_it_starts(tmp_path):
    config = write_config(tmp_path, 'journal = "journaux"\n')
    (tmp_path / "journaux").mkdir()
    lines: list[str] = []
    report, code = scheduled.execute(config, lines.append)
    assert code == 5 and "journaux est un dossier" in report["erreur"]
    assert report["fichiers"] == [] and not (tmp_path / "espace").exists()  # nothing imported
    assert any("journaux est un dossier" in line for line in lines)


def test_dated_journals_of_runs_in_the_same_second_are_distinct(tmp_path, monkeypatch):
    class Frozen(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime(2026, 12, 5, 2, 0, 0, tzinfo=tz)

    monkeypatch.setattr(scheduled, "datetime", Frozen)
    config = write_config(tmp_path, 'journal = "journal/execution-{date}-{heure}.json"\n')
    first, _ = scheduled.execute(config, lambda _: None)
    second, _ = scheduled.execute(config, lambda _: None)
    names = sorted(p.name for p in (tmp_path / "journal").iterdir())
    assert names == ["execution-2026-12-05-020000-2.json", "execution-2026-12-05-020000.json"]
    journals = [json.loads((tmp_path / "journal" / n).read_text("utf-8")) for n in names]
    assert {j["depot_resume"]["importes"] for j in journals} == {0, 1}  # each run's own report
    assert all(j["code_sortie"] == 0 for j in journals)


def test_a_fixed_journal_name_is_overwritten_as_before(tmp_path):
    config = write_config(tmp_path, 'journal = "journal.json"\n')
    scheduled.execute(config, lambda _: None)
    scheduled.execute(config, lambda _: None)
    assert [p.name for p in tmp_path.glob("journal*")] == ["journal.json"]
    assert not [p for p in tmp_path.rglob("*.tmp")]
    os.remove(tmp_path / "journal.json")
