"""State shared by the commands: workspace folder, consoles (stdout for data, stderr for the rest)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

console_out = Console(highlight=False)
console_err = Console(stderr=True, highlight=False)


@dataclass
class State:
    espace: Path
    debug: bool = False


def print_json(document: dict) -> None:
    """JSON on stdout, UTF-8, stable key order (machines read it)."""
    print(json.dumps(document, ensure_ascii=False, indent=2, default=str))
