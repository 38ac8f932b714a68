"""Reader of the QPV list (ANCT, DATA.md §5): one QPV per row, its communes.

`code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci`; a QPV
spread over several communes lists them Excel-escaped in one cell: `="13055;13070"` (quoted or
not, which a plain CSV parser would split on the inner `;`). Older lists (2015) with one row per
QPV × commune (`code_qp;nom_qp;…;code_commune`) are read too.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import decode_text
from acterr_cli.errors import InvalidDataError
from acterr_cli.inputs.cells import header_key
from acterr_cli.inputs.model import ImportUnit, ParsedFile, ReadOptions, sha256_of
from acterr_cli.inputs.registry import QPV_DATASET
from acterr_cli.territory.reference import TerritorialReference

QPV = "qpv"
DATASET = QPV_DATASET
_NAMES = {"codeqp": "code_qpv", "libqp": "nom_qpv", "nomqp": "nom_qpv", "inseecom": "communes", "codecommune": "communes"}
# ="13055;13070" with or without surrounding CSV quotes: the inner « ; » become « | ».
_ESCAPED = re.compile(r'"?=\s*"{1,2}([0-9A-Za-z;,\s]+?)"{1,2}"?(?=;|\r?$)', re.MULTILINE)


def read_qpv(path: Path, reference: TerritorialReference, millesime: int) -> ParsedFile:
    path = Path(path)
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=QPV)
    text = decode_text(path.read_bytes()[: 20 * 1024 * 1024], path.name)
    text = _ESCAPED.sub(lambda m: m.group(1).replace(";", "|").replace(",", "|"), text)
    header = text.split("\n", 1)[0]
    separator = max((";", ",", "\t"), key=header.count)
    raw = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False, truncate_ragged_lines=True)
    names = {c: _NAMES[header_key(c)] for c in raw.columns if header_key(c) in _NAMES}
    if {"code_qpv", "communes"} - set(names.values()):
        raise InvalidDataError(f"{path.name} : colonnes code_qp et insee_com (ou code_commune) introuvables : ce n'est pas une liste des QPV.")
    table = (
        raw.select([pl.col(c).alias(n) for c, n in names.items()])
        .with_columns(pl.col("code_qpv").str.strip_chars().str.to_uppercase(), pl.col("communes").str.split("|"))
        .explode("communes")
        .with_columns(pl.col("communes").str.strip_chars().alias("commune_saisie"))
    )
    table = table.with_columns(reference.normalize_communes(table["commune_saisie"])["commune"])
    table = table.drop_nulls(["code_qpv", "commune"]).select("code_qpv", *(["nom_qpv"] if "nom_qpv" in table.columns else []), "commune")
    table = table.unique().sort("code_qpv", "commune").with_columns(
        pl.lit("liste").alias("siren"), pl.lit(millesime, pl.Int64).alias("exercice"),
        pl.lit(path.name).alias("source_fichier"), pl.lit(parsed.sha256).alias("source_sha256"))
    parsed.units.append(ImportUnit(QPV, "liste", millesime, f"Liste des QPV ({table['code_qpv'].n_unique()} quartiers)", {DATASET: table}))
    return parsed


def read_file(path: Path, reference: TerritorialReference, options: ReadOptions, facts) -> ParsedFile:
    """Entry of the reader registry (inputs/registry.py): `options.exercice` is the millésime."""
    return read_qpv(path, reference, options.exercice)
