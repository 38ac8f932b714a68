"""`acterr import` and `acterr verifier`: read, check, store (or only check) input files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from acterr_cli import api
from acterr_cli.cli.context import WAIT_HELP, console_err, print_json
from acterr_cli.cli.progress import progress_for
from acterr_cli.errors import ActerrError, ExitCode, UsageError
from acterr_cli.outputs import terminal

_TYPE = (f"Type de fichier : {' ou '.join(api.import_kinds(public=False))} (sinon détecté d'après le contenu) ; ou données "
         "publiques : " + ", ".join(f"{kind} ({api.reader_description(kind)})" for kind in api.import_kinds(public=True)) + ".")
_EXERCICE = "Exercice attendu : un questionnaire d'un autre exercice est refusé, les lignes d'une liasse d'un autre exercice sont écartées."
_CORRESPONDANCE = "Fichier de correspondance (TOML) pour lire une liasse dont les colonnes diffèrent du format canonique (voir samples/mappings/)."
_RAPPORT = "Écrit la liste complète des problèmes, cellule par cellule, dans ce classeur .xlsx (à renvoyer à l'organisme)."


def import_cmd(
    ctx: typer.Context,
    fichiers: List[Path] = typer.Argument(..., metavar="FICHIERS...", help="Fichiers à importer (questionnaires .xlsx/.ods, liasses .csv ou .xlsx)."),
    type_: Optional[str] = typer.Option(None, "--type", help=_TYPE),
    exercice: Optional[int] = typer.Option(None, "--exercice", help=_EXERCICE),
    correspondance: Optional[Path] = typer.Option(None, "--correspondance", help=_CORRESPONDANCE),
    ignorer_erreurs: bool = typer.Option(False, "--ignorer-erreurs",
                                         help="Importer les fichiers en erreur sans leurs lignes fautives (chacune est signalée) ; "
                                              "une erreur hors ligne (identité de l'organisme, colonne manquante) refuse toujours le fichier."),
    rapport_erreurs: Optional[Path] = typer.Option(None, "--rapport-erreurs", help=_RAPPORT),
    json_: bool = typer.Option(False, "--json", help="Rapport d'import en JSON sur la sortie standard."),
    attendre: float = typer.Option(0.0, "--attendre", help=WAIT_HELP),
    siren: Optional[str] = typer.Option(None, "--siren", help="Avec --type rpls : le RPLS est le patrimoine de cet organisme (sinon : parc de tous les bailleurs)."),
    logement: Optional[str] = typer.Option(None, "--logement", help="Avec --type loyers : appartement ou maison (sinon déduit du nom du fichier)."),
    feuilles_retirees: bool = typer.Option(False, "--feuilles-retirees",
                                           help="Accepter qu'un questionnaire qui en remplace un déjà importé n'ait plus certaines "
                                                "de ses feuilles : leurs données sont retirées de l'espace (sinon le fichier est refusé)."),
) -> None:
    with _exit_codes():
        api.check_wait(attendre)  # before reading anything
        _check_report_path(rapport_erreurs)
        report = api.import_paths(ctx.obj.espace, fichiers, type_, attendre, exercice=exercice,
                                  ignore_errors=ignorer_erreurs, mapping=correspondance, progress=progress_for(console_err),
                                  withdrawn_sheets=feuilles_retirees, siren=siren, logement=logement)
        _finish_file_report(report, json_, "importé", rapport_erreurs)


def verifier_cmd(
    fichiers: List[Path] = typer.Argument(..., metavar="FICHIERS...", help="Fichiers à vérifier (rien n'est écrit dans l'espace de travail)."),
    type_: Optional[str] = typer.Option(None, "--type", help=_TYPE),
    exercice: Optional[int] = typer.Option(None, "--exercice", help=_EXERCICE),
    correspondance: Optional[Path] = typer.Option(None, "--correspondance", help=_CORRESPONDANCE),
    rapport_erreurs: Optional[Path] = typer.Option(None, "--rapport-erreurs", help=_RAPPORT),
    json_: bool = typer.Option(False, "--json", help="Rapport de vérification en JSON sur la sortie standard."),
) -> None:
    with _exit_codes():
        _check_report_path(rapport_erreurs)
        report = api.verify_paths(fichiers, type_, exercice=exercice, mapping=correspondance, progress=progress_for(console_err))
        _finish_file_report(report, json_, "valide", rapport_erreurs)


@contextmanager
def _exit_codes() -> Iterator[None]:
    """Exit codes are the contract with cron jobs. They leave as SystemExit: the entry point runs
    Click with standalone_mode=False, where a typer.Exit code is returned, not used as exit status."""
    try:
        yield
    except ActerrError as exc:
        console_err.print(f"[bold red]Erreur[/] : {escape(exc.message)}", highlight=False)
        raise SystemExit(int(exc.exit_code)) from None


def _check_report_path(path: Path | None) -> None:
    """Checked before reading anything: a typo in the option must not cost a night run."""
    if path is not None and path.suffix.lower() != ".xlsx":
        raise UsageError(f"--rapport-erreurs {path} : un classeur .xlsx est attendu.")


def _finish_file_report(report: api.ImportReport, json_: bool, verb: str, rapport: Path | None) -> None:
    if rapport is not None:
        api.write_error_report(report, rapport)
    if json_:
        print_json(report.to_dict())
    else:
        terminal.print_file_report(report, console_err, verb)
        if rapport is not None:
            console_err.print(f"Liste des problèmes : {rapport}", markup=False)
    if report.internal_errors:
        raise SystemExit(int(ExitCode.INTERNAL))
    if report.errors_found or report.refused:
        raise SystemExit(int(ExitCode.INVALID_DATA))
