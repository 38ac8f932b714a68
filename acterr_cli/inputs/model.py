"""What a reader hands to the workspace: import units (one organisation × exercice each) and problems."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from acterr_cli.errors import ERREUR, Problem

QUESTIONNAIRE = "questionnaire"
LIASSE = "liasse"


@dataclass
class ImportUnit:
    """Facts of one organisation × exercice from one source kind. Re-importing the same
    (kind, siren, exercice) replaces the previous unit: imports are idempotent."""

    kind: str
    siren: str
    exercice: int
    raison_sociale: str | None
    tables: dict[str, pl.DataFrame]  # dataset name -> facts (with provenance columns)
    cells: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # organisation-level field -> (sheet, cell)

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.siren}-{self.exercice}"


@dataclass
class ParsedFile:
    path: Path
    sha256: str
    kind: str
    units: list[ImportUnit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Errors whose rows were left out under --ignorer-erreurs: still reported, no longer blocking.
    forgiven: list[Problem] = field(default_factory=list)
    dropped_rows: int = 0

    @property
    def errors(self) -> list[Problem]:
        forgiven = {id(p) for p in self.forgiven}
        return [p for p in self.problems if p.gravite == ERREUR and id(p) not in forgiven]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ReadOptions:
    """How the readers treat a run's files (the options of `acterr import` and `acterr verifier`)."""

    kind: str | None = None  # forced type, else detected from the content
    exercice: int | None = None  # the exercice the run is about: others are refused (questionnaire) or skipped (liasse)
    drop_faulty_rows: bool = False  # --ignorer-erreurs: leave out rows with an error instead of the whole file
    mapping: Any = None  # a liasse mapping (inputs.mapping.LiasseMapping) for non-canonical layouts
    siren: str | None = None  # RPLS: the organisation whose patrimoine the file is (None: every landlord)
    logement: str | None = None  # market rents: appartement or maison (None: told by the file's name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def with_provenance(frame: pl.DataFrame, *, siren: str, exercice: int, fichier: str, sha256: str, feuille: str) -> pl.DataFrame:
    """Facts carry where they came from: file, checksum, sheet and Excel row (column `ligne`)."""
    return frame.with_columns(
        pl.lit(siren).alias("siren"),
        pl.lit(exercice, dtype=pl.Int64).alias("exercice"),
        pl.lit(fichier).alias("source_fichier"),
        pl.lit(sha256).alias("source_sha256"),
        pl.lit(feuille).alias("feuille"),
    )
