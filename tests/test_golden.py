"""The demo's consolidated figures, level by level, against tests/golden/demo_figures.csv (see
scripts/golden.py): an engine change meant to change nothing changes nothing. After a change of
method, `make golden` rewrites the file, and its diff shows which figures moved."""

import importlib.util
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)


def test_demo_figures_unchanged(tmp_path):
    expected = pl.read_csv(golden.GOLDEN, schema_overrides={"code_territoire": pl.Utf8})
    actual = golden.figures(golden.demo_workspace(tmp_path))
    assert actual.height == expected.height, "figures added or removed: run `make golden` if the method changed"
    numbers = [c for c in golden.COLUMNS if c in ("valeur", "valeur_basse", "valeur_haute", "couverture", "part_forfaitaire", "valeur_nette")]
    actual = actual.with_columns([pl.col(c).round(6) for c in numbers]).cast(expected.schema)
    try:
        assert_frame_equal(actual, expected.with_columns([pl.col(c).round(6) for c in numbers]), check_exact=False, rel_tol=1e-6, abs_tol=1e-4)
    except AssertionError as exc:
        pytest.fail(f"the demo's figures changed: run `make golden` if the method changed ({str(exc)[:400]})")
