"""One computation: a level (COMMUNE … FRANCE), all exercices or one, all indicators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

from acterr_cli import __version__
from acterr_cli.engine.checks import liasse_vs_questionnaire
from acterr_cli.engine.compute import CALCULE, RESULT_SCHEMA, Evaluator
from acterr_cli.engine.measures import organisation_rows, raw_measures
from acterr_cli.errors import UsageError
from acterr_cli.referentiel.model import Referentiel
from acterr_cli.territory.reference import LEVELS, TerritorialReference
from acterr_cli.workspace.store import Workspace

RESULTS_FORMAT_VERSION = 1


@dataclass
class Computation:
    level: str
    results: pl.DataFrame
    meta: dict


ALL_LEVELS = (*LEVELS, "QPV")


def normalize_level(level: str) -> str:
    value = level.strip().upper()
    if value not in ALL_LEVELS:
        raise UsageError(f"niveau de territoire inconnu « {level} » (attendu : {', '.join(ALL_LEVELS)}).")
    return value


def compute(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, level: str,
            exercice: int | None = None) -> Computation:
    level = normalize_level(level)
    referentiel.validate(set(raw_measures()))
    evaluator = Evaluator(referentiel)
    # The previous exercice is computed too, for the evolution N vs N-1.
    rows = organisation_rows(ws, reference, level, None if exercice is None else [exercice - 1, exercice], referentiel.parameters)
    if rows.is_empty():
        results = pl.DataFrame(schema=RESULT_SCHEMA)
    else:
        rows = evaluator.derive(rows)
        results = pl.concat([evaluator.consolidate(rows, level), evaluator.per_organisation(rows, level)])
        results = only_economic_effects_outside(results, rows)
    results = with_evolution(results)
    if exercice is not None:
        results = results.filter(pl.col("exercice") == exercice)
    order = {ind.code: i for i, ind in enumerate(referentiel.indicators)}
    results = results.with_columns(pl.col("indicateur").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_o")).sort(
        "exercice", "code_territoire", pl.col("siren").is_not_null(), "siren", "_o", nulls_last=False
    ).drop("_o")
    meta = _meta(ws, reference, referentiel, level, exercice)
    meta["controles"] = liasse_vs_questionnaire(ws, exercice)
    return Computation(level, results, meta)


def only_economic_effects_outside(results: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Where an organisation has no dwelling nor operation (it only buys from local firms or
    employs residents), only the figures it actually produces there are kept — purchases,
    salaries, jobs — not dozens of zeros and « non calculable » about a patrimoine it does not
    have there. The same holds for a territory where no organisation is established."""
    keys = ["code_territoire", "siren", "exercice"]
    own = rows.select(*keys, "implante")
    any_org = own.group_by("code_territoire", "exercice").agg(pl.col("implante").any()).with_columns(pl.lit(None, pl.Utf8).alias("siren"))
    flags = pl.concat([own.filter(pl.col("siren").is_not_null()), any_org.select(own.columns)])
    kept = results.join(flags, on=keys, how="left", nulls_equal=True, maintain_order="left").filter(
        pl.col("implante").fill_null(True) | ((pl.col("statut") == CALCULE) & (pl.col("valeur") != 0))
    )
    return kept.drop("implante")


def with_evolution(results: pl.DataFrame) -> pl.DataFrame:
    """Previous exercice's value beside each result, and the change: `variation` in the unit of
    the indicator (points for a percentage), `variation_pct` relative to the previous value."""
    keys = ["indicateur", "code_territoire", "siren"]
    previous = results.select(*keys, (pl.col("exercice") + 1).alias("exercice"), pl.col("valeur").alias("valeur_precedente"))
    joined = results.join(previous, on=[*keys, "exercice"], how="left", nulls_equal=True, maintain_order="left")
    change = pl.col("valeur") - pl.col("valeur_precedente")
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
