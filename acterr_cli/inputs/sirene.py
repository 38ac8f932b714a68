"""Supplier communes from SIRENE: the official StockEtablissement file (≈ 40 M establishments).

Only the purchase lines of the workspace that give a SIRET but no supplier commune need it, so
the file is scanned lazily (Parquet or CSV, two columns read) and filtered on those SIRETs: the
workspace keeps a few thousand (siret, commune) pairs, not the register.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import refuse_binary
from acterr_cli.errors import AVERTISSEMENT, InvalidDataError, Problem
from acterr_cli.inputs import rules
from acterr_cli.inputs.model import ImportUnit, ParsedFile, ReadOptions, sha256_of
from acterr_cli.inputs.registry import SIRENE_DATASET
from acterr_cli.territory.reference import TerritorialReference

SIRENE = "sirene"
DATASET = SIRENE_DATASET
SIRET_COLUMN = "siret"
COMMUNE_COLUMN = "codeCommuneEtablissement"


def read_sirene(path: Path, reference: TerritorialReference, wanted: pl.Series, millesime: int) -> ParsedFile:
    """`wanted`: the SIRETs to look up (purchase lines without supplier commune)."""
    path = Path(path)
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=SIRENE)
    scan = _scan(path)
    names = scan.collect_schema().names()
    if SIRET_COLUMN not in names or COMMUNE_COLUMN not in names:
        raise InvalidDataError(f"{path.name} : colonnes « {SIRET_COLUMN} » et « {COMMUNE_COLUMN} » introuvables "
                               "(fichier StockEtablissement de la base SIRENE attendu).")
    wanted = wanted.drop_nulls().unique()
    found = (
        scan.select(pl.col(SIRET_COLUMN).cast(pl.Utf8).str.zfill(14).alias("siret"), pl.col(COMMUNE_COLUMN).cast(pl.Utf8).alias("commune_saisie"))
        .filter(pl.col("siret").is_in(wanted.implode()))
        .unique("siret")
        .collect()
    )
    found = found.with_columns(reference.normalize_communes(found["commune_saisie"])["commune"]).drop_nulls("commune")
    missing = wanted.len() - found.height
    parsed.problems.append(Problem(
        fichier=path.name, regle=rules.SIRENE.code, gravite=AVERTISSEMENT if missing else rules.INFORMATION,
        message=rules.SIRENE.text(trouves=found.height, cherches=wanted.len(), manquants=missing)))
    table = found.select("siret", "commune").with_columns(
        pl.lit("registre").alias("siren"), pl.lit(millesime, pl.Int64).alias("exercice"),
        pl.lit(path.name).alias("source_fichier"), pl.lit(parsed.sha256).alias("source_sha256"))
    parsed.units.append(ImportUnit(SIRENE, "registre", millesime, "SIRENE (communes des fournisseurs)", {DATASET: table}))
    return parsed


def _scan(path: Path) -> pl.LazyFrame:
    if path.suffix.lower() == ".parquet":
        return pl.scan_parquet(path, glob=False)
    with open(path, "rb") as fh:
        refuse_binary(fh.read(64_000), path.name, "fichier SIRENE")  # streamed by Polars as UTF-8: a UTF-16 file is named
    return pl.scan_csv(path, separator=",", infer_schema=False, encoding="utf8-lossy", glob=False)


def read_file(path: Path, reference: TerritorialReference, options: ReadOptions, facts) -> ParsedFile:
    """Entry of the reader registry (inputs/registry.py): looks up the SIRETs of the stored
    purchase lines that give no supplier commune; `options.exercice` is the millésime."""
    achats = facts("achats")
    wanted = pl.Series("siret", [], pl.Utf8)
    if achats is not None and "siret" in achats.collect_schema().names():
        wanted = achats.filter(pl.col("commune_fournisseur").is_null()).select("siret").collect()["siret"]
    return read_sirene(path, reference, wanted, options.exercice)
