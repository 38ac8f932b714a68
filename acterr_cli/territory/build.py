"""Build the embedded territorial reference (COG 2026) from the shared open data.

Maintainers only (``make reference``)::

    python -m acterr_cli.territory.build --source ../shared/data --sortie acterr_cli/territory/data

Inputs (see ``data/SOURCES.md``): the npm tarball of ``@etalab/decoupage-administratif`` 6.0.0,
read in place with ``tarfile``, and the INSEE 2021 households per commune, both in ``--source``;
plus the 2021 households of the arrondissements of Paris, Lyon and Marseille, which that file
lacks, shipped with this script (``sources/menages_2021_arrondissements.csv``). The output is
deterministic: same inputs, same rows in the same order, and ``meta.json`` carries the date of
the data (the tarball's own timestamps), never the time of the build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

TARBALL = "etalab-decoupage-administratif-6.0.0.tgz"
MENAGES_CSV = "menages_2021_communes.csv.gz"
# Build input kept beside this script (the shared file has neither the three cities nor their
# arrondissements); its header cites the source. Not part of the runtime data (data/).
ARRONDISSEMENTS_CSV = Path(__file__).parent / "sources" / "menages_2021_arrondissements.csv"
MILLESIME = "COG 2026 — @etalab/decoupage-administratif 6.0.0"
FORMAT = 1  # bump when the layout of the files changes; reference.py checks it

ACTUELLE = "commune-actuelle"
# COG type of a non-current record → correspondence motive, with a priority: the COG's own
# status of delegated/associated communes and arrondissements comes straight from INSEE, whereas
# etalab's `anciensCodes` are a reconstruction of history. Two codes disagree in 2026 (55273,
# 60455): the COG status wins.
MOTIFS = {
    "arrondissement-municipal": ("arrondissement", 0),
    "commune-deleguee": ("commune_deleguee", 1),
    "commune-associee": ("commune_associee", 1),
}
ANCIEN_CODE = ("ancien_code", 2)

# Thresholds to reject households whose source perimeter clearly differs from today's commune
# (communes restored since 2021, e.g. 15141 still counting four communes restored in 2025).
ECART_PERIMETRE_RELATIF = 0.5
ECART_PERIMETRE_ABSOLU = 500


def read_tarball(path: Path) -> tuple[dict[str, list[dict]], str]:
    """JSON files of the npm package, and the date of the data (latest member timestamp)."""
    names = ("communes", "epci", "departements", "regions")
    with tarfile.open(path, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        data = {n: json.load(tar.extractfile(members[f"package/data/{n}.json"])) for n in names}
        mtime = max(members[f"package/data/{n}.json"].mtime for n in names)
    return data, datetime.fromtimestamp(mtime, timezone.utc).date().isoformat()


def communes_frame(records: list[dict]) -> pl.DataFrame:
    """All COG records (current, delegated, associated, arrondissements) with the fields we use."""
    fields = {
        "code": pl.Utf8, "nom": pl.Utf8, "type": pl.Utf8, "zone": pl.Utf8,
        "departement": pl.Utf8, "region": pl.Utf8, "population": pl.Int64,
        "chefLieu": pl.Utf8, "commune": pl.Utf8, "anciensCodes": pl.List(pl.Utf8),
    }
    columns = {f: [r.get(f) for r in records] for f in fields}
    return pl.DataFrame(columns, schema=fields)


def build_correspondances(raw: pl.DataFrame) -> pl.DataFrame:
    """Every code a user may type that is not a current commune → its current commune."""
    current = raw.filter(pl.col("type") == ACTUELLE)
    attached = raw.filter(pl.col("type").is_in(list(MOTIFS))).select(
        code_saisi="code",
        commune=pl.coalesce("commune", "chefLieu"),
        motif=pl.col("type").replace_strict({k: v[0] for k, v in MOTIFS.items()}),
        nom_saisi="nom",
        priorite=pl.col("type").replace_strict({k: v[1] for k, v in MOTIFS.items()}),
    )
    old = current.select(code_saisi="anciensCodes", commune="code").explode("code_saisi").select(
        "code_saisi", "commune", motif=pl.lit(ANCIEN_CODE[0]), nom_saisi=pl.lit(None, pl.Utf8),
        priorite=pl.lit(ANCIEN_CODE[1], pl.Int64),
    )
    return (
        pl.concat([attached, old])
        .drop_nulls("code_saisi")
        # A code that is a current commune means that commune: never redirect it.
        .filter(~pl.col("code_saisi").is_in(current["code"].implode()))
        .sort("code_saisi", "priorite")
        .unique("code_saisi", keep="first", maintain_order=True)
        .drop("priorite")
    )


def epci_members(epci_records: list[dict]) -> pl.DataFrame:
    """Inverted EPCI member lists: communes.json carries no EPCI field."""
    rows = [(m["code"], e["code"]) for e in epci_records for m in e["membres"]]
    return pl.DataFrame(rows, schema={"code": pl.Utf8, "epci": pl.Utf8}, orient="row")


def read_menages(path: Path) -> pl.DataFrame:
    numbers = ("population_2021", "menages_2021")
    return pl.read_csv(path, infer_schema=False).select(
        "insee_com", *(pl.col(c).cast(pl.Int64) for c in numbers)
    )


def aggregate_households(
    menages: pl.DataFrame, communes: pl.DataFrame, correspondances: pl.DataFrame
) -> pl.DataFrame:
    """Households per current commune: code, menages (null when unusable), menages_anomalie.

    Rows keyed by arrondissement or by an old code (communes merged since 2021) are summed into
    today's commune. Households are left null, with the reason, rather than guessed when the
    source has no row ('absente'), did not survey the commune ('non_recensee': Mayotte, 0
    inhabitants in 2021), contradicts itself ('incoherente': households with no inhabitants or
    more households than inhabitants) or covers a clearly different perimeter
    ('perimetre_different').
    """
    code_map = pl.concat([
        communes.select(code_saisi="code", commune="code"),
        correspondances.select("code_saisi", "commune"),
    ])
    per_commune = (
        menages.join(code_map, left_on="insee_com", right_on="code_saisi", how="left")
        .with_columns(commune=pl.coalesce("commune", "insee_com"))
        .group_by("commune")
        .agg(
            pl.sum("population_2021", "menages_2021"),
            incoherent=((pl.col("menages_2021") == 0) & (pl.col("population_2021") > 0)).any()
            | (pl.col("menages_2021") > pl.col("population_2021")).any(),
        )
    )
    joined = communes.select("code", "population").join(
        per_commune, left_on="code", right_on="commune", how="left"
    )
    ecart = (pl.col("population_2021") - pl.col("population")).abs()
    anomalie = (
        pl.when(pl.col("menages_2021").is_null()).then(pl.lit("absente"))
        .when((pl.col("population_2021") == 0) & (pl.col("population") > 0))
        .then(pl.lit("non_recensee"))
        .when(pl.col("incoherent")).then(pl.lit("incoherente"))
        .when(
            (ecart > ECART_PERIMETRE_ABSOLU)
            & (ecart > ECART_PERIMETRE_RELATIF * pl.col("population"))
        )
        .then(pl.lit("perimetre_different"))
    )
    return joined.select(
        "code",
        menages=pl.when(anomalie.is_null()).then(pl.col("menages_2021")),
        menages_anomalie=anomalie,
    )


def read_arrondissement_households(path: Path) -> pl.DataFrame:
    """code (arrondissement), commune (its city), p21_rp (weighted census estimate)."""
    return pl.read_csv(path, comment_prefix="#",
                       schema={"code": pl.Utf8, "commune": pl.Utf8, "p21_rp": pl.Float64})


def city_households(arrondissements: pl.DataFrame, correspondances: pl.DataFrame,
                    menages: pl.DataFrame, communes: pl.DataFrame) -> pl.DataFrame:
    """Households of the cities split into arrondissements (Paris, Lyon, Marseille): code, menages.

    The arrondissements are not communes of the reference (they are correspondences to their
    city), so their households roll up: the sum of the weighted estimates, rounded once to the
    unit (Paris 1 128 251 rather than the sum of 20 rounded values). The file must cover exactly
    the COG's arrondissements, each under its own city, and the communes file must not carry
    them too (two sources for one figure): otherwise the build stops.
    """
    cog = correspondances.filter(pl.col("motif") == "arrondissement").select(
        code="code_saisi", commune_cog="commune"
    )
    problems = []
    if arrondissements["code"].n_unique() != arrondissements.height:
        problems.append("arrondissement en double")
    if arrondissements["p21_rp"].is_null().any() or (arrondissements["p21_rp"] < 0).any():
        problems.append("valeur vide ou négative")
    joined = arrondissements.join(cog, on="code", how="full", coalesce=True)
    wrong = joined.filter(pl.col("commune").ne_missing(pl.col("commune_cog")))
    if wrong.height:
        problems.append("arrondissements absents, en trop ou mal rattachés : "
                        + ", ".join(sorted(wrong["code"].to_list())))
    cities = cog["commune_cog"].unique()
    both = menages.filter(
        pl.col("insee_com").is_in(cities.implode()) | pl.col("insee_com").is_in(cog["code"].implode())
    )
    if both.height:
        problems.append(f"déjà présents dans {MENAGES_CSV} : "
                        + ", ".join(sorted(both["insee_com"].to_list())))
    sums = arrondissements.group_by("commune").agg(pl.sum("p21_rp")).select(
        code="commune", menages=(pl.col("p21_rp") + 0.5).floor().cast(pl.Int64)
    ).sort("code")
    too_many = sums.join(communes, on="code").filter(pl.col("menages") > pl.col("population"))
    if too_many.height:
        problems.append("plus de ménages que d'habitants : " + ", ".join(too_many["code"]))
    if problems:
        raise SystemExit("Ménages des arrondissements (" + ARRONDISSEMENTS_CSV.name + ") "
                         "inutilisables : " + " ; ".join(problems))
    return sums


def with_city_households(households: pl.DataFrame, cities: pl.DataFrame) -> pl.DataFrame:
    """Households per commune with the three cities' figures in place of their 'absente'."""
    joined = households.join(cities.rename({"menages": "_villes"}), on="code", how="left")
    return joined.select(
        "code",
        menages=pl.coalesce("_villes", "menages"),
        menages_anomalie=pl.when(pl.col("_villes").is_null()).then("menages_anomalie"),
    )


def unknown_menages_codes(menages: pl.DataFrame, communes: pl.DataFrame,
                          correspondances: pl.DataFrame) -> list[str]:
    known = pl.concat([communes["code"], correspondances["code_saisi"]])
    return menages.filter(~pl.col("insee_com").is_in(known.implode()))["insee_com"].to_list()


def delegated_names(raw: pl.DataFrame) -> pl.DataFrame:
    """Name of the delegated commune that shares its code with today's commune (584 cases,
    e.g. 01033 Bellegarde-sur-Valserine in Valserhône): absent from the correspondences since
    the code means today's commune, but still a name users search for."""
    current = raw.filter(pl.col("type") == ACTUELLE)["code"].implode()
    return raw.filter(
        (pl.col("type") == "commune-deleguee") & pl.col("code").is_in(current)
        & (pl.col("chefLieu") == pl.col("code"))
    ).select("code", nom_commune_deleguee="nom")


def build_communes(raw: pl.DataFrame, members: pl.DataFrame,
                   households: pl.DataFrame) -> pl.DataFrame:
    return (
        raw.filter(pl.col("type") == ACTUELLE)
        .select("code", "nom", "departement", "region", "population", "type", "zone")
        .join(members, on="code", how="left")
        .join(households, on="code", how="left")
        .join(delegated_names(raw), on="code", how="left")
        .select("code", "nom", "departement", "region", "epci", "population", "menages",
                "menages_anomalie", "type", "zone", "nom_commune_deleguee")
        .sort("code")
    )


def build_epci(epci_records: list[dict], communes: pl.DataFrame) -> pl.DataFrame:
    """EPCI with population = sum of member communes (the commune source), not the DGCL figure
    in epci.json, so that every level uses the same population source."""
    base = pl.DataFrame(
        [(e["code"], e["nom"], e["type"], e["modeFinancement"]) for e in epci_records],
        schema={"code": pl.Utf8, "nom": pl.Utf8, "type": pl.Utf8, "mode_financement": pl.Utf8},
        orient="row",
    )
    sums = communes.group_by("epci").agg(population=pl.sum("population"))
    return base.join(sums, left_on="code", right_on="epci", how="left").sort("code")


def simple_frame(records: list[dict], fields: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame({f: [r[f] for r in records] for f in fields},
                        schema={f: pl.Utf8 for f in fields}).sort("code")


def check(communes: pl.DataFrame, epci: pl.DataFrame, correspondances: pl.DataFrame,
          members: pl.DataFrame, departements: pl.DataFrame, regions: pl.DataFrame) -> None:
    """Fail the build loudly rather than ship an inconsistent reference."""
    problems = []
    if communes["code"].n_unique() != communes.height:
        problems.append("codes de communes actuelles en double")
    if members["code"].n_unique() != members.height:
        problems.append("commune membre de plusieurs EPCI")
    if not members["code"].is_in(communes["code"].implode()).all():
        problems.append("membre d'EPCI qui n'est pas une commune actuelle")
    if not correspondances["commune"].is_in(communes["code"].implode()).all():
        problems.append("correspondance vers une commune qui n'existe plus")
    if not communes["departement"].is_in(departements["code"].implode()).all():
        problems.append("commune rattachée à un département inconnu")
    if not communes["region"].is_in(regions["code"].implode()).all():
        problems.append("commune rattachée à une région inconnue")
    if epci["population"].null_count():
        problems.append("EPCI sans commune membre")
    if problems:
        raise SystemExit("Référentiel incohérent : " + " ; ".join(problems))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_meta(source: Path, date_donnees: str, frames: dict[str, pl.DataFrame],
               unknown: list[str], arrondissements: Path, cities: pl.DataFrame) -> dict:
    communes = frames["communes"]
    anomalies = communes["menages_anomalie"].drop_nulls().value_counts(sort=True)
    return {
        "format": FORMAT,
        "millesime": MILLESIME,
        "cog": 2026,
        "date_donnees": date_donnees,
        "population": {
            "source": "INSEE, populations légales millésime 2023 en vigueur au 1er janvier 2026, "
                      "population municipale (via @etalab/decoupage-administratif 6.0.0)",
            "annee": 2023,
            "exceptions": "Mayotte : recensement 2017 ; collectivités d'outre-mer : derniers "
                          "chiffres publiés par l'INSEE ; 6 communes inhabitées (TAAF, "
                          "Clipperton) sans population",
            "epci_departement_region_france": "somme des populations municipales des communes "
                                              "(même source à tous les niveaux ; la population "
                                              "DGCL de epci.json n'est pas utilisée)",
        },
        "menages": {
            "source": "INSEE, recensement de la population 2021 (RP 2021), ménages par commune "
                      "(extraction rcarlier/datas.fun)",
            "annee": 2021,
            "rattachement": "lignes par ancien code ou arrondissement sommées dans la commune "
                            "actuelle ; ménages laissés vides quand la source est absente ou "
                            "incohérente (voir menages_anomalie)",
            "paris_lyon_marseille": {
                "source": "Insee, recensement de la population 2021, exploitation principale, "
                          "base du comparateur de territoires – logement (base-cc-logement-2021), "
                          "colonne P21_RP (résidences principales = ménages), par arrondissement "
                          "municipal ; relais : dépôt GitHub ribokuu260/Cityfighter, fichier "
                          "base-cc-logement-2021.CSV, commit "
                          "29d749ef715a3cecc2aba100f24c33d382fa7a75 ; Licence Ouverte 2.0 (Etalab)",
                "methode": "somme des estimations pondérées des arrondissements, arrondie à "
                           "l'unité",
                "menages": dict(cities.select("code", "menages").iter_rows()),
            },
            "anomalies": dict(zip(anomalies["menages_anomalie"], anomalies["count"], strict=True)),
            "codes_source_inconnus": unknown,
        },
        "france": "niveau FRANCE = métropole + DROM (zones metro et drom) ; les collectivités "
                  "d'outre-mer (zone com) n'y sont pas comptées",
        "sources": {
            TARBALL: sha256(source / TARBALL),
            MENAGES_CSV: sha256(source / MENAGES_CSV),
            arrondissements.name: sha256(arrondissements),
        },
        "effectifs": {
            "communes": communes.height,
            "communes_sans_epci": communes["epci"].null_count(),
            "communes_sans_population": communes["population"].null_count(),
            "communes_sans_menages": communes["menages"].null_count(),
            **{name: df.height for name, df in frames.items() if name != "communes"},
        },
    }


def build(source: Path, sortie: Path, arrondissements: Path = ARRONDISSEMENTS_CSV,
          contours: Path | None = None) -> dict:
    """Write the reference tables into ``sortie`` and, when ``contours`` is given, the map
    outlines there (``build_outlines``, about a minute and 1 GB of memory)."""
    data, date_donnees = read_tarball(source / TARBALL)
    raw = communes_frame(data["communes"])
    current = raw.filter(pl.col("type") == ACTUELLE).select("code", "population")
    correspondances = build_correspondances(raw)
    menages = read_menages(source / MENAGES_CSV)
    cities = city_households(read_arrondissement_households(arrondissements), correspondances,
                             menages, current)
    households = with_city_households(
        aggregate_households(menages, current, correspondances), cities
    )
    members = epci_members(data["epci"])
    communes = build_communes(raw, members, households)
    frames = {
        "communes": communes,
        "epci": build_epci(data["epci"], communes),
        "departements": simple_frame(data["departements"], ("code", "nom", "region")),
        "regions": simple_frame(data["regions"], ("code", "nom")),
        "correspondances": correspondances.sort("code_saisi"),
    }
    check(communes, frames["epci"], correspondances, members,
          frames["departements"], frames["regions"])
    sortie.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(sortie / f"{name}.parquet", compression="zstd", compression_level=19)
    meta = build_meta(source, date_donnees, frames,
                      unknown_menages_codes(menages, current, correspondances),
                      arrondissements, cities)
    (sortie / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if contours is not None:
        from acterr_cli.territory.build_outlines import build_outlines  # needs shapely (dev)

        meta["contours"] = build_outlines(source, contours, communes, correspondances)["niveaux"]
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Construit le référentiel territorial embarqué."
    )
    parser.add_argument("--source", type=Path, required=True,
                        help="dossier contenant le tarball etalab et les ménages 2021")
    parser.add_argument("--sortie", type=Path, required=True, help="dossier des fichiers produits")
    parser.add_argument("--contours", type=Path,
                        help="dossier des contours cartographiques (lit aussi "
                             "france-geojson-2018.tgz dans --source ; shapely requis)")
    args = parser.parse_args(argv)
    meta = build(args.source, args.sortie, contours=args.contours)
    print(f"{meta['millesime']} : {json.dumps(meta['effectifs'], ensure_ascii=False)}")
    if "contours" in meta:
        print(f"Contours : {json.dumps(meta['contours'], ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
