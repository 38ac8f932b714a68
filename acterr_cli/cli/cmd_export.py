"""`acterr export`: the report of a level (overview), of one territory or of one organisation —
workbook, data for analysts, filled user template, fiches — and its summary on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from acterr_cli.cli.context import RESULTS_WAIT_HELP, console_err, console_out, print_json
from acterr_cli.cli.progress import progress_for
from acterr_cli.common.formatting import fr_count

LEVEL_HELP = "Niveau de territoire : COMMUNE, EPCI, DEPARTEMENT, REGION ou FRANCE."


def export_cmd(
    ctx: typer.Context,
    territoire: str = typer.Option("EPCI", "--territoire", "-t", help=LEVEL_HELP),
    code: Optional[str] = typer.Option(None, "--code", help="Rapport d'un seul territoire du niveau (code INSEE, SIREN d'EPCI…), "
                                                            "avec tous les organismes qui y sont présents."),
    organisme: Optional[str] = typer.Option(None, "--organisme", help="Rapport d'un organisme (SIREN) pour son conseil "
                                                                      "d'administration : ses territoires et sa position parmi ses pairs."),
    exercice: Optional[int] = typer.Option(None, "--exercice", help="Exercice à présenter (par défaut : le plus récent)."),
    sortie: Path = typer.Option(Path("rapport_acterr.xlsx"), "--sortie", "-o", help="Fichier à écrire (l'extension suit --format)."),
    format_: str = typer.Option("xlsx", "--format", help="xlsx (rapport), html (page web autonome à publier), csv ou parquet "
                                                         "(résultats pour analystes, avec leur provenance)."),
    fiche: bool = typer.Option(False, "--fiche", help="Écrire aussi une fiche d'une page (PNG 1080 × 1350 et PDF A5) et une "
                                                      "diapositive 16:9 (PNG 1920 × 1080 et PDF) par territoire ou "
                                                      "organisme, à côté de --sortie."),
    modele: Optional[Path] = typer.Option(None, "--modele", help="Remplir ce classeur modèle (noms et tables acterr_…) au lieu du "
                                                                 "rapport standard ; voir « acterr modele verifier »."),
    forcer: bool = typer.Option(False, "--forcer", help="Remplacer les fichiers de sortie qui existent."),
    attendre: float = typer.Option(0.0, "--attendre", help=RESULTS_WAIT_HELP),
    json_: bool = typer.Option(False, "--json", help="Décrire les fichiers écrits en JSON sur la sortie standard."),
) -> None:
    from acterr_cli.api import ExportRequest, LevelExportResult, export
    from acterr_cli.outputs import terminal
    from acterr_cli.outputs.terminal_report import print_report

    request = ExportRequest(sortie=sortie, niveau=territoire, code=code, siren=organisme, exercice=exercice,
                            format=format_.strip().lower(), fiche=fiche, modele=modele, forcer=forcer,
                            attendre=attendre)
    with progress_for(console_err).step(f"Écriture de {sortie.name}"):
        result = export(ctx.obj.espace, request, ctx.obj.load_referentiel())
    if json_:
        print_json(result.to_dict())
        return
    if isinstance(result, LevelExportResult):  # a whole level's data, streamed: its summary as `compute` shows it
        stored = result.stored
        console_out.print(f"[bold]{escape(result.subject)}[/] — exercice {stored.year}", highlight=False)
        terminal.print_summary(stored.summary_rows(), stored.level, console_out, stored.referentiel)
    else:
        print_report(result.data, console_out)
    labels = {"rapport": "Rapport Excel écrit", "modele": "Modèle rempli écrit", "donnees": "Résultats écrits",
              "provenance": "Provenance écrite", "fiche": "Fiche écrite",
              "diapo": "Diapositive écrite", "page": "Page web écrite"}
    for f in result.fichiers:
        console_out.print(f"{labels[f.contenu]} : [bold]{escape(str(f.chemin))}[/]", highlight=False)
    if isinstance(result, LevelExportResult):
        return
    other = result.data.inputs.computation.meta.get("referentiel_des_resultats_enregistres")
    if other is not None:
        stored = ", ".join(f["fichier"] for f in other[2:]) or "le référentiel livré"
        used = ", ".join(f"--referentiel {f['fichier']}" for f in other[2:])
        console_err.print(f"[yellow]avertissement[/] : les résultats enregistrés ont été calculés avec {escape(stored)} ; ce rapport "
                          f"est calculé avec le référentiel de cette commande, et les résultats enregistrés sont gardés"
                          + (f" (pour eux : {escape(used)})." if used else "."), highlight=False)
    if (result.data.warnings or result.data.controles) and request.format == "xlsx":
        console_err.print(f"{fr_count(len(result.data.warnings), 'avertissement')} d'import et "
                          f"{fr_count(len(result.data.controles), 'écart')} liasse / questionnaire : voir la feuille « Qualité des données ».")
