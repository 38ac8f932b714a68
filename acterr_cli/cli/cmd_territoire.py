"""`acterr territoire`: what a territorial code or name is, and where it belongs."""

from __future__ import annotations

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_out, print_json
from acterr_cli.errors import ExitCode
from acterr_cli.outputs import terminal


def territoire_cmd(
    requete: str = typer.Argument(..., metavar="CODE_OU_NOM", help="Code (commune, ancien code, SIREN d'EPCI, département, région) ou nom."),
    json_: bool = typer.Option(False, "--json", help="Réponse en JSON."),
) -> None:
    hits = api.lookup_territory(requete)
    if json_:
        print_json({"version": 1, "requete": requete, "resultats": hits})
    else:
        terminal.print_territories(requete, hits, console_out)
    if not hits:
        raise typer.Exit(int(ExitCode.INPUT_MISSING))
