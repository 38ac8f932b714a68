"""Bars and spinners on a terminal, nothing elsewhere: a cron log or a pipe gets the report
lines only (see acterr_cli/progress.py for what the library tells)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars
from rich.text import Text

from acterr_cli.progress import SILENT, Advance, Progress


class TerminalProgress(Progress):
    def __init__(self, console: Console):
        self.console = console

    @contextmanager
    def files(self, total: int, label: str) -> Iterator[Advance | None]:
        if total < 2:  # one file: a bar would only flash
            with self.step(f"{label} du fichier…"):
                yield None
            return
        columns = (TextColumn(f"{label} des fichiers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Bars(*columns, console=self.console, transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        # Text, not markup: a file name such as « liasse [v2].csv » is shown as it is.
        with self.console.status(Text(text if text.endswith("…") else f"{text}…")):
            yield


def progress_for(console: Console) -> Progress:
    """Bars and spinners only when `console` is a terminal."""
    return TerminalProgress(console) if console.is_terminal else SILENT
