"""Results for analysts: CSV (UTF-8, comma, decimal point, one row per result, figures rounded by
unit: see outputs/rounding.py) or Parquet (full precision), with the provenance of the
computation (a JSON file beside the CSV, key-value metadata in Parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import polars as pl

from acterr_cli.common.atomic import atomic_output, atomic_write_bytes
from acterr_cli.outputs.reports.model import ENSEMBLE, ReportData
from acterr_cli.outputs.rounding import rounded

PROVENANCE_VERSION = 1
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def frame(data: ReportData) -> pl.DataFrame:
    """The scope's results of the exercice: consolidated (siren empty; the level's NON_REPARTI row
    after the territories) then per organisation. Only the engine's results: an organisation's own
    non-réparti (a difference the report shows) is not one. For the whole level, taken from the
    engine's frame as it is (a COMMUNE level for France is a million results: rebuilding them
    from the report's rows cost hundreds of megabytes)."""
    results = data.inputs.computation.results
    schema = results.schema
    if data.kind == ENSEMBLE:
        this_year = results.filter(pl.col("exercice") == data.year) if data.year is not None else results.clear()
        consolidated = pl.col("siren").is_null()
        # already in the results' order: territories, then NON_REPARTI (ranked last), then organisations
        return pl.concat([this_year.filter(consolidated), this_year.filter(~consolidated)])
    return pl.concat([pl.DataFrame(data.rows, schema=schema), data.org_frame.select(list(schema))])


def provenance(data: ReportData) -> dict:
    return {"version": PROVENANCE_VERSION, "niveau": data.level, "exercice": data.year,
            "perimetre": {"type": data.kind, "code": data.scope.code, "siren": data.scope.siren, "nom": data.subject},
            "provenance": {k: v for k, v in data.meta.items() if k != "controles"},
            "referentiel": {"version": data.referentiel.version, "fichiers": data.referentiel.sources}}


def write_table(path: Path, data: ReportData, fmt: str) -> None:
    table = frame(data)
    with atomic_output(Path(path)) as tmp:
        if fmt == "csv":  # streamed: the text columns made safe slice by slice, not copied whole
            without_formulas(rounded(table.lazy())).sink_csv(tmp)
        else:
            table.write_parquet(tmp, metadata={"acterr": json.dumps(provenance(data), ensure_ascii=False, default=str)})


# A spreadsheet opening a CSV runs a cell that starts like a formula (« =HYPERLINK(…) », « +cmd|… »):
# text cells that do are written behind an apostrophe, shown as text (OWASP « CSV injection »).
_FORMULA_START = r"^[=+\-@\t\r]"


def without_formulas(table: FrameT) -> FrameT:
    text = [c for c, t in table.collect_schema().items() if t in (pl.String, pl.Categorical)]
    return table.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String)).alias(c) for c in text)


def write_provenance(path: Path, data: ReportData) -> None:
    atomic_write_bytes(Path(path), json.dumps(provenance(data), ensure_ascii=False, indent=1, default=str).encode("utf-8"))
