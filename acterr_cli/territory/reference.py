"""Territorial reference: communes, EPCI, départements, régions and their denominators.

The default reference (COG 2026) ships inside the package (``data/``, built by ``build.py``);
users may point acterr at another directory with the same layout. Everything here is
vectorised with Polars: a questionnaire or an RPLS file may carry tens of thousands of codes.
"""

from __future__ import annotations

import functools
import io
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import polars as pl

from acterr_cli.errors import ConfigurationError

LEVELS = ("COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "FRANCE")  # QPV comes later

FORMAT = 1  # layout version written by build.py in meta.json
TABLES = ("communes", "epci", "departements", "regions", "correspondances")
# INSEE's "France" is metropolitan France + DROM; the overseas collectivities (zone "com":
# Nouvelle-Calédonie, Polynésie...) are outside the census and RPLS, so outside the FRANCE level.
FRANCE_ZONES = ("metro", "drom")
CODE_FRANCE, NOM_FRANCE = "FR", "France"

STATUTS = ("ok", "zero_ajoute", "arrondissement", "ancien_code", "commune_deleguee",
           "commune_associee", "inconnu", "vide")
MAX_RESULTATS = 20


def _clean_code(expr: pl.Expr) -> pl.Expr:
    """Code as typed → canonical form: no spaces (\\s is Unicode-aware: covers NBSP and narrow
    NBSP from French spreadsheets), no '.0' left by Excel numbers, upper case ('2a004')."""
    return (
        expr.str.replace_all(r"[\s\u00a0\u202f\ufeff]", "")
        .str.replace(r"\.0+$", "")
        .str.to_uppercase()
    )


def _search_key(expr: pl.Expr) -> pl.Expr:
    """Name → key free of accents, case and punctuation: 'L'Haÿ-les-Roses' → 'l hay les roses'."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all("œ", "oe")
        .str.replace_all("æ", "ae")
        .str.replace_all(r"[^0-9a-z]+", " ")
        .str.strip_chars()
    )


class TerritorialReference:
    """Immutable view of one reference directory (see ``load``)."""

    def __init__(self, tables: dict[str, pl.DataFrame], meta: dict):
        self.meta = meta
        self.millesime: str = meta["millesime"]
        self.communes: pl.DataFrame = tables["communes"]
        self.epci: pl.DataFrame = tables["epci"]
        self.departements: pl.DataFrame = tables["departements"]
        self.regions: pl.DataFrame = tables["regions"]
        self.correspondances: pl.DataFrame = tables["correspondances"]
        self._denominators: dict[str, pl.DataFrame] = {}

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, directory: Path | None = None) -> "TerritorialReference":
        """The embedded reference (cached) or the one in ``directory``."""
        if directory is None:
            return _default_reference()
        return cls._read(Path(directory))

    @classmethod
    def _read(cls, directory: Traversable | Path) -> "TerritorialReference":
        # Read through Traversable so that the packaged data also works from a zip/wheel.
        def content(name: str) -> bytes:
            try:
                return directory.joinpath(name).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ConfigurationError(
                    f"Référentiel territorial incomplet : fichier {name} introuvable dans "
                    f"{directory}."
                ) from None

        meta = json.loads(content("meta.json").decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ConfigurationError(
                f"Référentiel territorial de format {meta.get('format')} dans {directory} : "
                f"acterr attend le format {FORMAT}. Reconstruisez-le avec cette version."
            )
        tables = {t: pl.read_parquet(io.BytesIO(content(f"{t}.parquet"))) for t in TABLES}
        return cls(tables, meta)

    # ------------------------------------------------------------ normalisation
    @functools.cached_property
    def _code_index(self) -> pl.DataFrame:
        """Every accepted code → (current commune, statut); current codes map to themselves (a
        code listed twice keeps its last meaning)."""
        current = self.communes.select(
            code_saisi="code", commune="code", statut=pl.lit("ok")
        )
        return pl.concat([current, self.correspondances.select(
            "code_saisi", "commune", statut="motif"
        )]).unique("code_saisi", keep="last", maintain_order=True)

    def normalize_communes(self, codes: pl.Series) -> pl.DataFrame:
        """Raw commune codes → commune_saisie, commune (current code or null), statut.

        Same length and order as the input. ``statut`` is one of STATUTS: a 4-digit number gets
        its lost leading zero back ('zero_ajoute' when that gives a current commune; the
        correspondence motive when it gives an old code); arrondissements, old codes,
        delegated and associated communes map to today's commune; otherwise 'inconnu' or,
        for an empty cell, 'vide'. Only the distinct codes are looked up, by two joins (a sheet
        or a national file repeats the same few thousand codes).
        """
        frame = pl.DataFrame({"commune_saisie": codes.cast(pl.Utf8)}).with_columns(_code=_clean_code(pl.col("commune_saisie")))
        index = self._code_index
        padded = index.select(_padded="code_saisi", _commune0="commune", _statut0="statut")
        code = pl.col("_code")
        table = (
            frame.select(code.unique())
            .with_columns(_padded=pl.when(code.str.contains(r"^\d{4}$")).then(pl.lit("0") + code))
            .join(index, left_on="_code", right_on="code_saisi", how="left")
            .join(padded, on="_padded", how="left")
            .select(
                "_code",
                commune=pl.coalesce("commune", "_commune0"),
                statut=pl.when(code.is_null() | (code == "")).then(pl.lit("vide"))
                .when(pl.col("statut").is_not_null()).then("statut")
                .when(pl.col("_statut0") == "ok").then(pl.lit("zero_ajoute"))
                .when(pl.col("_statut0").is_not_null()).then("_statut0")
                .otherwise(pl.lit("inconnu")),
            )
        )
        return frame.join(table, on="_code", how="left", nulls_equal=True, maintain_order="left").select("commune_saisie", "commune", "statut")

    # ------------------------------------------------------------------- levels
    def level_columns(self, level: str) -> tuple[str, str]:
        """Code and name columns of a level in ``territory_map``: 'EPCI' → code_epci, nom_epci."""
        name = str(level).upper()
        if name not in LEVELS:
            raise ValueError(
                f"Niveau territorial inconnu : {level!r} (attendu : {', '.join(LEVELS)})."
            )
        return f"code_{name.lower()}", f"nom_{name.lower()}"

    @functools.cached_property
    def _territory_map(self) -> pl.DataFrame:
        in_france = pl.col("zone").is_in(FRANCE_ZONES)
        return (
            self.communes.select("code", "nom", "epci", "departement", "region", "zone")
            .join(self.epci.select(epci="code", nom_epci="nom"), on="epci", how="left")
            .join(self.departements.select(departement="code", nom_departement="nom"),
                  on="departement", how="left")
            .join(self.regions.select(region="code", nom_region="nom"), on="region", how="left")
            .select(
                commune="code", code_commune="code", nom_commune="nom",
                code_epci="epci", nom_epci="nom_epci",
                code_departement="departement", nom_departement="nom_departement",
                code_region="region", nom_region="nom_region",
                code_france=pl.when(in_france).then(pl.lit(CODE_FRANCE)),
                nom_france=pl.when(in_france).then(pl.lit(NOM_FRANCE)),
            )
            .sort("commune")
        )

    def territory_map(self) -> pl.DataFrame:
        """One row per current commune with the code and name of each level it belongs to.

        code_epci is null for the 98 communes outside any EPCI; code_france is null for the
        overseas collectivities (see FRANCE_ZONES)."""
        return self._territory_map.clone()  # clone is O(1): callers cannot alter the cache

    def denominators(self, level: str) -> pl.DataFrame:
        """code_territoire, nom_territoire, population, menages for every territory of a level.

        Sums over communes (one population source everywhere). ``menages`` is null unless every
        commune of the territory has households (a partial sum would silently understate rates,
        e.g. Cantal without its communes restored since 2021); ``menages_connus`` is that
        partial sum and ``couverture_menages`` the share of the population it covers, for callers
        that accept a near-complete figure.
        """
        code, nom = self.level_columns(level)
        if code not in self._denominators:
            self._denominators[code] = self._compute_denominators(code, nom)
        return self._denominators[code].clone()

    def _compute_denominators(self, code: str, nom: str) -> pl.DataFrame:
        known = pl.col("menages").is_not_null()
        population = pl.col("population").fill_null(0)
        return (
            self._territory_map.select("commune", code, nom)
            .join(self.communes.select(commune="code", population="population",
                                       menages="menages"), on="commune")
            .filter(pl.col(code).is_not_null())
            .group_by(code_territoire=code, nom_territoire=nom)
            .agg(
                # Null, not a made-up 0, where the source gives no population at all (TAAF).
                population=pl.when(pl.col("population").is_not_null().any())
                .then(pl.col("population").sum()),
                menages=pl.when(known.all()).then(pl.col("menages").sum()),
                menages_connus=pl.when(known.any()).then(pl.col("menages").sum()),
                _couverte=population.filter(known).sum(),
                _totale=population.sum(),
            )
            .with_columns(
                couverture_menages=pl.when(pl.col("_totale") > 0)
                .then(pl.col("_couverte") / pl.col("_totale"))
            )
            .drop("_couverte", "_totale")
            .sort("code_territoire")
        )

    # ------------------------------------------------------------------- lookup
    def lookup(self, query: str) -> list[dict]:
        """Territories matching a code (any level, any tolerated form) or else a name."""
        hits = self._lookup_codes(query)
        return hits if hits else self._lookup_names(query)

    def _lookup_codes(self, query: str) -> list[dict]:
        code = pl.select(_clean_code(pl.lit(str(query)))).item()
        found = self.normalize_communes(pl.Series([query])).row(0, named=True)
        hits = []
        if found["commune"] is not None:
            motif = found["statut"] if found["statut"] not in ("ok", "zero_ajoute") else None
            # Report the code as understood (leading zero restored), not as typed.
            saisi = code if len(code) == 5 else code.zfill(5)
            hits.append(self._commune_hit(found["commune"], motif, saisi))
        for level, table in (("EPCI", self.epci), ("DEPARTEMENT", self.departements),
                             ("REGION", self.regions)):
            # '1' for Ain/Guadeloupe: the same lost leading zero as for commune codes.
            candidates = {code, code.zfill(2)} if code.isdigit() else {code}
            for match in table.filter(pl.col("code").is_in(list(candidates)))["code"]:
                hits.append(self._hit(level, match))
        return hits

    @functools.cached_property
    def _name_index(self) -> pl.DataFrame:
        """Searchable names: territories, plus the delegated/associated communes and
        arrondissements (found under their own name, returned as today's commune)."""
        def rows(level: str, table: pl.DataFrame) -> pl.DataFrame:
            return table.select(niveau=pl.lit(level), code="code", nom="nom",
                                code_saisi=pl.lit(None, pl.Utf8), motif=pl.lit(None, pl.Utf8))

        attached = self.correspondances.drop_nulls("nom_saisi").select(
            niveau=pl.lit("COMMUNE"), code="commune", nom="nom_saisi", code_saisi="code_saisi",
            motif="motif",
        )
        same_code = self.communes.drop_nulls("nom_commune_deleguee").select(
            niveau=pl.lit("COMMUNE"), code="code", nom="nom_commune_deleguee",
            code_saisi="code", motif=pl.lit("commune_deleguee"),
        )
        index = pl.concat([rows("REGION", self.regions), rows("DEPARTEMENT", self.departements),
                           rows("EPCI", self.epci), rows("COMMUNE", self.communes), attached,
                           same_code])
        populations = pl.concat([
            self.denominators(level).select(niveau=pl.lit(level), code="code_territoire",
                                            population="population")
            for level in ("REGION", "DEPARTEMENT", "EPCI", "COMMUNE")
        ])
        return index.join(populations, on=["niveau", "code"], how="left").with_columns(
            cle=_search_key(pl.col("nom"))
        )

    def _lookup_names(self, query: str) -> list[dict]:
        key = pl.select(_search_key(pl.lit(str(query)))).item()
        if not key:
            return []
        index = self._name_index
        matches = (
            index.filter(pl.col("cle").str.contains(key, literal=True))
            .with_columns(exact=pl.col("cle") == key, direct=pl.col("motif").is_null())
            # Exact names first, then the biggest territories; a current name before an old one.
            .sort(["exact", "population", "direct"], descending=True, nulls_last=True)
            .unique(["niveau", "code"], keep="first", maintain_order=True)
            .head(MAX_RESULTATS)
        )
        return [
            self._commune_hit(row["code"], row["motif"], row["code_saisi"])
            if row["niveau"] == "COMMUNE" else self._hit(row["niveau"], row["code"])
            for row in matches.iter_rows(named=True)
        ]

    # ---------------------------------------------------------------- result rows
    def _base(self, level: str, code: str) -> dict:
        row = self.denominators(level).filter(pl.col("code_territoire") == code)
        if row.is_empty():  # defensive: a territory without any commune has no denominator
            return {"niveau": level, "code": code, "nom": None, "population": None,
                    "menages": None}
        row = row.row(0, named=True)
        return {"niveau": level, "code": code, "nom": row["nom_territoire"],
                "population": row["population"], "menages": row["menages"]}

    def _hit(self, level: str, code: str) -> dict:
        hit = self._base(level, code)
        if level == "EPCI":
            members = self.communes.filter(pl.col("epci") == code)
            hit["type"] = self.epci.filter(pl.col("code") == code)["type"].item()
            hit["nombre_communes"] = members.height
            hit["departements"] = sorted(members["departement"].unique().to_list())
        elif level == "DEPARTEMENT":
            region = self.departements.filter(pl.col("code") == code)["region"].item()
            hit["region"] = self._named(self.regions, region)
        return hit

    def _commune_hit(self, code: str, motif: str | None, code_saisi: str | None) -> dict:
        row = self._territory_map.filter(pl.col("commune") == code).row(0, named=True)
        hit = self._base("COMMUNE", code)
        hit["menages_anomalie"] = (
            self.communes.filter(pl.col("code") == code)["menages_anomalie"].item()
        )
        hit["epci"] = ({"code": row["code_epci"], "nom": row["nom_epci"]}
                       if row["code_epci"] else None)
        hit["departement"] = {"code": row["code_departement"], "nom": row["nom_departement"]}
        hit["region"] = {"code": row["code_region"], "nom": row["nom_region"]}
        if motif:
            hit["correspondance"] = {"code_saisi": code_saisi, "motif": motif}
        return hit

    @staticmethod
    def _named(table: pl.DataFrame, code: str) -> dict:
        nom = table.filter(pl.col("code") == code)["nom"]
        return {"code": code, "nom": nom.item() if len(nom) else None}


@functools.lru_cache(maxsize=1)
def _default_reference() -> TerritorialReference:
    return TerritorialReference._read(files("acterr_cli.territory") / "data")
