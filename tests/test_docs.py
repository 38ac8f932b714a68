"""The README's parts written from the code are up to date (`make docs` rewrites them)."""

from __future__ import annotations

from pathlib import Path

from acterr_cli.cli.reference import MARKERS, command_reference
from acterr_cli.common.docs import between

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_command_reference_is_the_commands_help():
    assert between(README.read_text(encoding="utf-8"), MARKERS) == command_reference(), (
        "the README's command reference differs from the commands' --help: run `make docs`")


def test_the_reference_names_every_command_and_option():
    reference = command_reference()
    for text in ("### `acterr import`", "### `acterr modele questionnaire`", "`--rapport-erreurs` *path*", "`--espace` *path*"):
        assert text in reference
