"""Sums that do not depend on the order Polars adds in.

Polars adds a group's floats in parallel, in an order that changes from run to run: the same
figures came out with different last digits (13 591 961,29 then 13 591 961,290000001), and exports
differed from one run to the next. Adding integers is exact in any order, so each value is added
as a whole number of ten-thousandths of its unit (0,01 centime for an amount): the sum is the same
every time, to far below what any figure shows. Int64 holds ±9,2 × 10¹⁴ units at that scale —
a hundred times the investment of all social landlords of France in a year.
"""

from __future__ import annotations

import polars as pl

SCALE = 10_000


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a column, exact to 1/10 000 of its unit and the same whatever the order
    (nulls are skipped, as by Expr.sum: the sum of nothing is 0)."""
    return units_sum(as_units(expr))


def as_units(expr: pl.Expr) -> pl.Expr:
    """A column as whole ten-thousandths of its unit (Int64): made once, where the same column is
    summed over many sets of rows (`units_sum` of each gives its `exact_sum`)."""
    return (expr * SCALE).round(0).cast(pl.Int64)


def units_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a column of `as_units`, back in its unit."""
    return expr.sum() / SCALE
