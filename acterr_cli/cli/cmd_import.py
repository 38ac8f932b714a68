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
from acterr_cli.workspace.store import check_wait

_TYPE = ("Type de fichier : questionnaire ou liasse (sinon détecté d'après le contenu) ; ou données publiques : "
         "rpls (RPLS par logement), loyers (carte des loyers), qpv (liste des QPV), sirene (StockEtablissement).")
PUBLIC_DATA = ("rpls", "loyers", "qpv", "sirene")
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
        check_wait(attendre)  # before reading anything
        _check_report_path(rapport_erreurs)
        _check_type(type_, PUBLIC_DATA)
        if type_ in PUBLIC_DATA:
            report = _import_public_data(ctx.obj.espace, fichiers, type_, exercice, siren, logement, attendre)
        else:
            report = api.import_paths(ctx.obj.espace, fichiers, type_, attendre, exercice=exercice,
                                      ignore_errors=ignorer_erreurs, mapping=correspondance, progress=progress_for(console_err),
                                      withdrawn_sheets=feuilles_retirees)
        _finish_file_report(report, json_, "importé", rapport_erreurs)


def _check_type(kind: str | None, public: tuple[str, ...] = ()) -> None:
    """A wrong --type is a usage error told once, not a refusal of every file."""
    from acterr_cli.inputs.detect import KINDS

    if kind is not None and kind not in (*KINDS, *public):
        raise UsageError(f"--type « {kind} » inconnu (attendu : {', '.join((*KINDS, *public))}).")


def _import_public_data(espace: Path, files: list[Path], kind: str, exercice: int | None, siren: str | None,
                        logement: str | None, wait: float) -> api.ImportReport:
    """RPLS, market rents, QPV list, SIRENE: the millésime (--exercice) says which year they describe."""
    if exercice is None:
        raise UsageError(f"--type {kind} demande --exercice (le millésime des données, ex. 2024).")
    reports, progress = [], progress_for(console_err)
    for path in files:
        if not Path(path).is_file():
            what = "c'est un dossier, pas un fichier" if Path(path).is_dir() else "fichier introuvable"
            raise UsageError(f"{path} : {what}.")
        with progress.step(f"Lecture de {Path(path).name}"):
            reports.append(_import_public_file(espace, Path(path), kind, exercice, siren, logement, wait))
    return api.ImportReport([f for r in reports for f in r.fichiers], ecrit=True)


def _import_public_file(espace: Path, path: Path, kind: str, exercice: int, siren: str | None, logement: str | None,
                        wait: float) -> api.ImportReport:
    if kind == "rpls":
        return api.import_rpls(espace, path, exercice, siren=siren, wait_seconds=wait)
    if kind == "loyers":
        housing = logement or ("maison" if "maison" in path.name.lower() else "appartement")
        return api.import_loyers(espace, path, housing, exercice, wait_seconds=wait)
    if kind == "qpv":
        return api.import_qpv(espace, path, exercice, wait_seconds=wait)
    return api.import_sirene(espace, path, exercice, wait_seconds=wait)


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
        _check_type(type_)
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
        from acterr_cli.outputs.error_report import write_error_report  # xlsxwriter: only when asked

        write_error_report(report, rapport)
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
