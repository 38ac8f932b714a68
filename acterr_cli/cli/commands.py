"""The sub-commands. Each one: options → one library call → output (stdout data, stderr messages)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, List, Optional

import typer

from acterr_cli import api
from acterr_cli.cli.context import State, console_err, console_out, print_json
from acterr_cli.errors import ActerrError, ExitCode, UsageError
from acterr_cli.importing import REFUSE
from acterr_cli.outputs import terminal

LEVEL_HELP = "Niveau de territoire : COMMUNE, EPCI, DEPARTEMENT, REGION ou FRANCE."


def register(app: typer.Typer) -> None:
    app.command("import", rich_help_panel="Commandes", help="Importe des questionnaires (xlsx) et des liasses (csv, xlsx) dans l'espace de travail.")(guarded(import_cmd))
    app.command("verifier", rich_help_panel="Commandes", help="Vérifie des fichiers sans rien écrire dans l'espace de travail.")(guarded(verifier_cmd))
    app.command("compute", rich_help_panel="Commandes", help="Calcule les indicateurs du référentiel par territoire et les enregistre dans l'espace.")(guarded(compute_cmd))
    app.command("export", rich_help_panel="Commandes", help="Écrit le rapport Excel (synthèse, indicateurs, graphiques, méthodologie) et affiche la synthèse.")(guarded(export_cmd))
    app.command("referentiel", rich_help_panel="Commandes", help="Affiche les indicateurs et les paramètres du référentiel.")(guarded(referentiel_cmd))
    app.command("territoire", rich_help_panel="Commandes", help="Dit ce qu'est un code ou un nom de territoire et à quoi il appartient.")(guarded(territoire_cmd))
    modele = typer.Typer(help="Modèles de classeurs fournis par acterr.", no_args_is_help=True)
    modele.command("questionnaire", help="Écrit le questionnaire vierge à faire remplir par un organisme.")(guarded(modele_questionnaire_cmd))
    app.add_typer(modele, name="modele", rich_help_panel="Commandes")


def guarded(command: Callable) -> Callable:
    """Known errors become one French line on stderr and their exit code (the cron contract)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ActerrError as exc:
            console_err.print(f"[bold red]Erreur[/] : {exc.message}", highlight=False)
            raise typer.Exit(int(exc.exit_code)) from None

    return wrapper


def _state(ctx: typer.Context) -> State:
    return ctx.obj


# ─── import / verifier ───

def import_cmd(
    ctx: typer.Context,
    fichiers: List[Path] = typer.Argument(..., help="Fichiers à importer (questionnaires .xlsx, liasses .csv ou .xlsx)."),
    type_: Optional[str] = typer.Option(None, "--type", help="Forcer le type : questionnaire ou liasse (sinon détecté d'après le contenu)."),
    json_: bool = typer.Option(False, "--json", help="Rapport d'import en JSON sur la sortie standard."),
    attendre: float = typer.Option(0.0, "--attendre", help="Secondes d'attente si un autre acterr écrit dans le même espace."),
) -> None:
    report = api.import_paths(_state(ctx).espace, fichiers, type_, attendre)
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


# ─── compute ───

def compute_cmd(
    ctx: typer.Context,
    territoire: str = typer.Option("EPCI", "--territoire", "-t", help=LEVEL_HELP),
    exercice: Optional[int] = typer.Option(None, "--exercice", help="Exercice à calculer (par défaut : tous les exercices importés)."),
    code: Optional[str] = typer.Option(None, "--code", help="N'afficher qu'un territoire (code INSEE, SIREN d'EPCI, FR…)."),
    json_: bool = typer.Option(False, "--json", help="Résultats en JSON sur la sortie standard."),
) -> None:
    computation = api.compute_level(_state(ctx).espace, territoire, exercice)
    results = terminal.filter_code(computation.results, code)
    if code and results.is_empty():
        raise UsageError(f"aucun résultat pour le territoire « {code} » au niveau {computation.level}.")
    if json_:
        print_json(terminal.results_document(computation, results))
        return
    terminal.print_summary(results, computation.level, console_out)
    terminal.print_checks(computation.meta.get("controles", []), console_err)
    console_err.print(f"{computation.results.height} résultats enregistrés dans {_state(ctx).espace} (niveau {computation.level}).")


# ─── export ───

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
    computation = api.results_for(_state(ctx).espace, territoire, None)
    written = write_report(sortie, computation, exercice)
    if json_:
        print_json({"version": 1, "rapport": str(written.path), "exercice": written.exercice, "feuilles": written.sheets})
        return
    terminal.print_summary(terminal.for_exercice(computation.results, written.exercice), computation.level, console_out)
    console_out.print(f"\nRapport Excel écrit : [bold]{written.path}[/]")


# ─── référentiel, territoire, modèle ───

def referentiel_cmd(json_: bool = typer.Option(False, "--json", help="Catalogue et paramètres en JSON.")) -> None:
    referentiel = api.load_referentiel()
    if json_:
        print_json(terminal.referentiel_document(referentiel))
    else:
        terminal.print_referentiel(referentiel, console_out)


def territoire_cmd(
    requete: str = typer.Argument(..., help="Code (commune, ancien code, SIREN d'EPCI, département, région) ou nom."),
    json_: bool = typer.Option(False, "--json", help="Réponse en JSON."),
) -> None:
    hits = api.TerritorialReference.load().lookup(requete)
    if json_:
        print_json({"version": 1, "requete": requete, "resultats": hits})
    else:
        terminal.print_territories(requete, hits, console_out)
    if not hits:
        raise typer.Exit(int(ExitCode.INPUT_MISSING))


def modele_questionnaire_cmd(
    sortie: Path = typer.Option(Path("questionnaire_acterr.xlsx"), "--sortie", "-o", help="Classeur à écrire."),
    forcer: bool = typer.Option(False, "--forcer", help="Remplacer le fichier s'il existe."),
) -> None:
    from acterr_cli.outputs.questionnaire_template import write_questionnaire

    if sortie.exists() and not forcer:
        raise UsageError(f"{sortie} existe déjà : ajoutez --forcer pour le remplacer.")
    write_questionnaire(sortie)
    console_err.print(f"Questionnaire vierge écrit : {sortie}")
