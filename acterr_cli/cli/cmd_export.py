"""`acterr export`: the board workbook and the terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_out, print_json
from acterr_cli.errors import UsageError
from acterr_cli.outputs import terminal

LEVEL_HELP = "Niveau de territoire : COMMUNE, EPCI, DEPARTEMENT, REGION ou FRANCE."

def export_cmd(
    ctx: typer.Context,
    territoire: str = typer.Option("EPCI", "--territoire", "-t", help=LEVEL_HELP),
    exercice: Optional[int] = typer.Option(None, "--exercice", help="Exercice à présenter (par défaut : le plus récent)."),
    sortie: Path = typer.Option(Path("rapport_acterr.xlsx"), "--sortie", "-o", help="Classeur Excel à écrire."),
    forcer: bool = typer.Option(False, "--forcer", help="Remplacer le fichier de sortie s'il existe."),
    json_: bool = typer.Option(False, "--json", help="Décrire le rapport écrit en JSON sur la sortie standard."),
) -> None:
    from acterr_cli.outputs.excel_report import write_report

    if sortie.exists() and not forcer:
        raise UsageError(f"{sortie} existe déjà : ajoutez --forcer pour le remplacer.")
    computation = api.results_for(ctx.obj.espace, territoire, None, referentiel=ctx.obj.load_referentiel())
    written = write_report(sortie, computation, exercice)
    if json_:
        print_json({"version": 1, "rapport": str(written.path), "exercice": written.exercice, "feuilles": written.sheets})
        return
    terminal.print_summary(terminal.for_exercice(computation.results, written.exercice), computation.level, console_out)
    console_out.print(f"\nRapport Excel écrit : [bold]{written.path}[/]")
