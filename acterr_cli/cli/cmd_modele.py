"""`acterr modele …`: workbooks acterr provides (the blank questionnaire)."""

from __future__ import annotations

from pathlib import Path

import typer

from acterr_cli.cli.context import console_err
from acterr_cli.errors import UsageError


def modele_questionnaire_cmd(
    sortie: Path = typer.Option(Path("questionnaire_acterr.xlsx"), "--sortie", "-o", help="Classeur à écrire."),
    forcer: bool = typer.Option(False, "--forcer", help="Remplacer le fichier s'il existe."),
) -> None:
    from acterr_cli.outputs.questionnaire_template import write_questionnaire

    if sortie.exists() and not forcer:
        raise UsageError(f"{sortie} existe déjà : ajoutez --forcer pour le remplacer.")
    write_questionnaire(sortie)
    console_err.print(f"Questionnaire vierge écrit : {sortie}")
