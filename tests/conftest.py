import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import builders  # noqa: E402

from acterr_cli import api  # noqa: E402


@pytest.fixture(autouse=True)
def _no_terminal_size_from_readline():
    """With TERM set, readline (imported by pytest's debugger) exports LINES and COLUMNS to the
    process's C environment, not to os.environ: the commands run as subprocesses would then wrap
    their lines at 80 columns as if the user had asked for it (cli/context.py honours COLUMNS).
    Only what the test itself sets in os.environ reaches them."""
    for name in ("COLUMNS", "LINES"):
        if name not in os.environ:
            os.unsetenv(name)


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
