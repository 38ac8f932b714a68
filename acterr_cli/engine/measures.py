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
from pathlib import Path

import polars as pl

from acterr_cli.engine.sums import as_units, exact_sum, units_sum
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.columns import NUMERIC_KINDS
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.inputs.registry import QPV_DATASET, RENTS_DATASET, SIRENE_DATASET, fact_datasets
from acterr_cli.inputs.registry import RPLS_PATRIMOINE_DATASET as PATRIMOINE_DATASET
from acterr_cli.inputs.registry import RPLS_STOCK_DATASET as STOCK_DATASET
from acterr_cli.territory.reference import LEVELS, TerritorialReference
from acterr_cli.workspace.store import Workspace

KEYS = ["code_territoire", "siren", "exercice"]
_KEYS_SCHEMA = {"code_territoire": pl.Utf8, "siren": pl.Utf8, "exercice": pl.Int64}
_LEVEL_CODES = tuple(f"code_{level.lower()}" for level in LEVELS)  # TerritorialReference.level_columns
LIASSE_PREFIX = "liasse_"
# Sheets whose communes say where the organisation's dwellings are (its footprint, rule 7).
FOOTPRINT_SHEETS = (qs.PATRIMOINE, qs.PRODUCTION, qs.FISCALITE)
COMMUNE_SHEETS = (qs.PATRIMOINE, qs.PRODUCTION, qs.FISCALITE, qs.SALARIES, qs.ATTRIBUTIONS, qs.ENERGIE)
NOT_SPLIT = "__non_reparti"  # suffix of the flags « organisation-level data given, not counted in this territory »
RPLS_STOCK_MEASURES = {
    "rpls_logements": "Logements sociaux du territoire (RPLS, tous bailleurs)",
    "rpls_qpv": "dont en QPV",
    "rpls_individuels": "dont individuels",
    **{f"rpls_dpe_{x}": f"dont DPE énergie {x.upper()}" for x in "abcdefg"},
    "rpls_dpe_inconnu": "dont sans étiquette énergie connue",
    "rpls_ges_fg": "dont étiquette GES F ou G",
}
TERRITORY_MEASURES = ("population", "menages", *RPLS_STOCK_MEASURES)


@dataclass(frozen=True)
class RawMeasure:
    nom: str
    libelle: str
    origine: str  # « feuille Patrimoine », « feuille Organisme », « liasse », « référentiel territorial »
    niveau: str  # commune | organisme | territoire


def _numeric(sheet: qs.Sheet) -> list[qs.Column]:
    return [c for c in sheet.columns if c.kind in NUMERIC_KINDS and c.kind != qs.YEAR]


@dataclass(frozen=True)
class FactMeasure:
    """A measure computed from the rows of a dataset: `valeur` is an expression over a row (null
    when its inputs were not provided); `commune` is the column placing the fact, or None for an
    organisation-level measure (summed over the organisation, counted only where it is `inclus`)."""

    nom: str
    libelle: str
    sheet: qs.Sheet
    valeur: pl.Expr
    commune: str | None = "commune"


def _where(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    """`value` where the condition holds, 0 elsewhere — null when `value` or the condition is
    unknown (a column the organisation did not fill stays « not provided », not zero)."""
    return pl.when(condition.is_null()).then(None).when(condition).then(value).otherwise(value * 0)


def _action_type(label: str) -> pl.Expr:
    return pl.col("type_action") == label


_ENERGIES = {"gaz": "Gaz", "fioul": "Fioul", "electricite": "Électricité", "bois": "Bois", "reseau": "Réseau de chaleur", "autre": "Autre"}
# Action types of the questionnaire's list, each with its own SOC-15 detail (SOC-15a … SOC-15h).
ACTION_TYPES = {chr(ord("a") + i): label for i, label in enumerate(qs.CHOICES["type_action"])}
# Savings in final energy: prices and emission factors are per final kWh, while DPE figures are
# primary energy (electricity × the regulatory coefficient of the exercice, `_coef_ep`, set from
# the parameters in _commune_facts). A consumption whose kind is not said is taken as primary:
# the smaller final saving (the import warns).
_PRIMARY = pl.col("type_consommation").is_null() | (pl.col("type_consommation") != "Énergie finale")
_DELTA_KWH = (pl.col("conso_avant_kwh") - pl.col("conso_apres_kwh")) / pl.when(
    (pl.col("energie_chauffage") == "Électricité") & _PRIMARY).then(pl.col("_coef_ep")).otherwise(1.0)

FACT_MEASURES: tuple[FactMeasure, ...] = (
    # Achats: placed by the supplier's commune (ECO-03), by the operation's (ECO-04), or organisation-wide.
    FactMeasure("achats_fournisseur_eur", "Achats HT, par commune du fournisseur", qs.ACHATS, pl.col("montant_ht_eur"), "commune_fournisseur"),
    FactMeasure("achats_total_eur", "Achats HT, total de l'organisme", qs.ACHATS, pl.col("montant_ht_eur"), None),
    FactMeasure("achats_ess_eur", "Achats HT auprès de l'ESS", qs.ACHATS, _where(pl.col("ess"), pl.col("montant_ht_eur")), None),
    # A blank « ESS » cell is unknown, neither yes nor no: the share is taken on the lines answered.
    FactMeasure("achats_ess_connu_eur", "Achats HT dont le caractère ESS est renseigné", qs.ACHATS,
                pl.when(pl.col("ess").is_null()).then(0.0).otherwise(pl.col("montant_ht_eur")), None),
    # Actions sociales
    FactMeasure("actions_montant_eur", "Montant des actions sociales", qs.ACTIONS, pl.col("montant_eur")),
    FactMeasure("actions_tfpb_eur", "Actions valorisées au titre de l'abattement TFPB", qs.ACTIONS, _where(pl.col("tfpb"), pl.col("montant_eur"))),
    FactMeasure("actions_tfpb_inconnu_eur", "Actions sans réponse sur leur financement par l'abattement TFPB", qs.ACTIONS,
                pl.when(pl.col("montant_eur").is_null()).then(None).when(pl.col("tfpb").is_null()).then(pl.col("montant_eur")).otherwise(0.0)),
    *(FactMeasure(f"actions_montant_{letter}_eur", f"Montant des actions « {label} »", qs.ACTIONS,
                  _where(_action_type(label), pl.col("montant_eur"))) for letter, label in ACTION_TYPES.items()),
    FactMeasure("actions_qpv_eur", "Actions menées en QPV", qs.ACTIONS,
                pl.when(pl.col("montant_eur").is_null()).then(None).when(pl.col("qpv").is_not_null()).then(pl.col("montant_eur")).otherwise(0.0)),
    FactMeasure("menages_accompagnes", "Ménages bénéficiant d'un accompagnement social", qs.ACTIONS,
                _where(_action_type("Accompagnement social"), pl.col("menages"))),
    FactMeasure("expulsions_evitees", "Expulsions évitées", qs.ACTIONS, pl.col("expulsions_evitees")),
    FactMeasure("heures_insertion", "Heures d'insertion", qs.ACTIONS, pl.col("heures_insertion")),
    # Digital inclusion: a flag on any action (workbooks older than the column leave it null: not provided).
    FactMeasure("actions_numeriques", "Actions d'inclusion numérique", qs.ACTIONS, _where(pl.col("inclusion_numerique"), pl.lit(1.0))),
    FactMeasure("actions_numeriques_eur", "Montant des actions d'inclusion numérique", qs.ACTIONS,
                _where(pl.col("inclusion_numerique"), pl.col("montant_eur"))),
    FactMeasure("menages_inclusion_numerique", "Ménages bénéficiaires d'actions d'inclusion numérique", qs.ACTIONS,
                _where(pl.col("inclusion_numerique"), pl.col("menages"))),
    # Energie: savings of completed renovations, in total and by heating energy
    FactMeasure("economie_kwh", "Économie d'énergie finale des rénovations (kWh/an)", qs.ENERGIE, _DELTA_KWH),
    *(FactMeasure(f"economie_kwh_{slug}", f"Économie d'énergie finale des rénovations, chauffage {label} (kWh/an)", qs.ENERGIE,
                  _where(pl.col("energie_chauffage") == label, _DELTA_KWH)) for slug, label in _ENERGIES.items()),
)
# Measures of the market-rent comparison (SOC-01, SOC-03), per commune of the Patrimoine sheet.
MARKET_MEASURES = {
    **{f"gain_marche_{s}": f"Gain de loyer par rapport au marché ({s})" for s in ("basse", "centrale", "haute")},
    **{f"valeur_marche_hc_{s}": f"Loyers de marché hors charges des mêmes logements ({s})" for s in ("basse", "centrale", "haute")},
    "loyers_zone_marche": "Loyers quittancés des communes dotées d'un loyer de marché",
    "logements_loyer_marche": "Logements occupés des communes dotées d'un loyer de marché",
    "logements_sans_loyer_marche": "Logements occupés sans loyer de marché (forfait national)",
    "logements_occupes": "Logements occupés (logements moins vacants)",
}
# Parameters read while the facts are reduced (the market-rent comparison), not by a formula.
MARKET_PARAMETERS = ("charges_locatives_m2", "correction_loyer_annonce", "taux_vacance_defaut")
# What moves the market-rent measures: those parameters and the map's own interval on the rent
# (not a parameter: data). Each also gives the measures with it alone at its low or high value,
# the others central (`market_swing`), for the sensitivity and the simulation of SOC-01 / SOC-03.
MARKET_RENT_FACTOR = "intervalle_loyers_marche"
MARKET_FACTORS = (*MARKET_PARAMETERS, MARKET_RENT_FACTOR)
MARKET_CENTRAL = ("gain_marche_centrale", "valeur_marche_hc_centrale")


def market_swing(measure: str, factor: str, end: str) -> str:
    """Name of a market measure (`gain_marche`, `valeur_marche_hc`) with one factor at `end`."""
    return f"{measure}__{factor}_{end}"


MARKET_MEASURES |= {market_swing(m, f, e): f"{label} ({f} {e}, le reste central)"
                    for m, label in (("gain_marche", "Gain de loyer par rapport au marché"),
                                     ("valeur_marche_hc", "Loyers de marché hors charges des mêmes logements"))
                    for f in MARKET_FACTORS for e in ("basse", "haute")}


FACT_PARAMETERS = (*MARKET_PARAMETERS, "coef_energie_primaire_electricite", "coef_energie_primaire_electricite_2026")
# « Local » means inside the organisation's anchorage territory: the EPCIs where it has dwellings
# or operations (a commune outside any EPCI counts alone), at every level and in every report.
# Its purchases and payroll are placed where the money goes (supplier, employee's home) and count
# as local only there: a Toulouse organisation's supplier in Paris is not « local » at FRANCE level.
LOCAL_MEASURES = {
    "achats_locaux_eur": ("achats_fournisseur_eur", "Achats HT auprès de fournisseurs du territoire d'ancrage de l'organisme",
                          f"feuille {qs.ACHATS.name}"),
    "masse_salariale_locale_eur": ("masse_salariale_eur", "Masse salariale des salariés résidant dans le territoire d'ancrage de l'organisme",
                                   f"feuille {qs.SALARIES.name}"),
}
# Level-dependent Achats measures (ECO-04): the operation's territory against the supplier's.
ANCHORING_MEASURES = {
    "achats_perimetre_eur": "Achats HT des opérations situées sur le territoire",
    "achats_ancres_eur": "dont auprès de fournisseurs du même territoire",
}


def raw_measures() -> dict[str, RawMeasure]:
    """Every measure the facts provide, with where it comes from (for formulas and motifs)."""
    result: dict[str, RawMeasure] = {}
    for sheet in COMMUNE_SHEETS:
        for c in _numeric(sheet):
            result[c.field] = RawMeasure(c.field, c.label, f"feuille {sheet.name}", "commune")
    for m in FACT_MEASURES:
        result[m.nom] = RawMeasure(m.nom, m.libelle, f"feuille {m.sheet.name}", "commune" if m.commune else "organisme")
    for name, label in ANCHORING_MEASURES.items():
        result[name] = RawMeasure(name, label, f"feuille {qs.ACHATS.name}", "commune")
    for name, (_, label, origin) in LOCAL_MEASURES.items():
        result[name] = RawMeasure(name, label, origin, "commune")
    for name, label in MARKET_MEASURES.items():
        result[name] = RawMeasure(name, label, "feuille Patrimoine et carte des loyers", "commune")
    for c in _numeric(qs.ORGANISME):
        result[c.field] = RawMeasure(c.field, c.label, "feuille Organisme", "organisme")
    for c in _numeric(LIASSE):
        name = LIASSE_PREFIX + c.field
        result[name] = RawMeasure(name, c.help, "liasse", "organisme")
    for name, label in RPLS_STOCK_MEASURES.items():
        result[name] = RawMeasure(name, label, "RPLS (parc social du territoire)", "territoire")
    result["population"] = RawMeasure("population", "Population municipale", "référentiel territorial", "territoire")
    result["menages"] = RawMeasure("menages", "Ménages (RP 2021)", "référentiel territorial", "territoire")
    return result

# ─── facts, read and reduced once per computation ───

class FactReader:
    """The datasets of the workspace, each read once per computation: a run of several levels
    (and each level's checks) reads them again and again, from hundreds of small files.

    What is read is kept in `run`, the dict the caller makes for one computation (one snapshot
    of the workspace, see Workspace.snapshot, and engine.run.compute) and drops with it: nothing
    is kept by the process, so that no result depends on what ran before it. Without `run`,
    nothing is shared."""

    def __init__(self, ws: Workspace, run: dict | None = None, exercices: tuple[int, ...] | None = None):
        """`exercices`: only the organisations' facts of these exercices are read (the files of
        their `exercice=N` folders; a computation of one exercice among several then holds one
        in memory); public data (RPLS, loyers, QPV, SIRENE) whatever their millésime."""
        self.ws = ws
        self.run = {} if run is None else run
        self.exercices = exercices
        self.frames: dict[str, pl.DataFrame | None] = self.run.setdefault(("datasets", str(ws.root.resolve()), exercices), {})

    def dataset(self, name: str) -> pl.LazyFrame | None:
        if name not in self.frames:
            self.read([name])
        frame = self.frames[name]
        return None if frame is None else frame.lazy()

    def read(self, names: list[str]) -> None:
        """Read the datasets not read yet, together (Polars reads their files in parallel)."""
        missing = {name: self._paths(name) for name in dict.fromkeys(names) if name not in self.frames}
        self.frames.update(zip(missing, _read_datasets(list(missing.values())), strict=True))

    def _paths(self, name: str) -> list[Path]:
        paths = self.ws.dataset_paths(name)
        if self.exercices is None or name in PUBLIC_DATASETS:
            return paths
        folders = {f"exercice={year}" for year in self.exercices}
        return [p for p in paths if p.parent.name in folders]


# Public data: read whatever their millésime (an exercice's computation uses the latest).
PUBLIC_DATASETS = frozenset({RENTS_DATASET, STOCK_DATASET, SIRENE_DATASET, QPV_DATASET})


# Every dataset of facts the readers write (inputs/registry.py), read together at the start of a computation.
FACT_DATASETS = fact_datasets()


def _read_datasets(paths: list[list[Path]]) -> list[pl.DataFrame | None]:
    """Each dataset's files as one frame (None without files), without the columns no computation
    reads (provenance, free text, codes as typed); one scan of all the files of a dataset,
    several times faster than one scan per file."""
    present = [p for p in paths if p]
    try:
        frames = pl.collect_all([_used_columns(pl.scan_parquet(p, missing_columns="insert", glob=False)) for p in present])
    except pl.exceptions.PolarsError:  # columns or types that differ between files
        frames = [_used_columns(pl.concat([pl.scan_parquet(f, glob=False) for f in p], how="diagonal_relaxed")).collect() for p in present]
    found = iter(frames)
    return [next(found) if p else None for p in paths]


# Kept with each fact for the import's messages and the files' provenance; never computed on.
_UNUSED_COLUMNS = {"source_fichier", "source_sha256", "feuille", "ligne", "fournisseur", "nature"}


def _used_columns(scan: pl.LazyFrame) -> pl.LazyFrame:
    return scan.select([c for c in scan.collect_schema().names() if c not in _UNUSED_COLUMNS and not c.endswith("_saisie")])


@dataclass(frozen=True)
class MeasureBase:
    """What the facts give whatever the level, made once per workspace state and reused by every
    level computed in the process. Each commune carries the code of its territory at every level
    (`code_commune` … `code_france`, null outside the reference), so that a level only groups.

    by_commune: the commune-level measures, summed over the facts of each commune, in parts of
    their own rows: siren, exercice, commune, territory codes and the part's measures (one part
    per sheet and placing column: the hundreds of thousands of supplier communes of the Achats
    carry two measures, not every measure as nulls, and each level sums each part apart);
    measures: every commune-level measure, in the order of the level's columns; provided: siren,
    exercice and a `<measure>__fourni` flag per measure the organisation provided somewhere
    (even in a commune outside every territory); orgs: one row per organisation × exercice
    (organisation-level measures, names); footprint: the communes of its dwellings and
    operations, with their codes; purchases_by_operation, purchases_by_supplier_epci: the Achats
    reduced for ECO-04 at every level (see _purchases), or None."""

    by_commune: tuple[pl.DataFrame, ...]
    measures: tuple[str, ...]
    provided: pl.DataFrame
    orgs: pl.DataFrame
    footprint: pl.DataFrame
    purchases_by_operation: pl.DataFrame | None  # None also when the lines give no operation commune
    purchases_by_supplier_epci: pl.DataFrame | None


def measure_base(reader: FactReader, reference: TerritorialReference, exercice: int | list[int] | None,
                 parameters: dict) -> MeasureBase:
    """Made once per computation (`reader.run`) for the exercices and parameter values asked."""
    key = ("base", id(reference), _exercice_key(exercice),
           tuple((p.basse, p.centrale, p.haute) if (p := parameters.get(name)) else None for name in FACT_PARAMETERS))
    if key not in reader.run:
        reader.run[key] = _make_base(reader, reference, exercice, parameters)
    return reader.run[key]


def _exercice_key(exercice: int | list[int] | None) -> tuple | None:
    if exercice is None:
        return None
    return tuple(sorted(set(exercice if isinstance(exercice, list) else [exercice])))


def _make_base(reader: FactReader, reference: TerritorialReference, exercice: int | list[int] | None,
               parameters: dict) -> MeasureBase:
    reader.read(FACT_DATASETS)
    places = _places(reference)
    sums, flags = [], []
    for rows in _commune_facts(reader, exercice, parameters):
        measures = [c for c in rows.collect_schema().names() if c not in ("siren", "exercice", "commune")]
        # Only rows with a fact: a commune where nothing was provided places nothing there.
        sums.append(rows.filter(pl.any_horizontal([pl.col(m).is_not_null() for m in measures]))
                    .group_by("siren", "exercice", "commune").agg([exact_sum(pl.col(m)) for m in measures]))
        flags.append(rows.group_by("siren", "exercice").agg([pl.col(m).is_not_null().any().alias(f"{m}__fourni") for m in measures]))
    purchases = _purchases(reader, exercice, places)
    totals = _organisation_totals(reader, exercice)
    # Everything in one go: Polars runs these passes over the same facts side by side.
    frames = pl.collect_all([*sums, *flags, *totals.values(), *purchases.values()])
    purchases = dict(zip(purchases, frames[len(frames) - len(purchases):], strict=True))
    # Smallest first: the order of the columns of the frame they were joined into before (_joined).
    parts = [frame.join(places, on="commune", how="left", maintain_order="left") for frame in sorted(frames[:len(sums)], key=len)]
    provided = _joined(frames[len(sums):len(sums) + len(flags)], ["siren", "exercice"])
    provided = provided.with_columns([pl.when(pl.col(c)).then(True).otherwise(None).alias(c) for c in provided.columns
                                      if c.endswith("__fourni")])
    totals = dict(zip(totals, frames[len(sums) + len(flags):len(sums) + len(flags) + len(totals)], strict=True))
    footprint = _footprint(reader, exercice).collect().join(places, on="commune", how="left", maintain_order="left")
    measures = [c for part in parts for c in part.columns if c not in ("siren", "exercice", "commune", *_LEVEL_CODES)]
    parts, provided = _with_local_measures(parts, provided, anchorage(footprint))
    measures += [name for name, (source, _, _) in LOCAL_MEASURES.items() if source in measures]
    return MeasureBase(tuple(parts), tuple(measures), provided, _organisation_facts(reader, exercice, totals), footprint,
                       purchases.get("by_operation"), purchases.get("by_supplier_epci"))


def _anchor_unit(commune: str = "commune") -> pl.Expr:
    """The unit an anchorage territory is made of: the commune's EPCI, or the commune itself
    when it belongs to none."""
    return pl.coalesce(pl.col("code_epci"), pl.lit("commune:") + pl.col(commune)).alias("_ancrage")


def anchorage(footprint: pl.DataFrame) -> pl.DataFrame:
    """siren, exercice, _ancrage: the organisation's anchorage territory, one row per EPCI (or
    commune outside any EPCI) where it has dwellings or operations."""
    return footprint.filter(pl.col("code_commune").is_not_null()).select("siren", "exercice", _anchor_unit()).unique()


def _with_local_measures(parts: list[pl.DataFrame], provided: pl.DataFrame,
                         anchored: pl.DataFrame) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """LOCAL_MEASURES: a source measure where the commune lies in the organisation's anchorage
    territory, 0 elsewhere; null where the source is, or for an organisation without any known
    dwelling or operation (its anchorage is unknown, not empty). Each in the part of its source."""
    has_anchorage = anchored.select("siren", "exercice").unique().with_columns(pl.lit(True).alias("_a_connu"))
    with_local = []
    for part in parts:
        local = [pl.when(pl.col("_a_connu").is_null()).then(None).when(pl.col("_local").fill_null(False)).then(pl.col(source))
                 .otherwise(pl.col(source) * 0).alias(name)
                 for name, (source, _, _) in LOCAL_MEASURES.items() if source in part.columns]
        if local:
            part = (part.with_columns(_anchor_unit())
                    .join(anchored.with_columns(pl.lit(True).alias("_local")), on=["siren", "exercice", "_ancrage"], how="left",
                          maintain_order="left")
                    .join(has_anchorage, on=["siren", "exercice"], how="left", maintain_order="left")
                    .with_columns(local).drop("_ancrage", "_local", "_a_connu"))
        with_local.append(part)
    flags = provided.join(has_anchorage, on=["siren", "exercice"], how="left").with_columns(
        [pl.when(pl.col(f"{source}__fourni").fill_null(False) & pl.col("_a_connu").fill_null(False)).then(True).otherwise(None)
         .alias(f"{name}__fourni") for name, (source, _, _) in LOCAL_MEASURES.items() if f"{source}__fourni" in provided.columns]
    ).drop("_a_connu")
    return with_local, flags


def _joined(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Frames of different columns side by side, on their keys (a key missing from one: nulls).
    The smallest first: the large one (purchases by supplier commune) is joined once."""
    result = pl.DataFrame(schema={k: pl.Int64 if k == "exercice" else pl.Utf8 for k in keys})
    for frame in sorted(frames, key=len):
        result = frame if not result.width > len(keys) else result.join(frame, on=keys, how="full", coalesce=True)
    return result


def _places(reference: TerritorialReference) -> pl.DataFrame:
    """Each commune of the reference and the code of its territory at every level."""
    return reference.territory_map().select("commune", *[reference.level_columns(level)[0] for level in LEVELS])


def _provided_flags(provided: pl.DataFrame) -> pl.DataFrame:
    """siren, exercice, `<measure>__fourni` (true, or null when not provided)."""
    if provided.is_empty():
        return provided.select("siren", "exercice")
    flags = provided.with_columns(pl.lit(True).alias("_v")).pivot(on="mesure", index=["siren", "exercice"], values="_v")
    return flags.rename({c: f"{c}__fourni" for c in flags.columns if c not in ("siren", "exercice")})


# ─── one level ───

def organisation_rows(ws: Workspace, reference: TerritorialReference, level: str, exercice: int | list[int] | None = None,
                      parameters: dict | None = None, run: dict | None = None) -> pl.DataFrame:
    """Wide frame: KEYS, nom_territoire, every raw measure (null when not available for that row),
    `inclus` (organisation-level facts count here) — one row per organisation present in a territory.
    `run`: what the levels of one computation share (see FactReader)."""
    reader = FactReader(ws, run, _exercice_key(exercice))
    if level.upper() == "QPV":
        return _qpv_rows(reader, exercice)
    base = measure_base(reader, reference, exercice, parameters or {})
    code_col, _ = reference.level_columns(level)
    tmap = reference.territory_map().select("commune", pl.col(code_col).alias("code_territoire")).drop_nulls()
    whole_country = level.upper() == "FRANCE"
    parts = _per_territory(base, code_col, one_commune_each=tmap.height == tmap["code_territoire"].n_unique())
    anchoring = _anchoring(base, code_col, tmap, whole_country)
    if anchoring.height:
        parts.append(anchoring)
    # In the results' order (see run.in_report_order), kept by the joins: their sort is then cheaper.
    facts = pl.concat([part.select(KEYS) for part in parts]) if parts else pl.DataFrame(schema=_KEYS_SCHEMA)
    present = _in_order(_presence(base, code_col, tmap, facts, whole_country))
    # Each part beside its rows: only left joins on the sorted rows, each bringing its own columns.
    wide = present
    for part in parts:
        wide = wide.join(part, on=KEYS, how="left", maintain_order="left")
    wide = wide.select(*present.columns, *base.measures, *[c for c in anchoring.columns if c not in KEYS and anchoring.height])
    # An organisation with anchoring figures somewhere at this level provided its purchases' places.
    provided = base.provided
    if anchoring.height:
        provided = provided.join(anchoring.select("siren", "exercice").unique().with_columns(
            [pl.lit(True).alias(f"{m}__fourni") for m in ANCHORING_MEASURES]), on=["siren", "exercice"], how="full", coalesce=True)
    wide = _zero_where_provided(wide, provided)
    wide = _add_missing_columns(wide)
    wide = wide.join(base.orgs, on=["siren", "exercice"], how="left", maintain_order="left")
    org_measures = [m.nom for m in raw_measures().values() if m.niveau == "organisme"]
    # Organisation-level figures count only where all of the organisation's dwellings are; where
    # they do not, the row keeps a flag that they were given (for the motifs: « pour ce territoire »).
    wide = wide.with_columns([pl.when(pl.col("inclus")).then(pl.col(m)).otherwise(None).alias(m) for m in org_measures]
                             + [(~pl.col("inclus") & pl.col(m).is_not_null()).alias(f"{m}{NOT_SPLIT}") for m in org_measures])
    wide = _with_territory_measures(wide, reader, reference, tmap, level)
    return _anchorage_denominators(wide, base.footprint, reference) if whole_country else wide


def _anchorage_denominators(wide: pl.DataFrame, footprint: pl.DataFrame, reference: TerritorialReference) -> pl.DataFrame:
    """At FRANCE level, the population and households an organisation's figures are related to
    are those of its anchorage territory (TER-01: its dwellings for 1 000 inhabitants of the EPCIs
    where they are, not of France); the consolidated figure's, those of the union of the
    organisations' anchorage territories (`<measure>__territoire`, read by the consolidation).
    Households stay unknown when a commune of the territory has none (no partial sum)."""
    communes = reference.denominators("COMMUNE").select(pl.col("code_territoire").alias("commune"), "population", "menages")
    units = reference.territory_map().select("commune", "code_epci").with_columns(_anchor_unit()).join(communes, on="commune", how="left")
    members = anchorage(footprint).join(units.select("_ancrage", "commune", "population", "menages"), on="_ancrage")

    def summed(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        return frame.group_by(keys).agg(exact_sum(pl.col("population")),
                                        pl.when(pl.col("menages").is_null().any()).then(None).otherwise(exact_sum(pl.col("menages"))).alias("menages"))

    own = summed(members, ["siren", "exercice"])
    union = summed(members.unique(["exercice", "commune"]), ["exercice"]).rename({m: f"{m}__territoire" for m in ("population", "menages")})
    wide = wide.join(own.rename({"population": "_pop", "menages": "_men"}), on=["siren", "exercice"], how="left", maintain_order="left")
    wide = wide.with_columns(pl.when(pl.col("siren").is_not_null()).then(pl.col("_pop")).otherwise(pl.col("population")).alias("population"),
                             pl.when(pl.col("siren").is_not_null()).then(pl.col("_men")).otherwise(pl.col("menages")).alias("menages"))
    return wide.drop("_pop", "_men").join(union, on="exercice", how="left", maintain_order="left")


def _per_territory(base: MeasureBase, code_col: str, one_commune_each: bool) -> list[pl.DataFrame]:
    """Commune measures summed into each territory, each part of `base.by_commune` apart (KEYS and
    the part's measures). A measure of a part without any row for an organisation in a territory
    is null there, where one summed over the rows of other parts was 0: the same once the
    measures an organisation provided are made 0 where it has no row (_zero_where_provided, which
    organisation_rows applies to every one of them)."""
    frames = []
    for part in base.by_commune:
        placed = part.filter(pl.col(code_col).is_not_null()).rename({code_col: "code_territoire"})
        own = [c for c in part.columns if c in base.measures]
        # one commune per territory: nothing to add up
        frames.append(placed.select(*KEYS, *own) if one_commune_each else placed.group_by(KEYS).agg([exact_sum(pl.col(m)) for m in own]))
    return frames


def _in_order(present: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by exercice, territory code and SIREN (nulls first), on the codes' and SIRENs'
    ranks among their sorted distinct values: the order of a sort on the texts, at the cost of
    integers."""
    def rank(name: str) -> pl.Expr:
        values = present[name].drop_nulls().unique().sort()
        return pl.col(name).cast(pl.Enum(values)).to_physical()

    order = present.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "exercice", rank("code_territoire").alias("_c"),
                           rank("siren").alias("_n")).sort("exercice", "_c", "_n", nulls_last=False)["_i"]
    return present[order]


def _qpv_rows(reader: FactReader, exercice: int | list[int] | None) -> pl.DataFrame:
    """QPV level: only facts that carry a QPV code (Actions_sociales) can be placed in a quartier;
    organisation-level figures never count there (no organisation lies wholly in one QPV)."""
    parts = []
    for m in FACT_MEASURES:
        scan = reader.dataset(m.sheet.dataset)
        if m.commune is None or scan is None or not _has_columns(scan, m) or "qpv" not in scan.collect_schema().names():
            continue
        parts.append(_exercice_filter(scan, exercice).filter(pl.col("qpv").is_not_null()).select(
            pl.col("qpv").alias("code_territoire"), "siren", "exercice", pl.lit(m.nom).alias("mesure"),
            m.valeur.cast(pl.Float64).alias("valeur")).drop_nulls("valeur"))
    facts = pl.concat(parts).collect() if parts else pl.DataFrame(schema=_PER_TERRITORY_SCHEMA)
    per_territory = facts.group_by([*KEYS, "mesure"]).agg(exact_sum(pl.col("valeur")))
    wide = per_territory.select(KEYS).unique().with_columns(pl.lit(False).alias("inclus"), pl.lit(True).alias("implante"))
    if per_territory.height:
        wide = wide.join(per_territory.pivot(on="mesure", index=KEYS, values="valeur"), on=KEYS, how="left")
    wide = _add_missing_columns(_zero_where_provided(wide, _provided_flags(facts.select("siren", "exercice", "mesure").unique())))
    orgs = _organisation_facts(reader, exercice)
    org_measures = [m.nom for m in raw_measures().values() if m.niveau == "organisme"]
    wide = wide.join(orgs.select("siren", "exercice", "raison_sociale", "famille"), on=["siren", "exercice"], how="left")
    wide = wide.with_columns([pl.lit(None, pl.Float64).alias(m) for m in [*org_measures, *RPLS_STOCK_MEASURES, "population", "menages"]])
    return wide.join(_qpv_names(reader), on="code_territoire", how="left").with_columns(
        pl.coalesce("nom_territoire", "code_territoire").alias("nom_territoire"))


def _qpv_names(reader: FactReader) -> pl.DataFrame:
    scan = reader.dataset(QPV_DATASET)
    if scan is None or "nom_qpv" not in scan.collect_schema().names():
        return pl.DataFrame(schema={"code_territoire": pl.Utf8, "nom_territoire": pl.Utf8})
    return (scan.sort("exercice", descending=True).group_by("code_qpv").agg(pl.col("nom_qpv").first())
            .select(pl.col("code_qpv").alias("code_territoire"), pl.col("nom_qpv").alias("nom_territoire")).collect())


def _with_territory_measures(wide: pl.DataFrame, reader: FactReader, reference: TerritorialReference, tmap: pl.DataFrame,
                             level: str) -> pl.DataFrame:
    """Denominators (population, households) and the territory's social stock (RPLS). Territories
    with a known stock but no organisation get one row without organisation (siren null), so that
    the territory's own indicators (TER-06…) are computed everywhere."""
    departements = reference.territory_map().select("commune", "code_departement")
    stock = _stock(reader, tmap, departements, wide["exercice"].unique().to_list())
    if stock.height:
        alone = stock.select("code_territoire", "exercice").join(wide.select("code_territoire", "exercice").unique(),
                                                                   on=["code_territoire", "exercice"], how="anti")
        wide = pl.concat([wide, alone.with_columns(pl.lit(None, pl.Utf8).alias("siren"), pl.lit(True).alias("inclus"),
                                                   pl.lit(True).alias("implante"))],
                         how="diagonal_relaxed")
        wide = wide.join(stock, on=["code_territoire", "exercice"], how="left", maintain_order="left")
    else:
        wide = wide.with_columns([pl.lit(None, pl.Float64).alias(m) for m in RPLS_STOCK_MEASURES])
    denominators = reference.denominators(level).select("code_territoire", "nom_territoire", "population", "menages")
    return wide.join(denominators, on="code_territoire", how="left", maintain_order="left")


def _stock(reader: FactReader, tmap: pl.DataFrame, departements: pl.DataFrame, exercices: list[int]) -> pl.DataFrame:
    """RPLS stock per territory, for each exercice of the results: the latest millésime not after
    it, else the earliest one (the register is published with a delay). Without organisations,
    every millésime imported is an exercice of its own. A territory reaching into a département
    the millésime's file does not cover (a regional extract) gets no stock: a partial sum would be
    taken for the whole (see inputs/rpls.py, RPLS_SCOPE). `departements`: commune, code_departement."""
    scan = reader.dataset(STOCK_DATASET)
    if scan is None:
        return pl.DataFrame()
    from acterr_cli.inputs.rpls import RPLS_SCOPE  # the RPLS reader: loaded only when an RPLS was imported

    stock = scan.collect()  # totals per commune: tens of thousands of rows at most
    covered = stock.join(departements, on="commune").select("exercice", "code_departement").unique()
    # The millésime of each exercice is chosen among those imported, whatever the territories they
    # cover: a regional extract of a later year never makes a level fall back on an older national one.
    years = covered["exercice"].unique().to_list()
    if not years:
        return pl.DataFrame()
    needed = (tmap.join(departements, on="commune").select("code_territoire", "code_departement").unique()
              .filter(pl.col("code_departement").is_in(list(RPLS_SCOPE))))
    uncovered = (needed.join(covered.select("exercice").unique(), how="cross")
                 .join(covered, on=["exercice", "code_departement"], how="anti").select("code_territoire", "exercice").unique())
    per_year = (
        stock.join(tmap, on="commune", how="inner")
        .group_by("code_territoire", "exercice").agg([exact_sum(pl.col(m)) for m in RPLS_STOCK_MEASURES])
        .join(uncovered, on=["code_territoire", "exercice"], how="anti")
    )
    mapping = _nearest(years, exercices or years)
    return mapping.join(per_year.rename({"exercice": "millesime"}), on="millesime").drop("millesime")


def _sheet_scan(reader: FactReader, sheet: qs.Sheet) -> pl.LazyFrame | None:
    """Facts of a sheet. An organisation's patrimoine from its own RPLS file replaces its
    questionnaire's Patrimoine sheet for the same exercice (never both: no double count)."""
    scan = reader.dataset(sheet.dataset)
    if sheet is qs.ACHATS:
        return _with_sirene_communes(reader, scan)
    if sheet is not qs.PATRIMOINE:
        return scan
    rpls = reader.dataset(PATRIMOINE_DATASET)
    if rpls is None:
        return scan
    if scan is None:
        return rpls
    kept = scan.join(rpls.select("siren", "exercice").unique(), on=["siren", "exercice"], how="anti")
    return pl.concat([kept, rpls], how="diagonal_relaxed")


def _with_sirene_communes(reader: FactReader, achats: pl.LazyFrame | None) -> pl.LazyFrame | None:
    """Purchase lines that give a SIRET but no supplier commune get the commune SIRENE knows."""
    sirene = reader.dataset(SIRENE_DATASET)
    if achats is None or sirene is None or "siret" not in achats.collect_schema().names():
        return achats
    communes = sirene.select("siret", pl.col("commune").alias("_commune_sirene")).unique("siret")
    return achats.join(communes, on="siret", how="left").with_columns(
        pl.coalesce("commune_fournisseur", "_commune_sirene").alias("commune_fournisseur")).drop("_commune_sirene")


def _exercice_filter(frame: pl.LazyFrame, exercice: int | list[int] | None) -> pl.LazyFrame:
    if exercice is None:
        return frame
    return frame.filter(pl.col("exercice").is_in(exercice if isinstance(exercice, list) else [exercice]))


def _commune_facts(reader: FactReader, exercice: int | list[int] | None, parameters: dict) -> list[pl.LazyFrame]:
    """The commune-level facts, one frame per sheet and placing column: siren, exercice, commune
    and one Float64 column per measure, one row per fact (null: not provided)."""
    measures: dict[tuple[str, str], list[pl.Expr]] = {}
    scans: dict[str, pl.LazyFrame] = {}
    for sheet in COMMUNE_SHEETS:
        scan = _sheet_scan(reader, sheet)
        if scan is not None and sheet is qs.ENERGIE:
            scan = _with_energy_conversion(scan, parameters)
        if scan is not None:
            scans[sheet.name] = scan
            names = scan.collect_schema().names()
            measures.setdefault((sheet.name, "commune"), []).extend(
                pl.col(c.field).cast(pl.Float64) for c in _numeric(sheet) if c.field in names)
    for m in FACT_MEASURES:
        scan = scans[m.sheet.name] if m.sheet.name in scans else _sheet_scan(reader, m.sheet)
        if m.commune is None or scan is None or not _has_columns(scan, m):
            continue
        scans[m.sheet.name] = scan
        measures.setdefault((m.sheet.name, m.commune), []).append(m.valeur.cast(pl.Float64).alias(m.nom))
    frames = [
        _exercice_filter(scans[sheet], exercice).select("siren", "exercice", pl.col(commune).alias("commune"), *exprs)
        for (sheet, commune), exprs in measures.items() if exprs
    ]
    market = _market_rent_facts(reader, exercice, parameters)
    return frames + ([market] if market is not None else [])


def _with_energy_conversion(scan: pl.LazyFrame, parameters: dict) -> pl.LazyFrame:
    """The Energie facts with the primary-energy coefficient of electricity of their exercice
    (`_coef_ep`: the 2021 DPE rule until 2025, the 2025 decree from 2026) and the kind of
    consumption (null for workbooks older than the column)."""
    names = scan.collect_schema().names()
    coef = pl.when(pl.col("exercice") >= 2026).then(_parameter(parameters, "coef_energie_primaire_electricite_2026", "centrale")).otherwise(
        _parameter(parameters, "coef_energie_primaire_electricite", "centrale"))
    kind = [] if "type_consommation" in names else [pl.lit(None, pl.Utf8).alias("type_consommation")]
    return scan.with_columns(coef.alias("_coef_ep"), *kind)


_PER_TERRITORY_SCHEMA = {"code_territoire": pl.Utf8, "siren": pl.Utf8, "exercice": pl.Int64, "mesure": pl.Utf8, "valeur": pl.Float64}


def _market_rent_facts(reader: FactReader, exercice: int | list[int] | None, parameters: dict) -> pl.LazyFrame | None:
    """Per organisation and commune, the Patrimoine sheet against the Carte des loyers (SOC-01,
    SOC-03), as a housing economist would: what the occupied dwellings would cost at market rent,
    charges excluded, against the rents actually charged —
    12 × surface × occupied share × (market rent × correction − recoverable charges) − rents,
    the market rent (charges included) mixed apartment / house as the commune's dwellings.
    - occupied share: 1 − vacant dwellings / dwellings (Patrimoine « dont vacants »), else the
      liasse's vacancy rate, else the national default (`taux_vacance_defaut`): rents charged are
      those of occupied dwellings only;
    - correction: the map gives asking rents of new lets, above what sitting private tenants pay
      (`correction_loyer_annonce`);
    - low value: low rent of the prediction interval, low correction, high charges and vacancy;
      high value the reverse.
    Communes without a market rent (or without surface and rents) go to the national flat rate,
    their occupied dwellings counted in `logements_sans_loyer_marche`."""
    patrimoine = _sheet_scan(reader, qs.PATRIMOINE)
    if patrimoine is None:
        return None
    names = patrimoine.collect_schema().names()
    rows = _exercice_filter(patrimoine, exercice).select(
        "siren", "exercice", "commune", pl.col("logements").cast(pl.Float64),
        *[(pl.col(c).cast(pl.Float64) if c in names else pl.lit(None, pl.Float64)).alias(c)
          for c in ("logements_individuels", "surface_m2", "loyers_annuels_eur", "logements_vacants")],
    ).collect()
    rows = rows.join(_rents_for(reader, rows["exercice"].unique().to_list()), on=["commune", "exercice"], how="left")
    rows = rows.join(_liasse_vacancy(reader, exercice), on=["siren", "exercice"], how="left")
    share_houses = (pl.col("logements_individuels").fill_null(0) / pl.col("logements")).fill_nan(0)
    scenarios = ("basse", "centrale", "haute")
    inverse = {"basse": "haute", "centrale": "centrale", "haute": "basse"}

    declared = pl.when(pl.col("logements") > 0).then(pl.col("logements_vacants") / pl.col("logements"))
    occupied = {s: 1 - pl.coalesce(declared, pl.col("_vacance_liasse"), _parameter(parameters, "taux_vacance_defaut", inverse[s]) / 100).clip(0, 1)
                for s in scenarios}
    dwellings = {"appartement": pl.col("logements") - pl.col("logements_individuels").fill_null(0),
                 "maison": pl.col("logements_individuels").fill_null(0)}
    by_type = {(t, s): _mean_rent_bound(t, s, dwellings[t]) for t in dwellings for s in scenarios}
    rent = {s: pl.coalesce((1 - share_houses) * by_type["appartement", s] + share_houses * by_type["maison", s],
                           by_type["appartement", s], by_type["maison", s]) for s in scenarios}
    def market_value(rent_s: str, correction_s: str, charges_s: str, occupied_s: str) -> pl.Expr:
        """What the occupied dwellings would cost at market rent: the rent, the correction and the
        charges at their value of a scenario, the occupied share of `occupied[occupied_s]`."""
        return (12 * pl.col("surface_m2") * occupied[occupied_s]
                * (rent[rent_s] * _parameter(parameters, "correction_loyer_annonce", correction_s)
                   - _parameter(parameters, "charges_locatives_m2", charges_s)))

    market = {s: market_value(s, s, inverse[s], s) for s in scenarios}
    # One factor at its low or high value, the others central (sensitivity and simulation, see
    # MARKET_FACTORS): the vacancy rate's low *value* is the scenario « haute » of `occupied`.
    swings = {}
    for factor in MARKET_FACTORS:
        for end in ("basse", "haute"):
            chosen = {f: "centrale" for f in MARKET_FACTORS} | {factor: end}
            swings[factor, end] = market_value(chosen[MARKET_RENT_FACTOR], chosen["correction_loyer_annonce"],
                                               chosen["charges_locatives_m2"], inverse[chosen["taux_vacance_defaut"]])
    known = market["centrale"].is_not_null() & pl.col("loyers_annuels_eur").is_not_null()
    occupied_dwellings = pl.col("logements") * occupied["centrale"]
    measures = {
        **{f"gain_marche_{s}": pl.when(known).then(_positive(market[s] - pl.col("loyers_annuels_eur"))).otherwise(0.0) for s in scenarios},
        **{f"valeur_marche_hc_{s}": pl.when(known).then(market[s]).otherwise(0.0) for s in scenarios},
        **{market_swing(m, f, e): pl.when(known).then(_positive(v - pl.col("loyers_annuels_eur")) if m == "gain_marche" else v).otherwise(0.0)
           for (f, e), v in swings.items() for m in ("gain_marche", "valeur_marche_hc")},
        "loyers_zone_marche": pl.when(known).then(pl.col("loyers_annuels_eur")).otherwise(0.0),
        "logements_loyer_marche": pl.when(known).then(occupied_dwellings).otherwise(0.0),
        "logements_sans_loyer_marche": pl.when(known).then(0.0).otherwise(occupied_dwellings),
        "logements_occupes": occupied_dwellings,
    }
    return rows.lazy().select("siren", "exercice", "commune", *[e.cast(pl.Float64).alias(n) for n, e in measures.items()])


def _parameter(parameters: dict, name: str, scenario: str) -> pl.Expr:
    """A parameter's value in a scenario, as a literal (null when the référentiel lacks it)."""
    return pl.lit(parameters[name].value(scenario) if name in parameters else None, pl.Float64)


def _mean_rent_bound(housing: str, scenario: str, dwellings: pl.Expr) -> pl.Expr:
    """The market rent per m² of one housing type in a scenario, for the mean of `dwellings`.

    The map's 95 % interval is a prediction interval: it holds the rent of one dwelling, whose
    half-width is about t·σ·√(1 + 1/n) for a prediction resting on n ads. The mean rent of N
    dwellings is far surer: t·σ·√(1/n + 1/N). The published bounds are narrowed by that ratio,
    on the logarithm of the rent (the map's intervals are not symmetric). Without the number of
    ads (an older import), the published bounds are used as they are."""
    central = pl.col(f"{housing}_centrale")
    if scenario == "centrale":
        return central
    n = pl.col(f"{housing}_n")
    narrowing = pl.when(n.is_null() | (n <= 0)).then(1.0).otherwise(
        ((1 / n) + 1 / pl.max_horizontal(dwellings, pl.lit(1.0))).sqrt() / (1 + 1 / n).sqrt())
    return central * (pl.col(f"{housing}_{scenario}") / central).pow(narrowing)


def _liasse_vacancy(reader: FactReader, exercice: int | list[int] | None) -> pl.DataFrame:
    """siren, exercice, _vacance_liasse: the liasse's vacancy rate (D11) as a share."""
    liasse = reader.dataset(LIASSE.dataset)
    schema = {"siren": pl.Utf8, "exercice": pl.Int64, "_vacance_liasse": pl.Float64}
    if liasse is None or "taux_vacance_pct" not in liasse.collect_schema().names():
        return pl.DataFrame(schema=schema)
    return (_exercice_filter(liasse, exercice).select("siren", "exercice", (pl.col("taux_vacance_pct").cast(pl.Float64) / 100)
                                                      .alias("_vacance_liasse")).drop_nulls().unique(["siren", "exercice"]).collect()
            .cast(schema))


def _positive(expr: pl.Expr) -> pl.Expr:
    """max(0, x) that keeps null as null (GREATEST would turn it into 0)."""
    return pl.when(expr < 0).then(0.0).otherwise(expr)


def _rents_for(reader: FactReader, exercices: list[int]) -> pl.DataFrame:
    """Market rents per commune for each exercice (nearest millésime, as for the RPLS), one column
    per housing type and scenario: appartement_basse, …, maison_haute."""
    columns = [f"{t}_{s}" for t in ("appartement", "maison") for s in ("basse", "centrale", "haute", "n")]
    empty = pl.DataFrame(schema={"commune": pl.Utf8, "exercice": pl.Int64, **{c: pl.Float64 for c in columns}})
    scan = reader.dataset(RENTS_DATASET)
    if scan is None or not exercices:
        return empty
    ads = pl.col("nb_annonces").cast(pl.Float64) if "nb_annonces" in scan.collect_schema().names() else pl.lit(None, pl.Float64)
    rents = scan.select("commune", "exercice", "type_logement", pl.col("loyer_m2_bas").alias("basse"),
                        pl.col("loyer_m2").alias("centrale"), pl.col("loyer_m2_haut").alias("haute"), ads.alias("n")).collect()
    mapping = _nearest(rents["exercice"].unique().to_list(), exercices)
    rents = mapping.join(rents.rename({"exercice": "millesime"}), on="millesime").drop("millesime")
    wide = rents.pivot(on="type_logement", index=["commune", "exercice"], values=["basse", "centrale", "haute", "n"])
    wide = wide.rename({c: "_".join(reversed(c.split("_", 1))) for c in wide.columns if c not in ("commune", "exercice")})
    return wide.with_columns([pl.lit(None, pl.Float64).alias(c) for c in columns if c not in wide.columns]).select(empty.columns)


def _nearest(available: list[int], wanted: list[int]) -> pl.DataFrame:
    """For each wanted exercice, the latest millésime not after it, else the earliest one."""
    years = sorted(available)
    chosen = {n: max([y for y in years if y <= n], default=years[0]) for n in wanted}
    return pl.DataFrame({"exercice": list(chosen), "millesime": list(chosen.values())},
                        schema={"exercice": pl.Int64, "millesime": pl.Int64})


def _has_columns(scan: pl.LazyFrame, m: FactMeasure) -> bool:
    needed = set(m.valeur.meta.root_names()) | ({m.commune} if m.commune else set())
    return needed <= set(scan.collect_schema().names())


def _purchases(reader: FactReader, exercice: int | list[int] | None, places: pl.DataFrame) -> dict[str, pl.LazyFrame]:
    """The Achats reduced once for ECO-04 at every level (see _anchoring), from the lines summed
    per organisation × exercice × operation commune × supplier commune (hundreds of thousands of
    rows, that each level would otherwise go through again):
    - by_operation: per organisation × exercice × operation commune, with that commune's codes
      (`op_code_…`), the purchases (`montant_ht_eur`) and, for each level, those from a supplier
      in the operation's territory at that level (`ancres_code_…`); only when the lines give the
      operation's commune;
    - by_supplier_epci: per organisation × exercice × supplier's EPCI (`f_code_epci`), the
      purchases, for the FRANCE level.
    Empty without purchase amounts."""
    scan = _sheet_scan(reader, qs.ACHATS)
    if scan is None or "montant_ht_eur" not in scan.collect_schema().names():
        return {}
    located = "commune_operation" in scan.collect_schema().names()
    keys = ["siren", "exercice", *(["commune_operation"] if located else []), "commune_fournisseur"]
    lines = _exercice_filter(scan, exercice).group_by(keys).agg(as_units(pl.col("montant_ht_eur").cast(pl.Float64)).sum())
    # The codes of a million lines as categories (the texts' global codes): compared and gathered
    # as integers; texts again once reduced.
    codes = places.lazy().with_columns(pl.col(c).cast(pl.Categorical) for c in _LEVEL_CODES)
    lines = lines.join(codes.rename({c: f"f_{c}" for c in places.columns}), left_on="commune_fournisseur",
                       right_on="f_commune", how="left", maintain_order="left")
    # whole ten-thousandths (sums.as_units) summed, as exact_sum does
    units = pl.col("montant_ht_eur")
    reduced = {"by_supplier_epci": lines.group_by("siren", "exercice", "f_code_epci").agg(units_sum(units))
               .with_columns(pl.col("f_code_epci").cast(pl.Utf8))}
    if located:
        lines = lines.join(codes.rename({c: f"op_{c}" for c in places.columns}), left_on="commune_operation",
                           right_on="op_commune", how="left", maintain_order="left")
        reduced["by_operation"] = lines.group_by("siren", "exercice", "commune_operation").agg(
            *[pl.col(f"op_{code}").first().cast(pl.Utf8) for code in _LEVEL_CODES], units_sum(units),
            *[units_sum(pl.when(pl.col(f"f_{code}") == pl.col(f"op_{code}")).then(units).otherwise(0)).alias(f"ancres_{code}")
              for code in _LEVEL_CODES])
    return reduced


def _anchoring(base: MeasureBase, code_col: str, tmap: pl.DataFrame, whole_country: bool) -> pl.DataFrame:
    """ECO-04's measures, which depend on the level: purchases of operations located in the
    territory, and those bought from suppliers of the same territory. For a whole organisation
    (FRANCE level) its territory is the set of EPCI where it owns dwellings (REFERENTIEL)."""
    schema = {"code_territoire": pl.Utf8, "siren": pl.Utf8, "exercice": pl.Int64, **{m: pl.Float64 for m in ANCHORING_MEASURES}}
    achats = base.purchases_by_supplier_epci if whole_country else base.purchases_by_operation
    if achats is None:
        return pl.DataFrame(schema=schema)
    if whole_country:
        footprint = (base.footprint.lazy().select("siren", "exercice", "code_epci").drop_nulls().unique()
                     .with_columns(pl.lit(True).alias("_local")))
        frame = (
            achats.lazy()
            .join(footprint, left_on=["siren", "exercice", "f_code_epci"], right_on=["siren", "exercice", "code_epci"], how="left")
            .select("siren", "exercice", pl.lit(tmap["code_territoire"][0]).alias("code_territoire"),
                    pl.col("montant_ht_eur").alias("perimetre"),
                    pl.when(pl.col("_local")).then(pl.col("montant_ht_eur")).otherwise(0.0).alias("ancres"))
        )
    else:
        operation = pl.col(f"op_{code_col}")
        frame = achats.lazy().filter(operation.is_not_null()).select(
            "siren", "exercice", operation.alias("code_territoire"), pl.col("montant_ht_eur").alias("perimetre"),
            pl.col(f"ancres_{code_col}").alias("ancres"))
    return (
        frame.group_by(KEYS).agg(exact_sum(pl.col("perimetre")).alias("achats_perimetre_eur"), exact_sum(pl.col("ancres")).alias("achats_ancres_eur"))
        .collect().cast(schema).select(list(schema))
    )


def _organisation_facts(reader: FactReader, exercice: int | list[int] | None,
                        totals: dict[str, pl.DataFrame] | None = None) -> pl.DataFrame:
    """One row per organisation × exercice: Organisme sheet and liasse (prefixed) measures, names,
    and the organisation-wide sums of datasets (`totals`, see _organisation_totals; read here
    when not given)."""
    org_fields = [c.field for c in _numeric(qs.ORGANISME)]
    liasse_fields = [c.field for c in _numeric(LIASSE)]
    frames = []
    org = reader.dataset(qs.ORGANISME.dataset)
    if org is not None:
        names = org.collect_schema().names()
        frames.append(_exercice_filter(org, exercice).select(
            "siren", "exercice", "raison_sociale", "famille",
            *[pl.col(f).cast(pl.Float64) if f in names else pl.lit(None, pl.Float64).alias(f) for f in org_fields],
        ).collect())
    liasse = reader.dataset(LIASSE.dataset)
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
    missing = [f for f in (*org_fields, *(LIASSE_PREFIX + f for f in liasse_fields)) if f not in result.columns]
    names = [pl.coalesce(pl.col(f) if f in result.columns else pl.lit(None, pl.Utf8),
                         pl.col(LIASSE_PREFIX + f) if LIASSE_PREFIX + f in result.columns else pl.lit(None, pl.Utf8)).alias(f)
             for f in ("raison_sociale", "famille")]
    result = result.with_columns(*[pl.lit(None, pl.Float64).alias(f) for f in missing], *names)
    result = result.drop([c for c in (f"{LIASSE_PREFIX}raison_sociale", f"{LIASSE_PREFIX}famille") if c in result.columns])
    if totals is None:
        totals = dict(zip(plans := _organisation_totals(reader, exercice), pl.collect_all(list(plans.values())), strict=True))
    for frame in totals.values():
        result = result.join(frame, on=["siren", "exercice"], how="full", coalesce=True)
    missing = [m.nom for m in FACT_MEASURES if m.commune is None and m.nom not in result.columns]
    return result.with_columns([pl.lit(None, pl.Float64).alias(m) for m in missing])


def _organisation_totals(reader: FactReader, exercice: int | list[int] | None) -> dict[str, pl.LazyFrame]:
    """Organisation-wide sums of dataset rows (e.g. all purchases), one pass per dataset: siren,
    exercice and each measure, null when never provided."""
    by_dataset: dict[str, list[pl.Expr]] = {}
    for m in FACT_MEASURES:
        scan = reader.dataset(m.sheet.dataset)
        if m.commune is None and scan is not None and _has_columns(scan, m):
            value = m.valeur.cast(pl.Float64)
            by_dataset.setdefault(m.sheet.dataset, []).append(
                pl.when(value.is_not_null().any()).then(exact_sum(value)).otherwise(None).alias(m.nom))
    return {dataset: _exercice_filter(reader.dataset(dataset), exercice).group_by("siren", "exercice").agg(sums)
            for dataset, sums in by_dataset.items()}


def _footprint(reader: FactReader, exercice: int | list[int] | None) -> pl.LazyFrame:
    parts = [
        _exercice_filter(scan, exercice).select("siren", "exercice", "commune")
        for sheet in FOOTPRINT_SHEETS if (scan := _sheet_scan(reader, sheet)) is not None
    ]
    if not parts:
        return pl.LazyFrame(schema={"siren": pl.Utf8, "exercice": pl.Int64, "commune": pl.Utf8})
    return pl.concat(parts).unique()


def _presence(base: MeasureBase, code_col: str, tmap: pl.DataFrame, facts: pl.DataFrame, whole_country: bool) -> pl.DataFrame:
    """Organisations present in each territory (they have facts there, or dwellings), and whether
    all their dwellings lie inside it. At FRANCE level every organisation is present and inside."""
    fp = base.footprint.select("siren", "exercice", pl.col(code_col).alias("code_territoire"))
    totals = fp.group_by("siren", "exercice").agg(pl.len().alias("_n_total"))
    inside = fp.drop_nulls("code_territoire").group_by(KEYS).agg(pl.len().alias("_n_in"))
    present = pl.concat([facts.select(KEYS), inside.select(KEYS)]).unique()
    if whole_country:  # even organisations without any commune fact
        everyone = base.orgs.select("siren", "exercice").with_columns(pl.lit(tmap["code_territoire"][0]).alias("code_territoire"))
        present = pl.concat([present, everyone.select(KEYS)]).unique()
    present = present.join(inside, on=KEYS, how="left").join(totals, on=["siren", "exercice"], how="left")
    return present.with_columns(
        (pl.lit(whole_country) | (pl.col("_n_in").fill_null(0) == pl.col("_n_total"))).alias("inclus"),
        # « implanté » : the organisation has dwellings or operations here, not only suppliers or employees
        (pl.lit(whole_country) | (pl.col("_n_in").fill_null(0) > 0)).alias("implante"),
    ).drop("_n_in", "_n_total")


def _zero_where_provided(wide: pl.DataFrame, flags: pl.DataFrame) -> pl.DataFrame:
    """A measure an organisation provided somewhere is zero where it has no row; else it stays null.
    `flags`: siren, exercice, `<measure>__fourni` (see _provided_flags)."""
    measures = [c[: -len("__fourni")] for c in flags.columns if c.endswith("__fourni")]
    if not measures:
        return wide
    wide = wide.join(flags, on=["siren", "exercice"], how="left", maintain_order="left")
    wide = wide.with_columns([pl.lit(None, pl.Float64).alias(m) for m in measures if m not in wide.columns])
    return wide.with_columns(
        [pl.when(pl.col(f"{m}__fourni").fill_null(False)).then(pl.col(m).fill_null(0)).otherwise(None).alias(m) for m in measures]
    ).drop([f"{m}__fourni" for m in measures])


def _add_missing_columns(wide: pl.DataFrame) -> pl.DataFrame:
    commune_measures = [m.nom for m in raw_measures().values() if m.niveau == "commune"]
    return wide.with_columns([pl.lit(None, pl.Float64).alias(m) for m in commune_measures if m not in wide.columns])
