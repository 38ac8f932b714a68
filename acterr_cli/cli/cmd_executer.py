"""`acterr executer CONFIG.toml`: the whole chain for a scheduled job (cron)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_err, print_json
from acterr_cli.cli.progress import progress_for
from acterr_cli.errors import printable


def executer_cmd(
    config: Path = typer.Argument(..., metavar="CONFIG", help="Fichier de configuration TOML (voir README, « Exécution planifiée »)."),
    json_: bool = typer.Option(False, "--json", help="Rapport d'exécution en JSON sur la sortie standard."),
) -> None:
    def log(message: str) -> None:
        # one line each, whatever the file names hold (« \\n », ANSI sequences): written as escapes
        console_err.print(f"{datetime.now():%Y-%m-%d %H:%M:%S} acterr : {printable(message)}", markup=False, highlight=False)

    report, code = api.run_scheduled(config, log, progress_for(console_err))
    if json_:
        print_json(report)
    raise typer.Exit(code)
