"""The package's layers: an import goes down, never up (docs/ARCHITECTURE.md).

    inputs → workspace → engine → outputs → api → cli

a module of a layer imports modules of its own layer or of the layers to its left, never to its
right. Below them all, the reference data (the COG territories, the référentiel as data) and the
neutral modules that any layer may import (errors, progress, interrupts, the results' schema and
statuses, common/ utilities), which import nothing but other neutral modules. Imports inside
functions and under TYPE_CHECKING count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "acterr_cli"

# Most specific prefix wins. A new top-level module must be given its layer here.
LAYERS = {
    "acterr_cli": "neutral",  # __version__
    "acterr_cli.errors": "neutral",
    "acterr_cli.progress": "neutral",
    "acterr_cli.interrupts": "neutral",
    "acterr_cli.results": "neutral",
    "acterr_cli.common": "neutral",
    "acterr_cli.territory": "reference",
    "acterr_cli.referentiel": "reference",
    "acterr_cli.inputs": "inputs",
    "acterr_cli.workspace": "workspace",
    "acterr_cli.importing": "workspace",  # reads files (inputs) into the workspace
    "acterr_cli.engine": "engine",
    "acterr_cli.referentiel.method_note": "outputs",  # writes docs/METHODE.md, reads the engine's measures
    "acterr_cli.outputs": "outputs",
    "acterr_cli.api": "api",
    "acterr_cli.scheduled": "api",  # `acterr executer`: a run of imports, computations and reports over the API
    "acterr_cli.cli": "cli",
    "acterr_cli.__main__": "cli",
}
RANK = {"neutral": 0, "reference": 1, "inputs": 2, "workspace": 3, "engine": 4, "outputs": 5, "api": 6, "cli": 7}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=None)
    return None if best is None else LAYERS[best]


def imports_of(path: Path) -> set[str]:
    module = module_name(path)
    return imports_in(path.read_text(encoding="utf-8"), module if path.name == "__init__.py" else module.rpartition(".")[0])


def imports_in(source: str, package: str) -> set[str]:
    """Modules of acterr_cli that `source` (a module of `package`) imports; `from acterr_cli
    import api` is acterr_cli.api."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "acterr_cli")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if base.split(".")[0] != "acterr_cli":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if _is_module(sub) else base)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unplaced = [module_name(p) for p in all_modules() if layer_of(module_name(p)) is None]
    assert not unplaced, f"give these modules a layer in tests/test_layers.py: {unplaced}"


def against_layers(module: str, imported: set[str]) -> list[str]:
    mine = layer_of(module)
    wrong = []
    for target in sorted(imported):
        theirs = layer_of(target)
        below_all = mine in ("neutral", "reference") and theirs not in ("neutral", mine)
        if theirs is None or RANK[theirs] > RANK[mine] or below_all:
            wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    return wrong


def test_imports_go_down_the_layers():
    wrong = [w for path in all_modules() for w in against_layers(module_name(path), imports_of(path))]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import():
    """Upward imports, absolute, relative, lazy or from a neutral module, are all seen."""
    engine = "def f():\n    from ..outputs import nature\n    from acterr_cli.results import CALCULE\n"
    assert imports_in(engine, "acterr_cli.engine") == {"acterr_cli.outputs.nature", "acterr_cli.results"}
    assert against_layers("acterr_cli.engine.x", imports_in(engine, "acterr_cli.engine")) == [
        "acterr_cli.engine.x (engine) imports acterr_cli.outputs.nature (outputs)"]
    neutral = "from acterr_cli.errors import UsageError\nfrom acterr_cli.territory.reference import LEVELS\n"
    assert against_layers("acterr_cli.common.x", imports_in(neutral, "acterr_cli.common")) == [
        "acterr_cli.common.x (neutral) imports acterr_cli.territory.reference (reference)"]
    assert against_layers("acterr_cli.cli.x", imports_in("from acterr_cli import api, __version__", "acterr_cli.cli")) == []


# What the CLI may import besides acterr_cli.api and its own modules (acterr_cli.cli.*): the
# neutral modules it needs to run (version, errors and exit codes, interrupts, progress; the
# README writer of cli/reference.py; French counts and numbers in its messages) and the terminal views, which only print what the API
# returns. Everything that reads, computes or writes files goes through acterr_cli.api.
CLI_MAY_IMPORT = {"acterr_cli", "acterr_cli.api", "acterr_cli.errors", "acterr_cli.interrupts", "acterr_cli.progress",
                  "acterr_cli.common.docs", "acterr_cli.common.formatting", "acterr_cli.outputs.terminal", "acterr_cli.outputs.terminal_report",
                  "acterr_cli.outputs.terminal_evolution"}


def test_the_cli_goes_through_the_api():
    wrong = [f"{module_name(path)} imports {target}" for path in all_modules() if module_name(path).startswith("acterr_cli.cli")
             for target in sorted(imports_of(path))
             if target not in CLI_MAY_IMPORT and not (target + ".").startswith("acterr_cli.cli.")]
    assert not wrong, "the CLI calls acterr_cli.api (see CLI_MAY_IMPORT):\n" + "\n".join(wrong)


def test_the_api_lists_what_it_offers():
    from acterr_cli import api

    missing = [name for name in api.__all__ if not hasattr(api, name)]
    public = [name for name, value in vars(api).items() if callable(value) and not name.startswith("_")
              and getattr(value, "__module__", None) == "acterr_cli.api" and name not in api.__all__]
    assert not missing and not public, (missing, public)
