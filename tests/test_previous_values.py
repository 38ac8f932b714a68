"""The previous exercice's values that `compute --exercice N` reads (engine/run._previous_values)
are computed by a path of their own, central values only (Evaluator's `central_only`): on the
samples, which have 2024 and 2025, they are exactly the `valeur` of every computed figure of a full
computation of 2024, at every level — no figure missing, none added, none different."""

import importlib.util
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from acterr_cli import api
from acterr_cli.engine import run as engine_run
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)

IDENTITY = ["indicateur", "code_territoire", "siren"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return golden.demo_workspace(tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("level", ["COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "QPV", "FRANCE"])
def test_central_values_are_the_full_computation_values(demo, level):
    full = api.compute_level(demo, level, exercice=2024, store=False).results
    expected = (full.filter(pl.col("valeur").is_not_null()).select(*(pl.col(c).cast(pl.String) for c in IDENTITY), "valeur")
                .sort(IDENTITY, nulls_last=True))
    ws = Workspace(demo)
    with ws.snapshot():
        central = engine_run._central_values(ws, TerritorialReference.load(), load_referentiel(), level, [2024], {})
    assert expected.height > 0
    central = central.with_columns(pl.col(c).cast(pl.String) for c in IDENTITY)
    assert_frame_equal(central.sort(IDENTITY, nulls_last=True), expected, check_exact=True)


def test_previous_values_of_a_first_run_are_those_of_a_full_computation(demo):
    """`--exercice 2025` without kept values: its valeur_precedente is the full 2024 valeur."""
    results = api.compute_level(demo, "EPCI", exercice=2025, store=False).results
    previous = api.compute_level(demo, "EPCI", exercice=2024, store=False).results
    joined = results.select(*(pl.col(c).cast(pl.String) for c in IDENTITY), "valeur_precedente").join(
        previous.select(*(pl.col(c).cast(pl.String) for c in IDENTITY), "valeur"), on=IDENTITY, how="left", nulls_equal=True)
    assert joined["valeur_precedente"].drop_nulls().len() > 100
    assert_frame_equal(joined.select(pl.col("valeur_precedente").alias("v")), joined.select(pl.col("valeur").alias("v")), check_exact=True)
