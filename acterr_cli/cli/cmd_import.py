"""`acterr import` and `acterr verifier`: read, check, store (or only check) input files."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from acterr_cli import api
from acterr_cli.cli.context import console_err, print_json
from acterr_cli.errors import ExitCode
from acterr_cli.outputs import terminal


def import_cmd(
    ctx: typer.Context,
    fichiers: List[Path] = typer.Argument(..., help="Fichiers à importer (questionnaires .xlsx, liasses .csv ou .xlsx)."),
    type_: Optional[str] = typer.Option(None, "--type", help="Forcer le type : questionnaire ou liasse (sinon détecté d'après le contenu)."),
    json_: bool = typer.Option(False, "--json", help="Rapport d'import en JSON sur la sortie standard."),
    attendre: float = typer.Option(0.0, "--attendre", help="Secondes d'attente si un autre acterr écrit dans le même espace."),
) -> None:
    report = api.import_paths(ctx.obj.espace, fichiers, type_, attendre)
    _finish_file_report(report, json_, verb="importé")


def verifier_cmd(
    fichiers: List[Path] = typer.Argument(..., help="Fichiers à vérifier."),
    type_: Optional[str] = typer.Option(None, "--type", help="Forcer le type : questionnaire ou liasse."),
    json_: bool = typer.Option(False, "--json", help="Rapport de vérification en JSON sur la sortie standard."),
) -> None:
    report = api.verify_paths(fichiers, type_)
    _finish_file_report(report, json_, verb="valide")


def _finish_file_report(report: api.ImportReport, json_: bool, verb: str) -> None:
    if json_:
        print_json(report.to_dict())
    else:
        terminal.print_file_report(report, console_err, verb)
    if report.refused:
        raise typer.Exit(int(ExitCode.INVALID_DATA))
