"""From stored facts to additive measures, one row per territory × organisation × exercice.

Rules of REFERENTIEL.md applied here, once, for every indicator:
- commune-level facts (Patrimoine, Production…) are summed into the territory of their commune;
- a column an organisation did not provide stays null (missing ≠ zero), but a commune absent
  from a sheet it did provide counts as zero there;
- organisation-level facts (Organisme sheet, liasse) count for a territory only when all the
  organisation's dwellings lie inside it (rule 7), never split pro rata.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.columns import NUMERIC_KINDS
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace

KEYS = ["code_territoire", "siren", "exercice"]
LIASSE_PREFIX = "liasse_"
# Sheets whose communes say where the organisation's dwellings are (its footprint, rule 7).
FOOTPRINT_SHEETS = (qs.PATRIMOINE, qs.PRODUCTION, qs.FISCALITE)
COMMUNE_SHEETS = (qs.PATRIMOINE, qs.PRODUCTION, qs.FISCALITE, qs.SALARIES, qs.ATTRIBUTIONS, qs.ENERGIE)
TERRITORY_MEASURES = ("population", "menages")


@dataclass(frozen=True)
class RawMeasure:
    nom: str
    libelle: str
    origine: str  # « feuille Patrimoine », « feuille Organisme », « liasse », « référentiel territorial »
    niveau: str  # commune | organisme | territoire


def _numeric(sheet: qs.Sheet) -> list[qs.Column]:
    return [c for c in sheet.columns if c.kind in NUMERIC_KINDS and c.kind != qs.YEAR]


def raw_measures() -> dict[str, RawMeasure]:
    """Every measure the facts provide, with where it comes from (for formulas and motifs)."""
    result: dict[str, RawMeasure] = {}
    for sheet in COMMUNE_SHEETS:
        for c in _numeric(sheet):
            result[c.field] = RawMeasure(c.field, c.label, f"feuille {sheet.name}", "commune")
    for c in _numeric(qs.ORGANISME):
        result[c.field] = RawMeasure(c.field, c.label, "feuille Organisme", "organisme")
    for c in _numeric(LIASSE):
        name = LIASSE_PREFIX + c.field
        result[name] = RawMeasure(name, c.help, "liasse", "organisme")
    result["population"] = RawMeasure("population", "Population municipale", "référentiel territorial", "territoire")
    result["menages"] = RawMeasure("menages", "Ménages (RP 2021)", "référentiel territorial", "territoire")
    return result


def organisation_rows(ws: Workspace, reference: TerritorialReference, level: str, exercice: int | None = None) -> pl.DataFrame:
    """Wide frame: KEYS, nom_territoire, every raw measure (null when not available for that row),
    `inclus` (organisation-level facts count here) — one row per organisation present in a territory."""
    code_col, name_col = reference.level_columns(level)
    tmap = reference.territory_map().select("commune", pl.col(code_col).alias("code_territoire")).drop_nulls()
    long = _commune_facts(ws, exercice)
    orgs = _organisation_facts(ws, exercice)

    per_territory = (
        long.join(tmap.lazy(), on="commune", how="inner")
        .group_by([*KEYS, "mesure"]).agg(pl.col("valeur").sum())
        .collect()
    )
    present = _presence(ws, tmap, orgs, exercice, per_territory.select(KEYS).unique(), level.upper() == "FRANCE")
    if present.is_empty():
        return present
    wide = present.join(
        per_territory.pivot(on="mesure", index=KEYS, values="valeur") if per_territory.height else per_territory.select(KEYS),
        on=KEYS, how="left",
    )
    wide = _zero_where_provided(wide, long.select("siren", "exercice", "mesure").unique().collect())
    wide = _add_missing_columns(wide)
    wide = wide.join(orgs, on=["siren", "exercice"], how="left")
    org_measures = [m.nom for m in raw_measures().values() if m.niveau == "organisme"]
    wide = wide.with_columns([pl.when(pl.col("inclus")).then(pl.col(m)).otherwise(None).alias(m) for m in org_measures])
    return wide.join(reference.denominators(level).select("code_territoire", "nom_territoire", *TERRITORY_MEASURES),
                     on="code_territoire", how="left")


def _exercice_filter(frame: pl.LazyFrame, exercice: int | None) -> pl.LazyFrame:
    return frame if exercice is None else frame.filter(pl.col("exercice") == exercice)


def _commune_facts(ws: Workspace, exercice: int | None) -> pl.LazyFrame:
    """Long frame siren, exercice, commune, mesure, valeur; a column not provided has no row."""
    parts = []
    for sheet in COMMUNE_SHEETS:
        scan = ws.scan(sheet.dataset)
        if scan is None:
            continue
        fields = [c.field for c in _numeric(sheet) if c.field in scan.collect_schema().names()]
        parts.append(
            _exercice_filter(scan, exercice)
            .select("siren", "exercice", "commune", *[pl.col(f).cast(pl.Float64) for f in fields])
            .unpivot(index=["siren", "exercice", "commune"], on=fields, variable_name="mesure", value_name="valeur")
            .drop_nulls("valeur")
        )
    if not parts:
        return pl.LazyFrame(schema={"siren": pl.Utf8, "exercice": pl.Int64, "commune": pl.Utf8, "mesure": pl.Utf8, "valeur": pl.Float64})
    return pl.concat(parts)


def _organisation_facts(ws: Workspace, exercice: int | None) -> pl.DataFrame:
    """One row per organisation × exercice: Organisme sheet and liasse (prefixed) measures, names."""
    org_fields = [c.field for c in _numeric(qs.ORGANISME)]
    liasse_fields = [c.field for c in _numeric(LIASSE)]
    frames = []
    org = ws.scan(qs.ORGANISME.dataset)
    if org is not None:
        names = org.collect_schema().names()
        frames.append(_exercice_filter(org, exercice).select(
            "siren", "exercice", "raison_sociale", "famille",
            *[pl.col(f).cast(pl.Float64) if f in names else pl.lit(None, pl.Float64).alias(f) for f in org_fields],
        ).collect())
    liasse = ws.scan(LIASSE.dataset)
    if liasse is not None:
        names = liasse.collect_schema().names()
        frames.append(_exercice_filter(liasse, exercice).select(
            "siren", "exercice",
            *[(pl.col(f).cast(pl.Float64) if f in names else pl.lit(None, pl.Float64)).alias(LIASSE_PREFIX + f) for f in liasse_fields],
            *[(pl.col(f) if f in names else pl.lit(None, pl.Utf8)).cast(pl.Utf8).alias(f"{LIASSE_PREFIX}{f}") for f in ("raison_sociale", "famille")],
        ).collect())
    schema = {"siren": pl.Utf8, "exercice": pl.Int64}
    result = pl.DataFrame(schema=schema)
    for frame in frames:
        result = result.join(frame, on=["siren", "exercice"], how="full", coalesce=True) if result.width > 2 else frame
    for f in org_fields:
        if f not in result.columns:
            result = result.with_columns(pl.lit(None, pl.Float64).alias(f))
    for f in liasse_fields:
        if LIASSE_PREFIX + f not in result.columns:
            result = result.with_columns(pl.lit(None, pl.Float64).alias(LIASSE_PREFIX + f))
    for f in ("raison_sociale", "famille"):
        own = pl.col(f) if f in result.columns else pl.lit(None, pl.Utf8)
        other = pl.col(LIASSE_PREFIX + f) if LIASSE_PREFIX + f in result.columns else pl.lit(None, pl.Utf8)
        result = result.with_columns(pl.coalesce(own, other).alias(f))
    return result.drop([c for c in (f"{LIASSE_PREFIX}raison_sociale", f"{LIASSE_PREFIX}famille") if c in result.columns])


def _footprint(ws: Workspace, exercice: int | None) -> pl.LazyFrame:
    parts = [
        _exercice_filter(scan, exercice).select("siren", "exercice", "commune")
        for sheet in FOOTPRINT_SHEETS if (scan := ws.scan(sheet.dataset)) is not None
    ]
    if not parts:
        return pl.LazyFrame(schema={"siren": pl.Utf8, "exercice": pl.Int64, "commune": pl.Utf8})
    return pl.concat(parts).unique()


def _presence(ws: Workspace, tmap: pl.DataFrame, orgs: pl.DataFrame, exercice: int | None,
              facts: pl.DataFrame, whole_country: bool) -> pl.DataFrame:
    """Organisations present in each territory (they have facts there, or dwellings), and whether
    all their dwellings lie inside it. At FRANCE level every organisation is present and inside."""
    fp = _footprint(ws, exercice).join(tmap.lazy(), on="commune", how="left").collect()
    totals = fp.group_by("siren", "exercice").agg(pl.len().alias("_n_total"))
    inside = fp.drop_nulls("code_territoire").group_by(KEYS).agg(pl.len().alias("_n_in"))
    present = pl.concat([facts, inside.select(KEYS)]).unique()
    if whole_country:  # even organisations without any commune fact
        everyone = orgs.select("siren", "exercice").with_columns(pl.lit(tmap["code_territoire"][0]).alias("code_territoire"))
        present = pl.concat([present, everyone.select(KEYS)]).unique()
    present = present.join(inside, on=KEYS, how="left").join(totals, on=["siren", "exercice"], how="left")
    return present.with_columns(
        (pl.lit(whole_country) | (pl.col("_n_in").fill_null(0) == pl.col("_n_total"))).alias("inclus")
    ).drop("_n_in", "_n_total").sort(KEYS)


def _zero_where_provided(wide: pl.DataFrame, provided: pl.DataFrame) -> pl.DataFrame:
    """A measure an organisation provided somewhere is zero where it has no row; else it stays null."""
    if provided.is_empty():
        return wide
    flags = provided.with_columns(pl.lit(True).alias("_v")).pivot(on="mesure", index=["siren", "exercice"], values="_v")
    flags = flags.rename({c: f"{c}__fourni" for c in flags.columns if c not in ("siren", "exercice")})
    wide = wide.join(flags, on=["siren", "exercice"], how="left")
    measures = [c[: -len("__fourni")] for c in flags.columns if c.endswith("__fourni")]
    for m in measures:
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(m))
    return wide.with_columns(
        [pl.when(pl.col(f"{m}__fourni").fill_null(False)).then(pl.col(m).fill_null(0)).otherwise(None).alias(m) for m in measures]
    ).drop([f"{m}__fourni" for m in measures])


def _add_missing_columns(wide: pl.DataFrame) -> pl.DataFrame:
    commune_measures = [m.nom for m in raw_measures().values() if m.niveau == "commune"]
    return wide.with_columns([pl.lit(None, pl.Float64).alias(m) for m in commune_measures if m not in wide.columns])
