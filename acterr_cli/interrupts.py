"""Interrupts: Ctrl-C (SIGINT), SIGTERM (cron's `timeout`, a service stop) and SIGHUP (a closed
terminal or SSH session) end any command within 2 s, with « Interrompu. » and the signal's exit
code (130, 143, 129), no traceback and no process left behind.

- The command process (`install`, as soon as `acterr_cli.cli` is imported by the entry point;
  a signal then ends the process at once while the modules load): once `arm`ed by the entry
  point's main function, each of the three signals raises `Interrupted` in the main thread, so that `finally` clauses run (temporary files removed, locks
  released, worker pool torn down) and the workspace stays as it was (its commit point is one
  rename). A watchdog thread, woken by the signal itself (set_wakeup_fd, even while the main
  thread is inside a long call), ends the process after GRACE seconds if unwinding has not.
- The worker processes that read files (`worker_init`): they ignore SIGINT (Ctrl-C reaches the
  whole process group: only the command process decides), die with their parent (Linux's
  PR_SET_PDEATHSIG, elsewhere a thread that watches the parent's pid), and start with the three
  signals blocked (`signals_blocked` around their spawn), so that none interrupts their start-up
  with a traceback. multiprocessing's resource tracker, spawned at the same moment, keeps SIGHUP
  blocked for its whole life: it outlives its users only by the time it takes to see them go.

This module imports nothing heavy: a worker imports it before anything else.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)
GRACE = 1.2  # seconds of unwinding allowed before the watchdog ends the process (the promise is 2 s)
MESSAGE = "Interrompu."


class Interrupted(BaseException):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP. A BaseException, as
    KeyboardInterrupt: no `except Exception` of the library swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_state = {"received": None, "exiting": False, "told": False, "installed": False, "armed": False, "deferred": False,
          "owner": False}
_cleanups: list[Callable[[], None]] = []  # what the watchdog runs before ending the process itself


def received() -> int | None:
    """The first interrupting signal received, if any."""
    return _state["received"]


def is_entry_point(argv: list[str]) -> bool:
    """This process is the `acterr` command (its script, or `python -m acterr_cli`), not a
    program that imports the package, nor one of its worker processes."""
    if not argv:
        return False
    parts = os.path.normpath(argv[0]).split(os.sep)
    return parts[-1] in ("acterr", "acterr.exe") or parts[-2:] == ["acterr_cli", "__main__.py"]


def install(owner: bool = False) -> None:
    """In the command process, from the main thread, as early as possible. Until `arm`, there
    is nothing to clean up (modules are loading): a signal ends the process at once. `owner`:
    this process is the `acterr` command itself (not a program running its main function), whose
    signals may be ignored once it is done (see `exiting`)."""
    _state["owner"] = _state["owner"] or owner
    if _state["installed"] or threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)
    try:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (OSError, ValueError):  # no watchdog: the handlers alone
        pass
    else:
        threading.Thread(target=_watch, args=(read_end,), name="acterr-interruption", daemon=True).start()
    _state["installed"] = True


def arm() -> None:
    """The command runs: a signal now raises Interrupted in the main thread, so that it unwinds."""
    _state["armed"] = True


def exiting() -> None:
    """The command is done and its exit code chosen: a signal from now on is ignored (the output
    is whole, the process ending). Ignored, not left to Python, which restores the default
    handlers when it finalizes: a Ctrl-C in the last milliseconds would kill the process after
    its work is done. A watchdog already counting (a first signal) still bounds the exit."""
    _state["exiting"] = True
    if _state["owner"] and threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            try:
                signal.signal(signum, signal.SIG_IGN)
            except (OSError, ValueError):
                pass


def tell() -> None:
    """« Interrompu. » on stderr, once."""
    if not _state["told"]:
        _state["told"] = True
        try:
            os.write(2, (MESSAGE + "\n").encode())
        except OSError:
            pass


def _on_signal(signum: int, _frame) -> None:
    if _state["received"] is not None or _state["exiting"]:
        return  # a second Ctrl-C must not interrupt the clean-up of the first
    _state["received"] = signum
    if not _state["armed"]:
        tell()
        os._exit(128 + signum)
    if _state["deferred"]:
        return  # raised at the end of the critical section (see signals_blocked)
    raise Interrupted(signum)


def _watch(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 64)
        except InterruptedError:
            continue
        except OSError:
            return
        signums = [s for s in data if s in SIGNALS]
        if signums:
            break
    deadline = time.monotonic() + GRACE
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(left)
    # Still alive: the main thread did not unwind in time (a long call, a stuck join).
    for cleanup in list(_cleanups):
        try:
            cleanup()
        except Exception:
            pass
    _release_semaphores()
    tell()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(128 + (_state["received"] or signums[0]))


def _release_semaphores() -> None:
    """What a normal exit does for the worker pool's semaphores (unlinked, and told to
    multiprocessing's resource tracker): without it, the tracker would warn about them on stderr
    once this process is gone."""
    multiprocessing = sys.modules.get("multiprocessing.util")
    synchronize = sys.modules.get("multiprocessing.synchronize")
    if multiprocessing is None or synchronize is None:
        return
    for finalizer in list(getattr(multiprocessing, "_finalizer_registry", {}).values()):
        if getattr(finalizer, "_callback", None) is synchronize.SemLock._cleanup:
            try:
                finalizer()
            except Exception:
                pass


@contextmanager
def on_forced_exit(cleanup: Callable[[], None]) -> Iterator[None]:
    """Registers `cleanup` (kill worker processes…) for the watchdog, while the block runs."""
    _cleanups.append(cleanup)
    try:
        yield
    finally:
        _cleanups.remove(cleanup)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """A critical section for starting processes: the three signals are blocked in this thread
    (processes started here inherit the mask, and so start without being interruptible), and
    Interrupted is deferred to the end of the block (a signal received by another thread would
    otherwise interrupt a process start half-way, and the child die on a truncated start-up
    message, with a traceback); multiprocessing's resource tracker is started first."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    deferred, _state["deferred"] = _state["deferred"], True
    try:
        # multiprocessing starts its resource tracker with SIGINT and SIGTERM blocked, then
        # unblocks them in this thread: started first, then the mask set again.
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        yield
    finally:
        _state["deferred"] = deferred
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if _state["received"] is not None and _state["armed"] and not deferred and not _state["exiting"]:
        raise Interrupted(_state["received"])


def worker_init(parent: int) -> None:
    """Initializer of a worker process (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="acterr-parent", daemon=True).start()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
