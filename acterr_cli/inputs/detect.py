"""Which reader a file needs, from its content (or from `--type`)."""

from __future__ import annotations

from pathlib import Path

from acterr_cli.errors import InputMissingError, InvalidDataError, UsageError
from acterr_cli.inputs.excel import Workbook
from acterr_cli.inputs.liasse import read_liasse
from acterr_cli.inputs.model import LIASSE, QUESTIONNAIRE, ParsedFile, ReadOptions
from acterr_cli.inputs.questionnaire import Draft, looks_like_questionnaire, read_questionnaire
from acterr_cli.territory.reference import TerritorialReference

KINDS = (QUESTIONNAIRE, LIASSE)
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")


def open_input(path: Path, reference: TerritorialReference, options: ReadOptions) -> ParsedFile | Draft:
    """A liasse, read and checked; or a questionnaire's draft, to be checked with the other
    questionnaires of the run (see questionnaire.check_questionnaires)."""
    path = Path(path)
    kind = options.kind
    if path.is_dir():
        raise InputMissingError(f"{path} : c'est un dossier ; indiquez ses fichiers (par exemple {path / '*.xlsx'}).")
    if not path.is_file():
        raise InputMissingError(f"{path} : fichier introuvable.")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"type de fichier inconnu « {kind} » (attendu : {', '.join(KINDS)}).")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        if kind == QUESTIONNAIRE:
            raise InvalidDataError(f"{path.name} : un questionnaire est un classeur Excel, pas un CSV.")
        return read_liasse(path, reference, options=options)
    if suffix not in EXCEL_SUFFIXES:
        raise InvalidDataError(f"{path.name} : format non reconnu (attendu : classeur .xlsx, .xls, .ods ou fichier .csv).")
    workbook = Workbook(path)
    if kind == QUESTIONNAIRE or (kind is None and looks_like_questionnaire(workbook)):
        return read_questionnaire(path, reference, workbook, options)
    return read_liasse(path, reference, options=options, workbook=workbook)
