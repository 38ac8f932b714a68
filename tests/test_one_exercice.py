"""One exercice among several (`--exercice N`): its results and their evolution are those of the
computation of every exercice, whether the previous exercice's values are computed apart or read
back from the last run (engine/run._previous_values); changed inputs of N-1 are never read back."""

import builders
import polars as pl
from polars.testing import assert_frame_equal

from acterr_cli import api

LEVELS = ("COMMUNE", "EPCI", "FRANCE")


def two_exercices(tmp_path, tfpb_2024: int = 380_000):
    org_2024 = {**builders.ORG_A, "exercice": 2024, "logements_debut": 950, "logements_fin": 1000}
    tables_2024 = {**builders.TABLES_A, "Fiscalite": [{"commune": "31555", "tfpb_eur": tfpb_2024}, {"commune": "31069", "tfpb_eur": 100000}]}
    return [builders.write_questionnaire(tmp_path / "a2024.xlsx", org_2024, tables_2024), builders.write_org_a(tmp_path),
            builders.write_org_b(tmp_path), builders.write_liasse(tmp_path)]


def of_2025(espace, level):
    every = api.compute_level(espace, level, store=False).results
    return every.filter(pl.col("exercice") == 2025)


def test_one_exercice_is_every_exercice_filtered(tmp_path):
    espace = tmp_path / "espace"
    assert not api.import_paths(espace, two_exercices(tmp_path)).refused
    for level in LEVELS:
        expected = of_2025(espace, level)
        cold = api.compute_level(espace, level, exercice=2025, store=False).results  # N-1 computed, then kept
        kept = list((espace / "resultats" / "precedent").glob(f"{level}-2024-*.parquet"))
        assert len(kept) == 1
        warm = api.compute_level(espace, level, exercice=2025, store=False).results  # N-1 read back
        for results in (cold, warm):
            assert_frame_equal(results, expected, check_dtypes=False)
        assert expected["valeur_precedente"].drop_nulls().len() > 0


def test_changed_inputs_of_the_previous_exercice_are_computed_again(tmp_path):
    espace = tmp_path / "espace"
    assert not api.import_paths(espace, two_exercices(tmp_path)).refused
    api.compute_level(espace, "EPCI", exercice=2025, store=False)
    changed = tmp_path / "nouveau"
    changed.mkdir()
    assert not api.import_paths(espace, two_exercices(changed, tfpb_2024=300_000)[:1]).refused  # 2024 re-imported, changed
    results = api.compute_level(espace, "EPCI", exercice=2025, store=False).results
    row = results.filter((pl.col("indicateur") == "ECO-10") & (pl.col("code_territoire") == builders.TOULOUSE_METROPOLE)
                         & pl.col("siren").is_null())
    assert row["valeur_precedente"].to_list() == [400_000]  # 300 000 + 100 000, not the 480 000 kept before
    assert_frame_equal(results, of_2025(espace, "EPCI"), check_dtypes=False)
    assert len(list((espace / "resultats" / "precedent").glob("EPCI-2024-*.parquet"))) == 1  # the old values gone
