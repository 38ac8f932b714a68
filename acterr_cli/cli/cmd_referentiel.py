"""`acterr referentiel`: the indicator catalogue and parameters, and checks of user files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_err, console_out, print_json
from acterr_cli.outputs import terminal


def referentiel_cmd(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Catalogue et paramètres en JSON."),
    verifier: Optional[Path] = typer.Option(
        None, "--verifier", help="Vérifier un fichier utilisateur (paramètres modifiés, indicateurs ajoutés) sans rien calculer."),
    methode: bool = typer.Option(
        False, "--methode", help="Note de méthode en Markdown (formules, données, paramètres et sources, limites), "
                                 "celle de docs/METHODE.md, avec les fichiers utilisateur donnés."),
) -> None:
    files = [*ctx.obj.referentiel, *([verifier] if verifier else [])]
    referentiel = api.check_referentiel(files)  # ConfigurationError (exit 5) lists every problem
    if verifier:
        console_err.print(f"{verifier} : fichier valide ({len(referentiel.indicators)} indicateurs, "
                          f"{len(referentiel.parameters)} paramètres après application).", markup=False)
        if not (json_ or methode):
            return
    if methode:
        typer.echo(api.method_note(referentiel), nl=False)
    elif json_:
        print_json(terminal.referentiel_document(referentiel))
    else:
        terminal.print_referentiel(referentiel, console_out)
