"""Caches are scoped to one computation: what a run reads and prepares is passed along the run
(engine.run.compute's `run`), never kept by the process, so that no result depends on what ran
before it in the same process."""

from __future__ import annotations

import polars as pl
from builders import SIREN_A, TOULOUSE_METROPOLE, write_org_a
from test_indicators import pick

from acterr_cli import api


def test_a_result_does_not_depend_on_an_earlier_computation(tmp_path):
    """The facts change on disk behind the same manifest (as a restored backup would): a process
    that computed before sees them as a fresh process does, never what it read the first time."""
    espace = tmp_path / "espace"
    api.import_paths(espace, [write_org_a(tmp_path)])
    before = pick(api.compute_level(espace, "EPCI", store=False).results, "TER-00", TOULOUSE_METROPOLE, SIREN_A)["valeur"]
    ws = api.Workspace.open(espace)
    for path in ws.dataset_paths("patrimoine"):
        frame = pl.read_parquet(path)
        frame.with_columns(pl.col("logements") * 2).write_parquet(path)
    after = pick(api.compute_level(espace, "EPCI", store=False).results, "TER-00", TOULOUSE_METROPOLE, SIREN_A)["valeur"]
    assert before > 0 and after == 2 * before
