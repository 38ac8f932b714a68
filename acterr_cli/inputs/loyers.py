"""Reader of the « Carte des loyers » (ANIL / DGALN open data, DATA.md §4).

One file for apartments, one for houses: `id_zone;INSEE_C;LIBGEO;EPCI;DEP;REG;loypredm2;lwr.IPm2;
upr.IPm2;TYPPRED;nbobs_com;nbobs_mail;R2_adj`, `;`-separated, decimal comma, latin-1. `loypredm2`
is the predicted advertised rent per m², charges included; `lwr.IPm2` / `upr.IPm2` its 95 %
prediction interval, used for SOC-01's low and high values.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, InvalidDataError, Problem, UsageError
from acterr_cli.inputs.cells import header_key
from acterr_cli.inputs.model import ImportUnit, ParsedFile, sha256_of
from acterr_cli.territory.reference import TerritorialReference

LOYERS = "loyers"
DATASET = "loyers_marche"
HOUSING_TYPES = ("appartement", "maison")
_COLUMNS = {"inseec": "commune_saisie", "loypredm2": "loyer_m2", "lwripm2": "loyer_m2_bas", "upripm2": "loyer_m2_haut"}
MAX_BYTES = 50 * 1024 * 1024


def read_loyers(path: Path, reference: TerritorialReference, type_logement: str, millesime: int) -> ParsedFile:
    path = Path(path)
    if type_logement not in HOUSING_TYPES:
        raise UsageError(f"type de logement inconnu « {type_logement} » (attendu : appartement ou maison).")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidDataError(f"{path.name} : fichier trop volumineux pour une carte des loyers (plus de 50 Mo).")
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=LOYERS)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    raw = pl.read_csv(io.StringIO(text), separator=";", infer_schema=False, quote_char='"')
    names = {c: _COLUMNS[header_key(c)] for c in raw.columns if header_key(c) in _COLUMNS}
    missing = set(_COLUMNS.values()) - set(names.values())
    if missing:
        raise InvalidDataError(f"{path.name} : colonnes de la carte des loyers introuvables ({', '.join(sorted(missing))}) ; "
                               "attendu : INSEE_C, loypredm2, lwr.IPm2, upr.IPm2.")
    rents = raw.select([pl.col(c).alias(n) for c, n in names.items()]).with_columns(
        [pl.col(c).str.strip_chars().str.replace(",", ".").cast(pl.Float64, strict=False) for c in ("loyer_m2", "loyer_m2_bas", "loyer_m2_haut")]
    )
    norm = reference.normalize_communes(rents["commune_saisie"])
    rents = rents.with_columns(norm["commune"]).with_row_index("_ligne", offset=2)  # line 1 holds the headers
    usable = pl.col("commune").is_not_null() & pl.col("loyer_m2").is_not_null()
    _report_unusable(rents.filter(~usable), parsed)
    rents = rents.filter(usable).drop("_ligne")
    # Paris, Lyon, Marseille are predicted by arrondissement: the commune gets their mean.
    table = rents.group_by("commune").agg(pl.col("loyer_m2", "loyer_m2_bas", "loyer_m2_haut").mean()).sort("commune")
    table = table.with_columns(
        pl.lit(type_logement).alias("type_logement"), pl.lit(millesime, pl.Int64).alias("exercice"),
        pl.lit(type_logement).alias("siren"), pl.lit(path.name).alias("source_fichier"), pl.lit(parsed.sha256).alias("source_sha256"),
    )
    parsed.units.append(ImportUnit(LOYERS, type_logement, millesime, f"Carte des loyers ({type_logement}s)", {DATASET: table}))
    return parsed


def _report_unusable(dropped: pl.DataFrame, parsed: ParsedFile) -> None:
    """Lines left out, named (line and code as written) for the first ones."""
    if dropped.height:
        shown = ", ".join(f"ligne {n} ({code or 'vide'})" for n, code in dropped.select("_ligne", "commune_saisie").head(5).iter_rows())
        parsed.problems.append(Problem(
            fichier=parsed.path.name, regle="loyer", gravite=AVERTISSEMENT, valeur=str(dropped["commune_saisie"][0]),
            message=f"{dropped.height} ligne(s) sans commune reconnue ou sans loyer prédit ont été ignorées : {shown}"
                    + (" …" if dropped.height > 5 else "") + "."))
