"""`acterr referentiel`: the indicator catalogue and parameters."""

from __future__ import annotations

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_out, print_json
from acterr_cli.outputs import terminal


def referentiel_cmd(json_: bool = typer.Option(False, "--json", help="Catalogue et paramètres en JSON.")) -> None:
    referentiel = api.load_referentiel()
    if json_:
        print_json(terminal.referentiel_document(referentiel))
    else:
        terminal.print_referentiel(referentiel, console_out)
