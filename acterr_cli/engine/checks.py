"""Consistency checks across sources, reported with the results (never blocking).

When the liasse and the questionnaire both give an organisation-level figure, the liasse wins
(derived measures of the catalogue); a difference above 1 % is reported so that the
organisation can explain or correct it.
"""

from __future__ import annotations

import polars as pl

from acterr_cli.common.formatting import fr_number
from acterr_cli.engine.measures import FactReader
from acterr_cli.inputs.crosscheck import COMPARISONS, TOLERANCE
from acterr_cli.workspace.store import Workspace


def liasse_vs_questionnaire(ws: Workspace, exercice: int | None = None, run: dict | None = None) -> list[dict]:
    reader = FactReader(ws, run)
    liasse = reader.dataset("liasse")
    if liasse is None:
        return []
    findings: list[dict] = []
    for field, label, dataset, q_field in COMPARISONS:
        scan = reader.dataset(dataset)
        if scan is None or q_field not in scan.collect_schema().names() or field not in liasse.collect_schema().names():
            continue
        questionnaire = (
            scan.group_by("siren", "exercice")
            .agg(pl.col(q_field).cast(pl.Float64).sum().alias("q"), pl.col(q_field).is_not_null().any().alias("_fourni"))
            .filter(pl.col("_fourni"))
        )
        joined = (
            liasse.select("siren", "exercice", pl.col("raison_sociale").cast(pl.Utf8), pl.col(field).cast(pl.Float64).alias("l"))
            .join(questionnaire, on=["siren", "exercice"], how="inner")
            .filter(pl.col("l").is_not_null() & pl.col("q").is_not_null())
            .with_columns(((pl.col("q") - pl.col("l")).abs() / pl.col("l").abs()).alias("ecart"))
            .filter((pl.col("ecart") > TOLERANCE) | ((pl.col("l") == 0) & (pl.col("q") != 0)))
        )
        if exercice is not None:
            joined = joined.filter(pl.col("exercice") == exercice)
        for row in joined.collect().iter_rows(named=True):
            pct = None if row["ecart"] is None or row["l"] == 0 else 100 * row["ecart"]
            findings.append({
                "siren": row["siren"], "raison_sociale": row["raison_sociale"], "exercice": row["exercice"],
                "champ": field, "libelle": label, "liasse": row["l"], "questionnaire": row["q"],
                "ecart_pct": pct,
                "message": (f"{label} : la liasse ({_fr(row['l'])}) et le questionnaire ({_fr(row['q'])}) diffèrent de plus de 1 %"
                            f"{f' ({fr_number(pct, 1)} %)' if pct is not None else ''} ; la liasse est retenue."),
            })
    return sorted(findings, key=lambda f: (f["exercice"], f["siren"], f["champ"]))


def _fr(value: float) -> str:
    return fr_number(value, 0 if abs(value) >= 1000 or value == int(value) else 1)
