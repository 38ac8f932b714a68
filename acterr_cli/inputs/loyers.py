"""Reader of the « Carte des loyers » (ANIL / DGALN open data, DATA.md §4).

One file for apartments, one for houses: `id_zone;INSEE_C;LIBGEO;EPCI;DEP;REG;loypredm2;lwr.IPm2;
upr.IPm2;TYPPRED;nbobs_com;nbobs_mail;R2_adj`, `;`-separated, decimal comma, latin-1. `loypredm2`
is the predicted advertised rent per m², charges included; `lwr.IPm2` / `upr.IPm2` its 95 %
prediction interval for one dwelling, used for SOC-01's low and high values once narrowed to the
mean of many dwellings (engine/measures.py), with the number of ads behind the prediction
(`nbobs_com`, or `nbobs_mail` when TYPPRED says the commune was predicted from its wider mesh).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import decode_text
from acterr_cli.errors import AVERTISSEMENT, InvalidDataError, Problem, UsageError
from acterr_cli.inputs import rules
from acterr_cli.inputs.cells import header_key
from acterr_cli.inputs.model import ImportUnit, ParsedFile, ReadOptions, sha256_of
from acterr_cli.inputs.registry import RENTS_DATASET
from acterr_cli.territory.reference import TerritorialReference

LOYERS = "loyers"
DATASET = RENTS_DATASET
HOUSING_TYPES = ("appartement", "maison")
_COLUMNS = {"inseec": "commune_saisie", "loypredm2": "loyer_m2", "lwripm2": "loyer_m2_bas", "upripm2": "loyer_m2_haut"}
_OPTIONAL = {"typpred": "type_prediction", "nbobscom": "nb_annonces_commune", "nbobsmail": "nb_annonces_maille"}
MAX_BYTES = 50 * 1024 * 1024


def read_loyers(path: Path, reference: TerritorialReference, type_logement: str, millesime: int) -> ParsedFile:
    path = Path(path)
    if type_logement not in HOUSING_TYPES:
        raise UsageError(f"type de logement inconnu « {type_logement} » (attendu : appartement ou maison).")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidDataError(f"{path.name} : fichier trop volumineux pour une carte des loyers (plus de 50 Mo).")
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=LOYERS)
    text = decode_text(path.read_bytes(), path.name)
    raw = pl.read_csv(io.StringIO(text), separator=";", infer_schema=False, quote_char='"')
    names = {c: _COLUMNS[header_key(c)] for c in raw.columns if header_key(c) in _COLUMNS}
    optional = {c: _OPTIONAL[header_key(c)] for c in raw.columns if header_key(c) in _OPTIONAL}
    missing = set(_COLUMNS.values()) - set(names.values())
    if missing:
        raise InvalidDataError(f"{path.name} : colonnes de la carte des loyers introuvables ({', '.join(sorted(missing))}) ; "
                               "attendu : INSEE_C, loypredm2, lwr.IPm2, upr.IPm2.")
    rents = raw.select([pl.col(c).alias(n) for c, n in (names | optional).items()]).with_columns(
        [_decimal(c) for c in ("loyer_m2", "loyer_m2_bas", "loyer_m2_haut")]
    ).with_columns(_ads(set(optional.values())))
    norm = reference.normalize_communes(rents["commune_saisie"])
    rents = rents.with_columns(norm["commune"]).with_row_index("_ligne", offset=2)  # line 1 holds the headers
    usable = pl.col("commune").is_not_null() & pl.col("loyer_m2").is_not_null()
    _report_unusable(rents.filter(~usable), parsed)
    rents = rents.filter(usable).drop("_ligne")
    # Paris, Lyon, Marseille are predicted by arrondissement: the commune gets their mean.
    table = rents.group_by("commune").agg(pl.col("loyer_m2", "loyer_m2_bas", "loyer_m2_haut").mean(),
                                          # null when no line says it (a sum of nothing is not 0 ads)
                                          pl.when(pl.col("nb_annonces").is_not_null().any()).then(pl.col("nb_annonces").sum()).alias("nb_annonces"))
    table = table.sort("commune")
    table = table.with_columns(
        pl.lit(type_logement).alias("type_logement"), pl.lit(millesime, pl.Int64).alias("exercice"),
        pl.lit(type_logement).alias("siren"), pl.lit(path.name).alias("source_fichier"), pl.lit(parsed.sha256).alias("source_sha256"),
    )
    parsed.units.append(ImportUnit(LOYERS, type_logement, millesime, f"Carte des loyers ({type_logement}s)", {DATASET: table}))
    return parsed


def _decimal(name: str) -> pl.Expr:
    """A number written with a decimal comma (« 13,6 »), null where it is none."""
    return pl.col(name).str.strip_chars().str.replace(",", ".").cast(pl.Float64, strict=False)


def _ads(columns: set[str]) -> list[pl.Expr]:
    """`nb_annonces`: the ads the commune's prediction rests on — its own, or its mesh's when the
    commune had too few (TYPPRED « maille »); null when the file does not say."""
    def number(name: str) -> pl.Expr:
        return _decimal(name) if name in columns else pl.lit(None, pl.Float64)

    mesh = pl.col("type_prediction").str.strip_chars().str.to_lowercase() == "maille" if "type_prediction" in columns else pl.lit(False)
    return [pl.when(mesh).then(number("nb_annonces_maille")).otherwise(number("nb_annonces_commune")).alias("nb_annonces")]


def _report_unusable(dropped: pl.DataFrame, parsed: ParsedFile) -> None:
    """Lines left out, named (line and code as written) for the first ones."""
    if dropped.height:
        shown = ", ".join(f"ligne {n} ({code or 'vide'})" for n, code in dropped.select("_ligne", "commune_saisie").head(5).iter_rows())
        parsed.problems.append(Problem(
            fichier=parsed.path.name, regle=rules.LOYER.code, gravite=AVERTISSEMENT, valeur=str(dropped["commune_saisie"][0]),
            message=rules.LOYER.text(lignes=dropped.height, exemples=shown + (" …" if dropped.height > 5 else ""))))


def read_file(path: Path, reference: TerritorialReference, options: ReadOptions, facts) -> ParsedFile:
    """Entry of the reader registry (inputs/registry.py): `options.exercice` is the millésime,
    `options.logement` the type of housing, else told by the file's name (« …maisons… »)."""
    housing = options.logement or ("maison" if "maison" in Path(path).name.lower() else "appartement")
    return read_loyers(path, reference, housing, options.exercice)
