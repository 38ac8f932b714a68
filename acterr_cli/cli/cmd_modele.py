"""`acterr modele …`: workbooks acterr provides (the blank questionnaire) and the check of a
user's report template (`verifier`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from acterr_cli import api
from acterr_cli.cli.context import console_err, console_out, print_json
from acterr_cli.errors import ConfigurationError, UsageError


def modele_questionnaire_cmd(
    sortie: Path = typer.Option(Path("questionnaire_acterr.xlsx"), "--sortie", "-o", help="Classeur à écrire."),
    forcer: bool = typer.Option(False, "--forcer", help="Remplacer le fichier s'il existe."),
) -> None:
    if sortie.exists() and not forcer:
        raise UsageError(f"{sortie} existe déjà : ajoutez --forcer pour le remplacer.")
    api.write_blank_questionnaire(sortie)
    console_err.print(f"Questionnaire vierge écrit : {sortie}", markup=False)


def modele_verifier_cmd(
    ctx: typer.Context,
    fichier: Path = typer.Argument(..., metavar="FICHIER", help="Classeur modèle (.xlsx) à vérifier."),
    json_: bool = typer.Option(False, "--json", help="Le rapport de vérification en JSON sur la sortie standard."),
) -> None:
    """Says which cells and tables of a template acterr will fill, and what the template lacks or will lose."""
    document = api.verify_template(fichier, ctx.obj.load_referentiel())
    if json_:
        print_json(document)
    else:
        _print(document)
    if not document["valide"]:
        raise ConfigurationError(f"{fichier} : modèle non utilisable en l'état (voir les erreurs ci-dessus).")


def _print(doc: dict) -> None:
    console_out.print(f"[bold]{escape(doc['modele'])}[/] — feuilles : {escape(', '.join(doc['feuilles']))} ; "
                      f"{doc['graphiques']} graphique(s), {doc['images']} image(s) conservés au remplissage.")
    for n in doc["noms"]:
        mark = "[red]✗[/]" if n["probleme"] else "[green]✓[/]"
        console_out.print(f"  {mark} {escape(n['nom'])} ({escape(str(n['cellule']))}) → {escape(n['probleme'] or n['champ'])}", highlight=False)
    for t in doc["tables"]:
        mark = "[red]✗[/]" if t["probleme"] else "[green]✓[/]"
        known = ", ".join(c["entete"] + ("" if c["reconnue"] else " (?)") for c in t["colonnes"])
        room = "" if t["lignes_libres"] > 100_000 else f", {t['lignes_libres']} ligne(s) libres"
        console_out.print(f"  {mark} table {escape(t['nom'] + ' (' + t['feuille'] + '!' + t['plage'] + room + ') : ' + (t['probleme'] or known))}",
                          highlight=False)
    for p in doc["problemes"]:
        tag = "[red]erreur[/]" if p["gravite"] == "erreur" else "[yellow]avertissement[/]"
        console_out.print(f"  {tag} {escape(p['message'])}", highlight=False)
    if doc["valide"]:
        console_out.print("Modèle utilisable avec « acterr export --modele ».")
