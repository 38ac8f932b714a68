"""Error model shared by the library and the CLI.

The exit code is the contract with cron jobs (see README): every error the library raises
on purpose carries the code the CLI must exit with, and a French message for the user.
"""

from __future__ import annotations

import re
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


# Characters that must never reach a terminal or a log as they are: C0 and C1 controls (ESC starts
# the ANSI sequences that recolour, move the cursor or retitle a terminal; CR rewrites a log line),
# DEL, and the bidirectional overrides that show a name reversed (« fdp.xlsx »).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNPRINTABLE_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep_lines: bool = False) -> str:
    """`text` with its control characters written as escapes (« \\x1b[31m »), visible and inert:
    for file names and values read from files, in every message and log line. `keep_lines`: line
    breaks and tabs stay (a whole screen of output, not one name)."""
    return (_UNPRINTABLE_BUT_LINES if keep_lines else _UNPRINTABLE).sub(_escaped, str(text))


# The system's reasons, in French (the C library's own text is English whatever the locale).
_ERRNO_FR = {
    "ENOSPC": "plus de place sur le disque",
    "EDQUOT": "quota de disque dépassé",
    "EFBIG": "fichier trop gros pour ce système de fichiers",
    "EROFS": "système de fichiers en lecture seule",
    "EACCES": "permission refusée",
    "EPERM": "opération non permise",
    "ENOENT": "fichier ou dossier introuvable",
    "ENOTDIR": "un élément du chemin n'est pas un dossier",
    "EISDIR": "c'est un dossier, pas un fichier",
    "EEXIST": "le fichier existe déjà",
    "ENOTEMPTY": "dossier non vide",
    "ENAMETOOLONG": "nom de fichier trop long",
    "ELOOP": "trop de liens symboliques",
    "EMFILE": "trop de fichiers ouverts",
    "ENFILE": "trop de fichiers ouverts sur le système",
    "EIO": "erreur d'entrée-sortie du disque",
    "EBUSY": "fichier ou périphérique occupé",
    "ETXTBSY": "fichier en cours d'utilisation",
    "EXDEV": "déplacement impossible d'un disque à l'autre",
    "ENOMEM": "mémoire insuffisante",
    "EAGAIN": "ressource temporairement indisponible",
    "ESTALE": "partage réseau devenu inaccessible",
    "ENODEV": "périphérique absent",
    "ENXIO": "périphérique absent",
    "ETIMEDOUT": "délai d'attente dépassé",
    "ECONNREFUSED": "connexion refusée",
    "EHOSTUNREACH": "machine injoignable",
    "ENETUNREACH": "réseau injoignable",
    "EPIPE": "tube fermé par le programme lecteur",
    "EINVAL": "argument invalide",
}


def system_reason(exc: OSError) -> str:
    """Why the system refused, in French, from the error's errno (its English text otherwise)."""
    import errno as _errno

    name = _errno.errorcode.get(exc.errno or 0, "")
    return _ERRNO_FR.get(name) or str(exc.strerror or exc)


def system_error_in(exc: BaseException) -> OSError | None:
    """The OSError behind an exception: itself, its cause or context, or its first argument
    (xlsxwriter's FileCreateError wraps the system's error so)."""
    seen = 0
    while exc is not None and seen < 6:
        if isinstance(exc, OSError) and exc.errno is not None:
            return exc
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        exc = inner or exc.__cause__ or exc.__context__
        seen += 1
    return None
