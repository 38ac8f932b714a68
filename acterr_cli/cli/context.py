"""State shared by the commands: workspace folder, consoles (stdout for data, stderr for the rest)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.segment import Segment

from acterr_cli.api import RESULTS_WAIT
from acterr_cli.errors import printable

# Not on a terminal (cron logs, pipes), rich would assume 80 columns and squeeze the tables; and
# a message is one line, whatever its length, so that a log can be read and searched line by line.


class SafeConsole(Console):
    """A console that never writes a control character of the text it shows (a file named with
    an ANSI sequence, a cell value with a carriage return): each is written as an escape, « \\x1b ».
    Rich's own styles and cursor moves (progress bars) are written as usual."""

    def _render_buffer(self, buffer):
        return super()._render_buffer(
            Segment(printable(text, keep_lines=True), style, control) if not control and text else Segment(text, style, control)
            for text, style, control in buffer)


# COLUMNS, when given, is honoured in a pipe too: lines are then wrapped to it (issue 15).
_ASKED = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() and int(os.environ["COLUMNS"]) > 0 else None
console_out = SafeConsole(highlight=False, width=None if sys.stdout.isatty() else _ASKED or 120,
                          soft_wrap=not sys.stdout.isatty() and _ASKED is None)
console_err = SafeConsole(stderr=True, highlight=False, width=None if sys.stderr.isatty() else _ASKED or 120,
                          soft_wrap=not sys.stderr.isatty() and _ASKED is None)


WAIT_HELP = "Secondes d'attente si un autre acterr écrit dans le même espace (par défaut : s'arrêter aussitôt, code 4)."
# compute and export read without the write lock (store.py): they only wait for another process
# storing its results, at least RESULTS_WAIT seconds.
RESULTS_WAIT_HELP = (f"Secondes d'attente si un autre calcul enregistre ses résultats dans le même espace ({RESULTS_WAIT // 60} min "
                     "au moins ; au-delà : code 4). Un import en cours ne bloque pas : les données sont lues telles qu'elles "
                     "étaient au début de la commande.")


@dataclass
class State:
    espace: Path
    debug: bool = False
    referentiel: list[Path] = field(default_factory=list)  # user files overriding the référentiel

    def load_referentiel(self):
        from acterr_cli.api import load_referentiel

        return load_referentiel(surcharges=self.referentiel)


def print_json(document: dict) -> None:
    """JSON on stdout, UTF-8, stable key order (machines read it)."""
    print(json.dumps(document, ensure_ascii=False, indent=2, default=str))
