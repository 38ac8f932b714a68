"""Registers the sub-commands (one module each) and turns known errors into exit codes."""

from __future__ import annotations

import functools
from typing import Callable

import typer
from rich.markup import escape

from acterr_cli.cli import (
    cmd_compute,
    cmd_executer,
    cmd_export,
    cmd_import,
    cmd_modele,
    cmd_referentiel,
    cmd_territoire,
)
from acterr_cli.cli.context import console_err
from acterr_cli.cli.french import SUBCOMMAND, FrenchCommand, FrenchGroup
from acterr_cli.errors import ActerrError

PANEL = "Commandes"


def register(app: typer.Typer) -> None:
    def add(name: str, function: Callable, help: str, target: typer.Typer = app) -> None:
        target.command(name, cls=FrenchCommand, rich_help_panel=PANEL, help=help)(guarded(function))

    add("import", cmd_import.import_cmd, "Importe des questionnaires (xlsx) et des liasses (csv, xlsx) dans l'espace de travail.")
    add("verifier", cmd_import.verifier_cmd, "Vérifie des fichiers sans rien écrire dans l'espace de travail.")
    add("compute", cmd_compute.compute_cmd, "Calcule les indicateurs du référentiel par territoire et les enregistre dans l'espace.")
    add("export", cmd_export.export_cmd, "Écrit le rapport (ensemble, un territoire ou un organisme) : Excel, CSV/Parquet, modèle, fiches.")
    add("executer", cmd_executer.executer_cmd,
        "Exécute toute la chaîne pour une tâche planifiée : dépôt → import → calcul → rapports.\n\n"
        "Une ligne datée par étape sur la sortie d'erreur (barres de progression sur un terminal seulement). "
        "Codes de sortie : 0 tout va bien ; 3 au moins un fichier du dépôt refusé ; 4 espace occupé (une autre exécution "
        "en cours, au-delà de « attendre ») ou encore sans aucune donnée ; 5 configuration invalide (clé inconnue, valeur "
        "d'un mauvais type, niveau inconnu, chemin hors du dossier de la configuration).")
    add("referentiel", cmd_referentiel.referentiel_cmd, "Affiche les indicateurs et les paramètres du référentiel.")
    add("territoire", cmd_territoire.territoire_cmd, "Dit ce qu'est un code ou un nom de territoire et à quoi il appartient.")
    modele = typer.Typer(cls=FrenchGroup, subcommand_metavar=SUBCOMMAND, help="Modèles de classeurs : questionnaire vierge, vérification d'un modèle de rapport.",
                         no_args_is_help=True)
    add("questionnaire", cmd_modele.modele_questionnaire_cmd, "Écrit le questionnaire vierge à faire remplir par un organisme.", modele)
    add("verifier", cmd_modele.modele_verifier_cmd, "Vérifie un modèle de rapport : ce qu'acterr y remplira, ce qui lui manque.", modele)
    app.add_typer(modele, name="modele", rich_help_panel=PANEL)


def guarded(command: Callable) -> Callable:
    """Known errors become one French line on stderr and their exit code (the cron contract)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ActerrError as exc:
            console_err.print(f"[bold red]Erreur[/] : {escape(exc.message)}", highlight=False)  # user text, never markup
            raise typer.Exit(int(exc.exit_code)) from None

    return wrapper
