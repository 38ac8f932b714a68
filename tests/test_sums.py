"""Sums independent of the order Polars adds in (acterr_cli/engine/sums.py)."""

import random

import polars as pl

from acterr_cli.engine.sums import exact_sum


def test_exact_sum_is_the_same_in_any_order():
    values = [0.1, 1234567.89, 0.07, 99999999.99, 0.015, 3.3333] * 500
    sums = set()
    for seed in range(5):
        shuffled = values[:]
        random.Random(seed).shuffle(shuffled)
        sums.add(pl.DataFrame({"x": shuffled}).select(exact_sum(pl.col("x")))["x"][0])
    assert len(sums) == 1
    assert sums.pop() == round(sum(round(v * 10_000) for v in values) / 10_000, 4)


def test_exact_sum_by_group_keeps_missing_as_zero_and_nulls_skipped():
    frame = pl.DataFrame({"g": ["a", "a", "b", "c"], "x": [1.25, None, None, 2.5]})
    sums = dict(frame.group_by("g").agg(exact_sum(pl.col("x"))).iter_rows())
    assert sums == {"a": 1.25, "b": 0.0, "c": 2.5}
