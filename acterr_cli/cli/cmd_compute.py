"""`acterr compute`: evaluate the référentiel at one territorial level."""

from __future__ import annotations

import sys
from contextlib import closing
from typing import Optional

import typer

from acterr_cli import api
from acterr_cli.cli.context import RESULTS_WAIT_HELP, console_err, console_out, print_json
from acterr_cli.cli.progress import progress_for
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.outputs import terminal

LEVEL_HELP = ("Niveau(x) de territoire : COMMUNE, EPCI, DEPARTEMENT, REGION, FRANCE ou QPV (faits portant un code QPV) ; "
              "plusieurs niveaux séparés par des virgules.")

def compute_cmd(
    ctx: typer.Context,
    territoire: str = typer.Option("EPCI", "--territoire", "-t", help=LEVEL_HELP),
    exercice: Optional[int] = typer.Option(None, "--exercice", help="Exercice à calculer (par défaut : tous les exercices importés)."),
    code: Optional[str] = typer.Option(None, "--code", help="N'afficher qu'un territoire (code INSEE, SIREN d'EPCI, FR…)."),
    json_: bool = typer.Option(False, "--json", help="Résultats en JSON sur la sortie standard."),
    attendre: float = typer.Option(0.0, "--attendre", help=RESULTS_WAIT_HELP),
    expliquer: Optional[str] = typer.Option(
        None, "--expliquer", help="Expliquer un chiffre (code d'indicateur, ex. ECO-06) : formule, mesures, paramètres, "
                                  "sensibilité, organismes et fichiers ; avec --code (et --territoire, EPCI par défaut)."),
    expliquer_evolution: Optional[str] = typer.Option(
        None, "--expliquer-evolution", help="Expliquer l'évolution d'un chiffre de N-1 à N (code d'indicateur) : organismes "
                                            "entrés et sortis, évolution de leurs données, changement de paramètres ou de "
                                            "référentiel, reste ; avec --code, --territoire et --exercice N (par défaut le dernier)."),
    simulations: Optional[int] = typer.Option(
        None, "--simulations", help="Tirer N fois chaque paramètre (loi triangulaire sur ses valeurs basse, centrale, haute) et "
                                    "ajouter à chaque résultat ses centiles p10, p50 et p90."),
    graine: Optional[int] = typer.Option(None, "--graine", help="Graine des tirages de --simulations : mêmes chiffres d'un calcul à l'autre."),
) -> None:
    if expliquer_evolution:
        _explain_evolution(ctx, expliquer_evolution, territoire, code, exercice, json_)
        return
    if expliquer:
        if not code:
            raise UsageError("--expliquer demande aussi --code (le territoire dont on veut le détail).")
        document = api.explain_figure(ctx.obj.espace, expliquer, territoire, code, exercice, ctx.obj.load_referentiel())
        if json_:
            print_json(document)
        else:
            terminal.print_explanation(document, console_out)
        return
    if graine is not None and simulations is None:
        raise UsageError("--graine va avec --simulations N (le nombre de tirages).")
    simulation = None if simulations is None else api.Simulation(simulations, graine)
    referentiel = ctx.obj.load_referentiel()
    levels = [t for t in territoire.split(",") if t.strip()]
    written = None  # the level shown last: its line « … résultats enregistrés » once its file is written
    not_stored: set[str] = set()  # why results were not stored (a read-only workspace): said once

    def announce_written() -> None:
        nonlocal written
        if written is not None:
            (future, count, level), written = written, None  # said once, even if its write failed
            if (why := future.result()) is not None:
                if why not in not_stored:
                    console_err.print(f"Note : {why}.", markup=False)
                not_stored.add(why)
            elif not json_:
                console_err.print(f"{count} résultats enregistrés dans {ctx.obj.espace} (niveau {level}).", markup=False)

    def levels_results():
        """Each level's computation and the results asked for, as the levels are computed; once a
        level is shown (on the terminal), its « enregistrés » line is due."""
        nonlocal written
        for computation, stored in computations:
            announce_written()
            results = terminal.filter_code(computation.results, code)
            if code and results.is_empty():
                raise InputMissingError(f"aucun résultat pour le territoire « {code} » au niveau {computation.level} "
                                        "(territoire inconnu, ou sans organisme ni donnée ; voir « acterr territoire »).")
            shown = (stored, computation.results.height, computation.level)
            yield computation, results
            del computation, results
            written = shown

    # Each level's results are written while the next one is computed (see api.compute_levels):
    # its « enregistrés » line comes once the file is on disk, at the same place in the output.
    computations = api.compute_levels(ctx.obj.espace, levels, exercice, referentiel=referentiel, wait_seconds=attendre,
                                      progress=progress_for(console_err), simulation=simulation)
    with closing(computations):
        try:
            if json_:  # written as the levels come, by slices: never the whole document in memory
                terminal.write_results_json(sys.stdout, levels_results(), several=len(levels) > 1)
            else:
                for computation, results in levels_results():
                    terminal.print_summary(results, computation.level, console_out, referentiel)
                    terminal.print_checks(computation.meta.get("controles", []), console_err)
                    # Let this level's results go as soon as they are written: a COMMUNE run's are
                    # hundreds of megabytes, and kept they would add to the next level's working memory.
                    del computation, results
        finally:  # also when a later level fails: the levels already written are said so
            announce_written()


def _explain_evolution(ctx: typer.Context, indicator: str, level: str, code: str | None, exercice: int | None, json_: bool) -> None:
    from acterr_cli.outputs.terminal_evolution import print_evolution

    if not code:
        raise UsageError("--expliquer-evolution demande aussi --code (le territoire dont on veut l'évolution).")
    referentiel = ctx.obj.load_referentiel()
    document = api.explain_evolution(ctx.obj.espace, indicator, level, code, exercice, referentiel)
    if json_:
        print_json(document)
    else:
        ind = referentiel.by_code[document["indicateur"]]
        print_evolution(document, ind.libelle, ind.unite, console_out)
