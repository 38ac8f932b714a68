"""Error model shared by the library and the CLI.

The exit code is the contract with cron jobs (see README): every error the library raises
on purpose carries the code the CLI must exit with, and a French message for the user.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug
    USAGE = 2
    INVALID_DATA = 3
    INPUT_MISSING = 4
    CONFIGURATION = 5


class ActerrError(Exception):
    """An expected failure, with a French message and the exit code the CLI must use."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, problems: list["Problem"] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class UsageError(ActerrError):
    exit_code = ExitCode.USAGE


class InvalidDataError(ActerrError):
    exit_code = ExitCode.INVALID_DATA


class InputMissingError(ActerrError):
    exit_code = ExitCode.INPUT_MISSING


class ConfigurationError(ActerrError):
    exit_code = ExitCode.CONFIGURATION


ERREUR = "erreur"
AVERTISSEMENT = "avertissement"


@dataclass(frozen=True)
class Problem:
    """One problem found in an input, located as precisely as the input allows."""

    fichier: str
    message: str
    regle: str
    gravite: str = ERREUR
    feuille: str | None = None
    cellule: str | None = None  # Excel reference such as "E27", or "ligne 12" for CSV
    colonne: str | None = None
    valeur: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def location(self) -> str:
        parts = [self.fichier]
        if self.feuille:
            parts.append(f"feuille {self.feuille}")
        if self.cellule:
            parts.append(f"cellule {self.cellule}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()} : {self.message}"
