"""A process keeps what it read and reduced from the facts for its next computations (every level
of a run reads the same facts): only while the workspace is the one it read. Dwellings (TER-00)
in Toulouse Métropole, by hand from builders.py: A 800 + 250, B 200."""

import copy
import shutil

import builders
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
