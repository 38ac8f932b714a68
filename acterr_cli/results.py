"""What a computation gives, shared by every layer (neutral, see tests/test_layers.py): the
results' schema, the statuses of a figure, the Non réparti row, and `Computation` (one level's
results and their metadata). The engine makes them; outputs, the API and the CLI read them
without importing the engine."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Text columns of results are dictionary-encoded (Categorical), from the moment they are made
# (names, motifs, notes) to the Parquet file: a COMMUNE run has millions of rows and a few
# thousand distinct texts, which are then sorted, gathered and written as one integer each.
# Parquet readers (DuckDB, Spark) see strings; `as_text` gives them back as strings to code
# that works on a level's results.
TEXT = pl.Categorical
# The three parameters that move a consolidated figure most, one at a time (engine/sensitivity.py):
# `moteur_<r>` the parameter, `moteur_<r>_basse` / `_haute` the figure's change from its central
# value when it alone takes its low / high value.
SENSITIVITY_TOP = 3
SENSITIVITY_SCHEMA = {c: t for r in range(1, SENSITIVITY_TOP + 1) for c, t in
                      ((f"moteur_{r}", TEXT), (f"moteur_{r}_basse", pl.Float64), (f"moteur_{r}_haute", pl.Float64))}
RESULT_SCHEMA = {
    "indicateur": TEXT,
    "libelle": TEXT,
    "axe": TEXT,
    "registre": TEXT,
    "niveau": TEXT,
    "code_territoire": TEXT,
    "nom_territoire": TEXT,
    "siren": TEXT,
    "raison_sociale": TEXT,
    "exercice": pl.Int64,
    "valeur": pl.Float64,
    "valeur_basse": pl.Float64,
    "valeur_haute": pl.Float64,
    # a monetised figure of the plus-value sociale after additionality (deadweight, attribution,
    # displacement: Indicator.additionnalite); null for the others
    "valeur_nette": pl.Float64,
    "valeur_nette_basse": pl.Float64,
    "valeur_nette_haute": pl.Float64,
    "unite": TEXT,
    "couverture": pl.Float64,
    "part_forfaitaire": pl.Float64,
    "fiabilite": TEXT,
    "nb_organismes": pl.Int64,
    "nb_organismes_calcules": pl.Int64,
    "statut": TEXT,
    "motif": TEXT,
    "note": TEXT,
    **SENSITIVITY_SCHEMA,
}
# `statut` of a result row.
CALCULE = "calcule"
NON_CALCULABLE = "non_calculable"
# What organisation-level data (liasse, organisation totals) and facts outside the level's
# territories add to the FRANCE figure of an additive indicator: one more consolidated row per
# level, so that its territories plus this row give the FRANCE figure (REFERENTIEL rule 7).
NON_REPARTI_CODE = "NON_REPARTI"
NON_REPARTI_NOM = "Non réparti (données de niveau organisme)"


@dataclass
class Computation:
    """One level's results (RESULT_SCHEMA, plus the evolution columns) and their metadata."""

    level: str
    results: pl.DataFrame
    meta: dict


def as_text(results: pl.DataFrame) -> pl.DataFrame:
    """Results with their text columns as strings (the engine keeps them dictionary-encoded, see
    TEXT): to be called on what is kept of a level, as it costs a pass over every text."""
    return results.with_columns(pl.col(pl.Categorical).cast(pl.Utf8))


__all__ = ["TEXT", "RESULT_SCHEMA", "SENSITIVITY_SCHEMA", "SENSITIVITY_TOP", "CALCULE", "NON_CALCULABLE", "NON_REPARTI_CODE", "NON_REPARTI_NOM", "Computation", "as_text"]
