"""Results for analysts: CSV (UTF-8, comma, decimal point, one row per result, figures rounded by
unit: see outputs/rounding.py) or Parquet (full precision), with the provenance of the
computation (a JSON file beside the CSV, key-value metadata in Parquet)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TypeVar

import polars as pl
import pyarrow.parquet as pq

from acterr_cli.common.atomic import atomic_output, atomic_write_bytes
from acterr_cli.errors import InputMissingError
from acterr_cli.outputs.reports.model import DWELLINGS, ENSEMBLE, ReportData
from acterr_cli.outputs.rounding import rounded
from acterr_cli.referentiel.model import Referentiel

PROVENANCE_VERSION = 1
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
# Stored rows read at a time by an export of a whole level: a few tens of megabytes once as text.
SLICE_ROWS = 65_536


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
    return _provenance(data.level, data.year, {"type": data.kind, "code": data.scope.code, "siren": data.scope.siren, "nom": data.subject},
                       data.meta, data.referentiel)


def _provenance(level: str, year: int | None, scope: dict, meta: dict, referentiel: Referentiel) -> dict:
    return {"version": PROVENANCE_VERSION, "niveau": level, "exercice": year, "perimetre": scope,
            "provenance": {k: v for k, v in meta.items() if k != "controles"},
            "referentiel": {"version": referentiel.version, "fichiers": referentiel.sources}}


def write_table(path: Path, data: ReportData, fmt: str) -> None:
    _write(path, frame(data).lazy(), fmt, provenance(data))


def _write(path: Path, table: pl.LazyFrame, fmt: str, about: dict) -> None:
    """Streamed to disk: the CSV's text made safe and its figures rounded slice by slice."""
    with atomic_output(Path(path)) as tmp:
        if fmt == "csv":
            without_formulas(rounded(table)).sink_csv(tmp)
        else:
            table.sink_parquet(tmp, metadata={"acterr": json.dumps(about, ensure_ascii=False, default=str)})


# ─── a whole level, from the stored results ───

ENSEMBLE_SUBJECT = "Ensemble des organismes importés"  # as model.ReportData names the overview


@dataclass
class StoredLevel:
    """A level's results as stored in the workspace (up to date with its facts and référentiel):
    enough to write its data files without loading them, nor building a report's model (a
    COMMUNE level for France is a million results: 1,8 GB that way)."""

    level: str
    path: Path  # resultats/<NIVEAU>.parquet
    meta: dict
    national: pl.DataFrame  # the FRANCE level's consolidated results (a hundred rows): the headline figures
    referentiel: Referentiel
    year: int | None = None

    def rows(self) -> pl.LazyFrame:
        """The exercice's results in `frame`'s order: consolidated (NON_REPARTI after the
        territories), then per organisation; text as strings. For a few rows (a filter); the data
        files are written from `slices`."""
        scan = (pl.scan_parquet(self.path, glob=False).filter(pl.col("exercice") == self.year)
                .with_columns(pl.col(pl.Categorical).cast(pl.String)))
        return pl.concat([scan.filter(pl.col("siren").is_null()), scan.filter(pl.col("siren").is_not_null())])

    def schema(self) -> pl.Schema:
        """`rows`' columns and types."""
        stored = pl.scan_parquet(self.path, glob=False).collect_schema()
        return pl.Schema({name: pl.String if dtype == pl.Categorical else dtype for name, dtype in stored.items()})

    def slices(self) -> Iterator[pl.DataFrame]:
        """`rows`, read SLICE_ROWS stored rows at a time (the file twice: the consolidated rows,
        then the organisations'). A sink over a scan of the file let Polars read its row groups
        ahead with their text: a COMMUNE level for France took over 1 GB to write. Consumed on
        the main thread (`write_level`), where an interrupt unwinds between two slices: a Python
        source inside a Polars sink is called from Polars' threads, and an interrupt there
        printed a traceback."""
        schema = self.schema()
        with pq.ParquetFile(self.path) as stored:
            for consolidated in (True, False):
                wanted = (pl.col("exercice") == self.year) & (pl.col("siren").is_null() if consolidated else pl.col("siren").is_not_null())
                for batch in stored.iter_batches(batch_size=SLICE_ROWS):
                    part = pl.from_arrow(batch).filter(wanted).cast(schema)
                    if part.height:
                        yield part

    def consolidated(self, also: pl.Expr | None = None) -> pl.DataFrame:
        """The exercice's consolidated results (and the organisations' rows `also` selects),
        consolidated first, in the stored order; text as the engine gives it (Categorical).
        Filtered as the file is read: the whole level is never in memory."""
        wanted = pl.col("siren").is_null() if also is None else pl.col("siren").is_null() | also
        rows = pl.scan_parquet(self.path, glob=False).filter((pl.col("exercice") == self.year) & wanted).collect()
        return rows.sort(pl.col("siren").is_not_null(), maintain_order=True)

    def summary_rows(self) -> pl.DataFrame:
        """What the screen's summary reads (terminal.print_summary): the consolidated results, and
        each organisation's dwellings per territory (its « Org. » column)."""
        return self.consolidated(pl.col("indicateur") == DWELLINGS)

    def provenance(self) -> dict:
        scope = {"type": ENSEMBLE, "code": None, "siren": None, "nom": ENSEMBLE_SUBJECT}
        return _provenance(self.level, self.year, scope, self.meta, self.referentiel)


def choose_year(stored: StoredLevel, exercice: int | None) -> StoredLevel:
    """The exercice asked for (refused if the results have none of it), else the latest."""
    years = pl.scan_parquet(stored.path, glob=False).select(pl.col("exercice").unique()).collect()["exercice"].drop_nulls()
    available = sorted(years.to_list())
    if exercice is not None and exercice not in available:
        raise InputMissingError(f"aucun résultat pour l'exercice {exercice} (exercices disponibles : "
                                f"{', '.join(map(str, available)) or 'aucun'}).")
    stored.year = exercice if exercice is not None else (available[-1] if available else None)
    return stored


def write_level(path: Path, stored: StoredLevel, fmt: str) -> None:
    """The level's data file, a slice of the stored results at a time: the same bytes (CSV) and
    frame (Parquet) as `write_table`'s of the whole level."""
    schema = stored.schema()
    with atomic_output(Path(path)) as tmp:
        try:
            if fmt == "csv":
                _csv_slices(tmp, schema, stored.slices())
            else:
                _parquet_slices(tmp, schema, stored.slices(), stored.provenance())
        except OSError as exc:  # a full disk said by its errno, named after the file (atomic_output names the user's)
            if exc.filename is None and exc.errno is not None:
                raise OSError(exc.errno, exc.strerror, str(tmp)) from exc
            raise


def _csv_slices(path: Path, schema: pl.Schema, slices: Iterator[pl.DataFrame]) -> None:
    """Each slice rounded, made safe and formatted by Polars into memory, then written by Python,
    whose write errors carry their errno (Polars' own to a file object do not)."""
    with open(path, "wb") as out:
        out.write(pl.DataFrame(schema=schema).write_csv().encode("utf-8"))  # the header, even without rows
        for part in slices:
            text = io.BytesIO()
            without_formulas(rounded(part)).write_csv(text, include_header=False)
            out.write(text.getbuffer())


def _parquet_slices(path: Path, schema: pl.Schema, slices: Iterator[pl.DataFrame], about: dict) -> None:
    """A row group per slice, the provenance in the file's key-value metadata as `_write` puts it."""
    arrow = pl.DataFrame(schema=schema).to_arrow().schema
    arrow = arrow.with_metadata({**(arrow.metadata or {}), b"acterr": json.dumps(about, ensure_ascii=False, default=str).encode("utf-8")})
    with open(path, "wb") as out, pq.ParquetWriter(out, arrow, compression="zstd") as writer:
        for part in slices:
            writer.write_table(part.to_arrow().cast(arrow))


def write_level_provenance(path: Path, stored: StoredLevel) -> None:
    atomic_write_bytes(Path(path), json.dumps(stored.provenance(), ensure_ascii=False, indent=1, default=str).encode("utf-8"))


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
