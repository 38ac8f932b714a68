import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import builders  # noqa: E402

from acterr_cli import api  # noqa: E402


@pytest.fixture
def fixture_files(tmp_path) -> list[Path]:
    """The two hand-checkable organisations of builders.py and B's liasse."""
    return builders.write_all(tmp_path / "entrees")


@pytest.fixture
def espace(tmp_path, fixture_files) -> Path:
    """A workspace with the fixture imported."""
    root = tmp_path / "espace"
    report = api.import_paths(root, fixture_files)
    assert not report.refused, report.to_dict()
    return root
