"""A process keeps what it read and reduced from the facts for its next computations (every level
of a run reads the same facts): only while the workspace is the one it read. Dwellings (TER-00)
in Toulouse Métropole, by hand from builders.py: A 800 + 250, B 200."""

import copy
import shutil
from contextlib import closing

import builders
import pytest
from builders import TOULOUSE_METROPOLE, write_questionnaire
from polars.testing import assert_frame_equal
from test_indicators import pick

from acterr_cli import api


def dwellings(root) -> float:
    return pick(api.compute_level(root, "EPCI", store=False).results, "TER-00", TOULOUSE_METROPOLE)["valeur"]


def test_each_import_is_seen_by_the_next_computation(tmp_path):
    root, folder = tmp_path / "espace", tmp_path / "entrees"
    folder.mkdir()
    api.import_paths(root, [builders.write_org_a(folder)])
    assert dwellings(root) == 1050
    api.import_paths(root, [builders.write_org_b(folder)])
    assert dwellings(root) == 1250
    tables = copy.deepcopy(builders.TABLES_A)
    tables["Patrimoine"][0]["logements"] = 900  # Toulouse: 800 → 900, the same organisation again
    api.import_paths(root, [write_questionnaire(folder / "org_a_corrige.xlsx", builders.ORG_A, tables)])
    assert dwellings(root) == 1350


def test_a_workspace_made_again_in_the_same_folder_is_read_again(tmp_path):
    root, folder = tmp_path / "espace", tmp_path / "entrees"
    folder.mkdir()
    api.import_paths(root, [builders.write_org_a(folder)])
    assert dwellings(root) == 1050
    shutil.rmtree(root)  # same folder, same number of imports: other facts
    api.import_paths(root, [builders.write_org_b(folder)])
    assert dwellings(root) == 200


def test_a_level_does_not_depend_on_the_levels_computed_before(espace):
    alone = api.compute_level(espace, "FRANCE", store=False).results
    for level in ("COMMUNE", "EPCI", "QPV", "DEPARTEMENT"):
        api.compute_level(espace, level, store=False)
    assert_frame_equal(api.compute_level(espace, "FRANCE", store=False).results, alone)


def test_several_levels_are_written_as_computed_one_by_one(espace):
    """compute_levels writes each level while the next one is computed: once its write is over,
    every file holds what compute_level gives for that level alone."""
    levels = ["COMMUNE", "EPCI", "FRANCE"]
    written = []
    for computation, stored in api.compute_levels(espace, levels):
        stored.result()
        written.append(computation.level)
    assert written == levels
    ws = api.Workspace.open(espace, create=False)
    for level in levels:
        results, meta = ws.load_results(level)
        assert meta["niveau"] == level and meta["generation"] == ws.generation
        assert_frame_equal(results, api.compute_level(espace, level, store=False).results)


def test_a_write_that_fails_stops_the_run_with_its_error(espace, monkeypatch):
    def refuse(self, level, results, meta, *args):
        raise OSError(f"disque plein ({level})")

    monkeypatch.setattr(api.Workspace, "save_results", refuse)
    computed = []
    try:
        for computation, _stored in api.compute_levels(espace, ["EPCI", "REGION", "FRANCE"]):
            computed.append(computation.level)
    except OSError as exc:
        assert "disque plein (EPCI)" in str(exc)
    else:
        raise AssertionError("the failed write was not reported")
    assert computed[0] == "EPCI"


def test_a_failed_write_is_told_even_when_the_caller_stops_on_its_own_error(espace, monkeypatch):
    """The caller stops after the first level (say, no result for the territory asked): the write
    of that level failed meanwhile, and that is what the run ends with, not silence."""
    def refuse(self, level, results, meta, *args):
        raise OSError(f"disque plein ({level})")

    monkeypatch.setattr(api.Workspace, "save_results", refuse)
    levels = api.compute_levels(espace, ["EPCI", "FRANCE"])
    with pytest.raises(OSError, match=r"disque plein \(EPCI\)"), closing(levels):
        for _computation, _stored in levels:
            raise LookupError("aucun résultat pour ce territoire")
    with api.Workspace.open(espace, create=False).locked(0):  # released: another run may start
        pass


def test_stored_results_are_reused_with_their_texts_as_strings(espace):
    """The engine keeps texts dictionary-encoded (Categorical); the reports get the stored
    results back as plain strings, the same values as a fresh computation."""
    import polars as pl

    fresh = api.compute_level(espace, "EPCI").results
    assert fresh.schema["indicateur"] == pl.Categorical
    reused = api.results_for(espace, "EPCI").results
    assert reused.schema["indicateur"] == reused.schema["code_territoire"] == reused.schema["motif"] == pl.String
    assert_frame_equal(reused, fresh.with_columns(pl.col(pl.Categorical).cast(pl.String)))
