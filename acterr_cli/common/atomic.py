"""Atomic file output: write to a temporary file in the same folder, then rename over the target.

A reader (or a killed process) therefore sees either the old file or the new one, never half;
the temporary file a killed process leaves is removed by the next write of the same file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from acterr_cli.errors import system_error_in

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target` atomically.

    The temporary file is held under an exclusive flock while it is written: one left by a killed
    process (SIGKILL, a power cut) has no holder any more, and the next write of the same target
    removes it. A failed write (full disk, refused rights, a library's wrapping of either) is an
    OSError named after the file the user asked for, never half-written."""
    target = Path(target)
    tmp = None
    fd = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        tmp = Path(name)
        _lock(fd)
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:  # named after the file the user asked for, not our temporary one
        if exc.filename is not None and (tmp is None or Path(exc.filename) in (tmp, target.parent)):
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    except Exception as exc:  # a library's own error around the system's (xlsxwriter's FileCreateError)
        cause = system_error_in(exc)
        if cause is None:
            raise
        named = cause.filename is None or tmp is None or Path(cause.filename) in (tmp, target.parent)
        raise OSError(cause.errno, cause.strerror, str(target) if named else cause.filename) from exc
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
        if fd is not None:
            os.close(fd)


def remove_stale_temporaries(target: Path) -> None:
    """Temporary files of `target` (`.NAME.xxxx.tmp` beside it) whose writer is gone."""
    prefix = f".{Path(target).name}."
    try:
        entries = list(os.scandir(Path(target).parent))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False):
            if _abandoned(entry.path):
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


def _abandoned(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is at work
        return True
    finally:
        os.close(fd)


def _lock(fd: int) -> None:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without locks: no temporary file of it is ever taken for abandoned


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)


def _mode_for(target: Path) -> int:
    """mkstemp creates files readable by their owner only: give the output the permissions a
    plain write would have had (those of the file it replaces, else the umask's)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
