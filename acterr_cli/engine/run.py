"""One computation: a level (COMMUNE … FRANCE), all exercices or one, all indicators."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import polars as pl

from acterr_cli import __version__
from acterr_cli.engine.checks import liasse_vs_questionnaire
from acterr_cli.engine.compute import ORDER_KEYS, Evaluator
from acterr_cli.engine.measures import organisation_rows
from acterr_cli.engine.simulation import Simulation, draw
from acterr_cli.errors import UsageError
from acterr_cli.referentiel.model import Referentiel
from acterr_cli.results import NON_REPARTI_CODE, NON_REPARTI_NOM, RESULT_SCHEMA, TEXT, Computation
from acterr_cli.territory.reference import LEVELS, TerritorialReference
from acterr_cli.workspace.store import Workspace

RESULTS_FORMAT_VERSION = 1


ALL_LEVELS = (*LEVELS, "QPV")


def normalize_level(level: str) -> str:
    value = level.strip().upper()
    if value not in ALL_LEVELS:
        raise UsageError(f"niveau de territoire inconnu « {level} » (attendu : {', '.join(ALL_LEVELS)}).")
    return value


def compute(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str,
            exercice: int | None = None, run: dict | None = None, simulation: Simulation | None = None) -> Computation:
    """One level's results. `run`: what the levels of one run share (the facts read, the measures
    made of them, the prepared référentiel, the FRANCE figures behind each level's Non réparti
    row), made by the caller for that run and dropped with it; nothing is kept by the process.

    Every exercice, each beside the one before (evolution); or one `exercice`, whose evolution
    takes the previous exercice's values apart (`_previous_values`): computed alone, or read
    back from the last run when its inputs have not changed, so that one exercice among several
    costs about one exercice, not two.
    `simulation`: adds the quantiles p10, p50, p90 of every figure computed for a territory or an
    organisation (engine/simulation.py; not for the Non réparti row, a difference of totals)."""
    level = normalize_level(level)
    run = {} if run is None else run
    if exercice is None:
        results = _results(ws, reference, referentiel, level, None, run, lambda compact, names: with_evolution(compact), simulation)
    else:
        previous = _previous_values(ws, reference, referentiel, level, exercice - 1, run)
        evaluator = _evaluator(run, referentiel)
        results = _results(ws, reference, referentiel, level, [exercice], run,
                           lambda compact, names: _with_previous(evaluator, compact, names, previous), simulation)
    meta = _meta(ws, reference, referentiel, level, exercice)
    meta["controles"] = liasse_vs_questionnaire(ws, exercice, run)
    if simulation is not None:
        meta["simulation"] = {"tirages": simulation.draws, "graine": simulation.seed, "loi": "triangulaire (basse, centrale, haute)",
                              "correlations": referentiel.correlations}
    return Computation(level, results, meta)


def _results(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str,
             exercices: list[int] | None, run: dict, evolution, simulation: Simulation | None = None) -> pl.DataFrame:
    """The level's results of `exercices` (all: None), `evolution(compact results, names)` applied
    to them in report order (names: the territories and organisations behind their ranks, None
    without results); with the quantiles of `simulation` when asked for."""
    evaluator = _evaluator(run, referentiel)
    # The FRANCE figures are those every level's Non réparti row is made from: computed once per run.
    shared = level == "FRANCE" and simulation is None
    rows = _france_rows(ws, reference, referentiel, evaluator, exercices, run) if shared else \
        organisation_rows(ws, reference, level, exercices, referentiel.parameters, run)
    if rows.is_empty():
        results = evolution(pl.DataFrame(schema=RESULT_SCHEMA), None)
    else:
        rows = rows if shared else evaluator.derive(rows)
        draws = None if simulation is None else draw(referentiel, simulation)
        consolidated = _france(ws, reference, referentiel, evaluator, exercices, run) if shared else evaluator.consolidate(rows, draws)
        parts = [consolidated, evaluator.per_organisation(rows, draws)]
        # From here on only the names behind the ranks are needed: the wide rows (hundreds of
        # columns, a quarter of a million rows at COMMUNE) are let go before the results are
        # sorted and expanded, the moment when the most memory is in use.
        names = rows.select("_t", "code_territoire", "nom_territoire", "_s", "siren")
        del rows
        if level not in ("FRANCE", "QPV") and names["siren"].null_count() < names.height:  # organisations' figures to place
            parts.append(_not_placed(ws, reference, referentiel, evaluator, exercices, consolidated, names, run))
            names = pl.concat([names, _not_placed_name(names)])
        # One chunk from the start: the sort gathers from it (see in_report_order).
        results = pl.concat(parts, rechunk=True, how="vertical" if draws is None else "diagonal")
        results = evaluator.expand(evolution(in_report_order(results), names), names, level)
    return results


# The previous exercice's value of a result is found by what it is, not by the engine's ranks
# (those of another computation).
_IDENTITY = ("indicateur", "code_territoire", "siren")


def _previous_values(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str, year: int,
                     run: dict) -> pl.DataFrame | None:
    """indicateur, code_territoire, siren (TEXT) and valeur_precedente of exercice `year`, or
    None without any data of that year. Kept in the workspace for the next run (store.py,
    `previous_values`), keyed by everything they depend on: the same inputs give them back
    without computing them again."""
    if not any(u["exercice"] == year for u in ws.units().values()):
        return None
    fingerprint = _inputs_fingerprint(ws, reference, referentiel, level, year)
    name = f"{level}-{year}"
    kept = ws.previous_values(name, fingerprint)
    if kept is not None:
        return kept
    values = _central_values(ws, reference, referentiel, level, [year], run).rename({"valeur": "valeur_precedente"})
    ws.keep_previous_values(name, fingerprint, values)
    return values


def _central_values(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str,
                    exercices: list[int], run: dict) -> pl.DataFrame:
    """indicateur, code_territoire, siren (TEXT) and valeur of the level's computed figures of
    `exercices`: those of `_results` whose value is not null, the same values, without what the
    evolution does not read of them (ranges, sensitivity, coverage, notes, motifs, labels, order)."""
    evaluator = _evaluator(run, referentiel)
    rows = _france_rows(ws, reference, referentiel, evaluator, exercices, run) if level == "FRANCE" else \
        organisation_rows(ws, reference, level, exercices, referentiel.parameters, run)
    if rows.is_empty():
        return pl.DataFrame(schema={**{c: TEXT for c in _IDENTITY}, "valeur": pl.Float64})
    rows = rows if level == "FRANCE" else evaluator.derive(rows)
    consolidated = _france_central(ws, reference, referentiel, evaluator, exercices, run) if level == "FRANCE" else \
        evaluator.consolidate(rows, central_only=True)
    parts = [consolidated, evaluator.per_organisation(rows, central_only=True)]
    names = rows.select("_t", "code_territoire", "nom_territoire", "_s", "siren")
    del rows
    if level not in ("FRANCE", "QPV") and names["siren"].null_count() < names.height:  # as in _results
        france = _france_central(ws, reference, referentiel, evaluator, exercices, run)
        parts.append(evaluator.not_placed(consolidated, france, _not_placed_rank(names)).filter(pl.col("valeur").is_not_null()))
        names = pl.concat([names, _not_placed_name(names)])
    return evaluator.identified(pl.concat(parts), names)


def _inputs_fingerprint(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str, year: int) -> str:
    """What a level's results of `year` depend on: the units of that exercice, the public data
    of every exercice (RPLS, loyers, QPV, SIRENE: conservatively), the référentiel's files, the
    territories' millésime and acterr's version."""
    units = sorted((key, u.get("sha256"), u.get("importe_le"), sorted((u.get("jeux") or {}).items()))
                   for key, u in ws.units().items() if u["exercice"] == year or u["type"] not in ORGANISATION_TYPES)
    about = [RESULTS_FORMAT_VERSION, __version__, level, year, referentiel.sources, reference.millesime, units]
    return hashlib.blake2b(json.dumps(about, sort_keys=True, default=str).encode("utf-8"), digest_size=16).hexdigest()


ORGANISATION_TYPES = ("questionnaire", "liasse")  # units whose facts are those of their exercice only


def _with_previous(evaluator: Evaluator, compact: pl.DataFrame, names: pl.DataFrame | None,
                   previous: pl.DataFrame | None) -> pl.DataFrame:
    """`with_evolution`'s columns for compact results of one exercice, from the previous one's
    values: those are given this computation's ranks (Evaluator.ranked: a few thousand codes, not
    millions of texts), then found by the ranks."""
    if previous is None or compact.is_empty():
        return compact.with_columns([pl.lit(None, pl.Float64).alias(c) for c in ("valeur_precedente", "variation", "variation_pct")])
    ranked = evaluator.ranked(previous, names)
    if max(compact["_s"].max(), ranked["_s"].max() or 0) < 1 << 22 and max(compact["_o"].max(), ranked["_o"].max() or 0) < 1 << 10:
        keys, key = ["_k"], [(pl.col("_t").cast(pl.UInt64) * (1 << 32) + pl.col("_s").cast(pl.UInt64) * (1 << 10) + pl.col("_o")).alias("_k")]
    else:  # ranks too large for one integer: the three of them
        keys = key = list(ORDER_KEYS)
    found = compact.select(key).join(ranked.select(*key, "valeur_precedente"), on=keys, how="left", maintain_order="left")
    return _changes(compact.with_columns(found["valeur_precedente"]))


def _evaluator(run: dict, referentiel: Referentiel) -> Evaluator:
    """The référentiel validated and prepared once per run (its formulas' expressions are kept
    from one level to the next)."""
    if run.get("evaluator") is None or run["evaluator"].referentiel is not referentiel:
        run["evaluator"] = Evaluator.for_referentiel(referentiel)
    return run["evaluator"]


def _not_placed(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, evaluator: Evaluator,
                exercices: list[int] | None, consolidated: pl.DataFrame, names: pl.DataFrame, run: dict) -> pl.DataFrame:
    """The NON_REPARTI row of each additive indicator: the FRANCE figure (all organisations, with
    their organisation-level data) less the level's territories, so that they add up. The FRANCE
    figures are computed once per run (`run`), whatever the number of levels."""
    return evaluator.not_placed(consolidated, _france(ws, reference, referentiel, evaluator, exercices, run), _not_placed_rank(names))


def _france_rows(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, evaluator: Evaluator,
                 exercices: list[int] | None, run: dict) -> pl.DataFrame:
    """The FRANCE level's rows, derived (empty: not derived), made once per run (a few hundred
    rows: one per organisation, and the country's own)."""
    key = ("france rows", None if exercices is None else tuple(exercices))
    if key not in run:
        rows = organisation_rows(ws, reference, "FRANCE", exercices, referentiel.parameters, run)
        run[key] = rows if rows.is_empty() else evaluator.derive(rows)
    return run[key]


def _france(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, evaluator: Evaluator,
            exercices: list[int] | None, run: dict) -> pl.DataFrame:
    """The FRANCE level's consolidated figures (without simulation), made once per run."""
    key = ("france", None if exercices is None else tuple(exercices))
    if key not in run:
        run[key] = evaluator.consolidate(_france_rows(ws, reference, referentiel, evaluator, exercices, run))
    return run[key]


def _france_central(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, evaluator: Evaluator,
                    exercices: list[int] | None, run: dict) -> pl.DataFrame:
    """`_france`'s figures, their central value only (see Evaluator.consolidate)."""
    key = ("france central", None if exercices is None else tuple(exercices))
    if key not in run:
        run[key] = evaluator.consolidate(_france_rows(ws, reference, referentiel, evaluator, exercices, run), central_only=True)
    return run[key]


def _not_placed_rank(names: pl.DataFrame) -> int:
    """After every territory of the level: the row comes last in the results' order."""
    return 0 if names["_t"].max() is None else int(names["_t"].max()) + 1


def _not_placed_name(names: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame({"_t": [_not_placed_rank(names)], "code_territoire": [NON_REPARTI_CODE], "nom_territoire": [NON_REPARTI_NOM],
                         "_s": [0], "siren": [None]}).cast(names.schema)


def in_report_order(results: pl.DataFrame) -> pl.DataFrame:
    """By exercice, territory, consolidated figures first then each organisation (SIREN order),
    indicators in catalogue order — sorted on one integer made of the ranks the engine carries
    (ORDER_KEYS), as a COMMUNE run has millions of rows."""
    if results.is_empty():
        return results
    key = _packed_key(results)
    if key is None:
        return results.sort("exercice", *ORDER_KEYS)
    return results.rechunk()[results.select(key.arg_sort()).to_series()]  # from one chunk: faster


def _packed_key(results: pl.DataFrame) -> pl.Expr | None:
    """exercice (8 bits) | territory (24) | SIREN (22) | indicator (10) as one UInt64, in the
    results' order; None when a rank does not fit (then the keys are used as they are)."""
    first = results["exercice"].min()
    # The exercice's bits keep room for one more (with_evolution adds one step to every key).
    if (results["exercice"].max() - first >= (1 << 8) - 1 or results["_t"].max() >= 1 << 24 or results["_s"].max() >= 1 << 22
            or results["_o"].max() >= 1 << 10):
        return None
    return ((pl.col("exercice") - first).cast(pl.UInt64) * EXERCICE_STEP + pl.col("_t").cast(pl.UInt64) * (1 << 32)
            + pl.col("_s").cast(pl.UInt64) * (1 << 10) + pl.col("_o").cast(pl.UInt64))


EXERCICE_STEP = 1 << 56  # one exercice more in the packed key


def with_evolution(results: pl.DataFrame) -> pl.DataFrame:
    """Previous exercice's value beside each result, and the change: `variation` in the unit of
    the indicator (points for a percentage), `variation_pct` relative to the previous value."""
    years = set(results["exercice"].unique().to_list())
    if not years & {y + 1 for y in years}:  # no previous exercice computed
        return results.with_columns([pl.lit(None, pl.Float64).alias(c) for c in ("valeur_precedente", "variation", "variation_pct")])
    key = _packed_key(results)
    if key is None:
        keys = ["_o", "_t", "_s"]  # indicator, territory, organisation (0: consolidated)
        previous = results.select(*keys, (pl.col("exercice") + 1).alias("exercice"), pl.col("valeur").alias("valeur_precedente"))
        joined = results.join(previous, on=[*keys, "exercice"], how="left", maintain_order="left")
    else:  # one integer key, and only the value travels: a third of the time on millions of rows
        keyed = results.select(key.alias("_k"), "valeur")
        previous = keyed.select((pl.col("_k") + EXERCICE_STEP).alias("_k"), pl.col("valeur").alias("valeur_precedente"))
        found = keyed.select("_k").join(previous, on="_k", how="left", maintain_order="left")["valeur_precedente"]
        joined = results.with_columns(found)
    return _changes(joined)


def _changes(joined: pl.DataFrame) -> pl.DataFrame:
    """`variation` and `variation_pct` of results beside their `valeur_precedente`."""
    # Sums of decimals differ in their last bits from one run to the next (Polars adds in parallel):
    # a value that did not change has a change of 0, not of ±1e-10.
    raw = pl.col("valeur") - pl.col("valeur_precedente")
    scale = pl.max_horizontal(pl.col("valeur").abs(), pl.col("valeur_precedente").abs())
    change = pl.when(raw.abs() <= 1e-12 * scale).then(0.0).otherwise(raw)
    return joined.with_columns(
        change.alias("variation"),
        pl.when(pl.col("valeur_precedente") != 0).then(100 * change / pl.col("valeur_precedente").abs()).otherwise(None).alias("variation_pct"),
    )


def _meta(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str, exercice: int | None) -> dict:
    """Provenance of every figure of a computation: inputs, method, parameters, geography."""
    return {
        "format": RESULTS_FORMAT_VERSION,
        "acterr": __version__,
        "calcule_le": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "niveau": level,
        "exercice": exercice,
        "generation": ws.generation,  # the manifest the figures were computed from (see Workspace.save_results)
        "referentiel": {"version": referentiel.version, "nom": referentiel.meta.get("nom"), "fichiers": referentiel.sources},
        "parametres": {
            p.nom: {"basse": p.basse, "centrale": p.centrale, "haute": p.haute, "unite": p.unite, "source": p.source, "statut": p.statut}
            for p in referentiel.parameters.values()
        },
        "territoires": reference.millesime,
        "entrees": [
            {"type": u["type"], "siren": u["siren"], "exercice": u["exercice"], "raison_sociale": u.get("raison_sociale"),
             "fichier": u.get("fichier"), "sha256": u.get("sha256"), "importe_le": u.get("importe_le")}
            for u in sorted(ws.units().values(), key=lambda u: (u["exercice"], u["siren"], u["type"]))
        ],
    }
