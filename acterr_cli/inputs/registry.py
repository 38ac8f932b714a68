"""The readers of acterr, one entry each: what `--type` names, how a file is recognised, which
function reads it and which datasets of the workspace it writes.

A new input format is one reader module in `inputs/` plus one entry here: `acterr import --type`,
its help, the detection of files, `api.import_paths` and the datasets the engine reads
(`engine/measures.FACT_DATASETS`) all come from this table. Reader modules are imported only
when a file of their kind is read (`Reader.function`), so that a command that only computes
does not load them.

Two families:
- files of the organisations (questionnaire, liasse), checked together in one run and
  recognised from their content when `--type` is not given: `function(path, reference,
  workbook=…, options=…)`, the workbook being None for a CSV;
- public data (RPLS, rents, QPV, SIRENE), one file at a time, their millésime given by
  `--exercice`, always named by `--type`: `function(path, reference, options, facts)`, where
  `facts(dataset)` scans a dataset of the workspace (or None), for a reader that needs what is
  already stored.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.liasse_schema import LIASSE

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")

# Datasets of the public readers (each module takes its names from here).
RPLS_STOCK_DATASET = "rpls_territoire"  # the territories' social stock, all landlords
RPLS_PATRIMOINE_DATASET = "patrimoine_rpls"  # one organisation's patrimoine
RENTS_DATASET = "loyers_marche"
QPV_DATASET = "qpv_liste"
SIRENE_DATASET = "sirene_communes"


@dataclass(frozen=True)
class Reader:
    kind: str  # the value of --type, and ParsedFile.kind
    description: str  # French, for --type's help
    module: str  # acterr_cli.inputs.<module>
    read: str  # name of the reading function in `module` (signatures: see the module docstring)
    datasets: tuple[str, ...]  # datasets of the workspace its units write
    public: bool = False  # public data (second family above)
    suffixes: tuple[str, ...] = ()  # files it reads (organisations' files)
    recognises: str | None = None  # function of `module`, workbook → bool; None: any file of its suffixes
    wrong_suffix: str = ""  # French, when --type names it for a file of another suffix
    facts: bool = True  # False: datasets the engine looks up by name (labels), not facts it sums

    def function(self) -> Callable:
        """The reading function, its module imported now (and looked up at each call, so that a
        test can replace it)."""
        return getattr(importlib.import_module(f"acterr_cli.inputs.{self.module}"), self.read)

    def recogniser(self) -> Callable | None:
        return None if self.recognises is None else getattr(importlib.import_module(f"acterr_cli.inputs.{self.module}"), self.recognises)


# Order matters for detection: the first reader of the file's suffix that recognises it reads it.
READERS: tuple[Reader, ...] = (
    Reader("questionnaire", "questionnaire d'un organisme", "questionnaire", "read_questionnaire",
           tuple(s.dataset for s in qs.ALL_SHEETS), suffixes=EXCEL_SUFFIXES, recognises="looks_like_questionnaire",
           wrong_suffix="un questionnaire est un classeur Excel, pas un CSV."),
    Reader("liasse", "données financières", "liasse", "read_liasse", (LIASSE.dataset,), suffixes=(*CSV_SUFFIXES, *EXCEL_SUFFIXES)),
    Reader("rpls", "RPLS par logement", "rpls", "read_file", (RPLS_PATRIMOINE_DATASET, RPLS_STOCK_DATASET), public=True),
    Reader("loyers", "carte des loyers", "loyers", "read_file", (RENTS_DATASET,), public=True),
    Reader("qpv", "liste des QPV", "qpv", "read_file", (QPV_DATASET,), public=True, facts=False),
    Reader("sirene", "StockEtablissement", "sirene", "read_file", (SIRENE_DATASET,), public=True),
)


def kinds(public: bool) -> tuple[str, ...]:
    """The kinds of the organisations' files (public False) or of public data (True)."""
    return tuple(r.kind for r in READERS if r.public == public)


def reader(kind: str) -> Reader:
    return next(r for r in READERS if r.kind == kind)


def fact_datasets() -> list[str]:
    """Every dataset of facts a reader writes, in the table's order."""
    return [d for r in READERS if r.facts for d in r.datasets]
