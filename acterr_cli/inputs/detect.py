"""Which reader a file needs, from its content (or from `--type`): the organisations' files of
the reader registry (inputs/registry.py), tried in its order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from acterr_cli.errors import InputMissingError, InvalidDataError, UsageError
from acterr_cli.inputs import registry
from acterr_cli.inputs.excel import Workbook
from acterr_cli.inputs.model import ParsedFile, ReadOptions
from acterr_cli.inputs.registry import EXCEL_SUFFIXES, Reader, reader
from acterr_cli.territory.reference import TerritorialReference

if TYPE_CHECKING:
    from acterr_cli.inputs.questionnaire import Draft


def open_input(path: Path, reference: TerritorialReference, options: ReadOptions) -> ParsedFile | Draft:
    """A liasse, read and checked; or a questionnaire's draft, to be checked with the other
    questionnaires of the run (see questionnaire.check_questionnaires)."""
    path = Path(path)
    kind = options.kind
    if path.is_dir():
        raise InputMissingError(f"{path} : c'est un dossier ; indiquez ses fichiers (par exemple {path / '*.xlsx'}).")
    if not path.is_file():
        raise InputMissingError(f"{path} : fichier introuvable.")
    if kind is not None and kind not in registry.kinds(public=False):
        raise UsageError(f"type de fichier inconnu « {kind} » (attendu : {', '.join(registry.kinds(public=False))}).")
    suffix = path.suffix.lower()
    unknown = InvalidDataError(f"{path.name} : format non reconnu (attendu : classeur .xlsx, .xls, .ods ou fichier .csv).")
    if not any(suffix in r.suffixes for r in _file_readers()):
        raise unknown
    if kind is not None and suffix not in reader(kind).suffixes:
        raise InvalidDataError(f"{path.name} : {reader(kind).wrong_suffix}") if reader(kind).wrong_suffix else unknown
    workbook = Workbook(path) if suffix in EXCEL_SUFFIXES else None
    chosen = reader(kind) if kind is not None else _recognised(suffix, workbook)
    if chosen is None:
        raise unknown
    return chosen.function()(path, reference, workbook=workbook, options=options)


def _recognised(suffix: str, workbook: Workbook | None) -> Reader | None:
    """The first reader of the registry that takes this suffix and recognises the file (the
    last one, the liasse, takes any file of its suffixes)."""
    for candidate in _file_readers():
        recognises = candidate.recogniser()
        if suffix in candidate.suffixes and (recognises is None or recognises(workbook)):
            return candidate
    return None


def _file_readers() -> list[Reader]:
    return [r for r in registry.READERS if not r.public]
