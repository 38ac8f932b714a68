"""What a long step tells while it works: files read, the step under way.

The library reports to a `Progress`; the default one shows nothing (scripts, tests, cron). The
CLI gives one that draws bars and spinners on a terminal only (cli/progress.py): a log file or a
pipe gets the report lines, never bars redrawn in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]  # n more files done


class Progress:
    """Shows nothing."""

    @contextmanager
    def files(self, total: int, label: str) -> Iterator[Advance | None]:
        """While `total` files are read: yields what to call as files are done (or None)."""
        yield None

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        """While a step without a count runs (a level computed, a report written)."""
        yield


SILENT = Progress()
