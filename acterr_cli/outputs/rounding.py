"""Figures as the data files give them (CSV, JSON): rounded by their unit, so that the same
inputs give the same text from run to run and no « 1234.5600000000002 » reaches a spreadsheet.

Amounts and counts (€, €/logt, logements, ETP, MWh, tCO2e…) to the cent: two decimals are more
than any input carries. Ratios (%, ‰, « ratio », « pour 100 … ») and shares (coverage, flat-rate
share, relative change) to 6 significant digits: a percentage of 0,0123 % keeps its digits. The
stored results and the Parquet export keep full precision for analysts who recompute."""

from __future__ import annotations

from typing import TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

RATIO_UNITS = ("%", "‰", "ratio")
# In the indicator's unit: their precision follows it.
VALUE_COLUMNS = ("valeur", "valeur_basse", "valeur_haute", "valeur_precedente", "variation",
                 # net value, simulation centiles, sensitivity swings: in the same unit, rounded alike
                 "valeur_nette", "valeur_nette_basse", "valeur_nette_haute", "p10", "p50", "p90",
                 *(f"moteur_{r}_{end}" for r in (1, 2, 3) for end in ("basse", "haute")))
# Shares and relative changes, whatever the indicator's unit.
SHARE_COLUMNS = ("couverture", "part_forfaitaire", "variation_pct")
CENTS = 2
SIGNIFICANT = 6


def is_ratio_unit(unit: pl.Expr) -> pl.Expr:
    text = unit.cast(pl.String)
    return text.is_in(RATIO_UNITS) | text.str.starts_with("pour ")


def rounded(table: FrameT) -> FrameT:
    """`table` (results, with their `unite` column) with its figures rounded by unit."""
    names = table.collect_schema().names()
    ratio = is_ratio_unit(pl.col("unite"))
    return table.with_columns(
        *(_no_negative_zero(pl.when(ratio).then(pl.col(c).round_sig_figs(SIGNIFICANT)).otherwise(pl.col(c).round(CENTS))).alias(c)
          for c in VALUE_COLUMNS if c in names),
        *(_no_negative_zero(pl.col(c).round_sig_figs(SIGNIFICANT)).alias(c) for c in SHARE_COLUMNS if c in names),
    )


def _no_negative_zero(figure: pl.Expr) -> pl.Expr:
    """A change of -0,004 € is written 0.0, not -0.0."""
    return pl.when(figure == 0).then(0.0).otherwise(figure)


def rounded_figure(value: float | None, unit: str | None) -> float | None:
    """One figure as `rounded` writes it (for the few figures a JSON document gives one by one)."""
    if value is None:
        return None
    return pl.DataFrame({"valeur": [value], "unite": [unit]}, schema={"valeur": pl.Float64, "unite": pl.String}).pipe(rounded).item(0, 0)


def rounded_share(value: float | None) -> float | None:
    """A share (coverage, flat-rate share) as `rounded` writes it."""
    return None if value is None else float(pl.Series([value], dtype=pl.Float64).round_sig_figs(SIGNIFICANT)[0]) + 0.0  # never -0.0
