"""Embedded territorial reference (COG 2026).

Expected values were checked by hand in the source JSON of @etalab/decoupage-administratif 6.0.0,
in menages_2021_communes.csv.gz and, for Paris, Lyon and Marseille, in Insee's
base-cc-logement-2021 (column P21_RP, see territory/sources/menages_2021_arrondissements.csv).
Tests that re-read the shared sources skip when ../shared is absent: the package itself must not
need it.
"""

from __future__ import annotations

import json
import os
import tarfile
from importlib.resources import files
from pathlib import Path

import polars as pl
import pytest

from acterr_cli.errors import ConfigurationError
from acterr_cli.territory import build
from acterr_cli.territory.reference import LEVELS, STATUTS, TerritorialReference

SHARED = Path(os.environ.get("ACTERR_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))
DATA = Path(str(files("acterr_cli.territory") / "data"))
needs_shared = pytest.mark.skipif(
    not (SHARED / build.TARBALL).exists(), reason="données partagées absentes"
)


@pytest.fixture(scope="module")
def ref() -> TerritorialReference:
    return TerritorialReference.load()


@pytest.fixture(scope="module")
def source_communes() -> list[dict]:
    if not (SHARED / build.TARBALL).exists():
        pytest.skip("données partagées absentes")
    with tarfile.open(SHARED / build.TARBALL) as tar:
        return json.load(tar.extractfile("package/data/communes.json"))


# ----------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    ("saisie", "commune", "statut"),
    [
        ("01053", "01053", "ok"),
        ("1053", "01053", "zero_ajoute"),  # Bourg-en-Bresse typed as a number
        (" 1053.0", "01053", "zero_ajoute"),  # Excel float
        ("1015", "01015", "zero_ajoute"),  # current code even though also a delegated commune
        ("2a004", "2A004", "ok"),  # Ajaccio, lower case
        ("\u00a031 555\u202f", "31555", "ok"),  # French spreadsheet spaces
        ("75111", "75056", "arrondissement"),
        ("69381", "69123", "arrondissement"),
        ("13201", "13055", "arrondissement"),
        ("02311", "02589", "ancien_code"),  # merged into Pargny-et-Filain
        ("20004", "2A004", "ancien_code"),  # Corsica before 1976
        ("14011", "14581", "commune_deleguee"),  # Anctoville, in Aurseulles
        ("01120", "01262", "commune_associee"),  # Cordieux, in Montluel
        ("55273", "55386", "commune_associee"),  # COG status wins over etalab's anciensCodes
        ("99999", None, "inconnu"),
        ("6938", None, "inconnu"),
        ("", None, "vide"),
        ("  ", None, "vide"),
        (None, None, "vide"),
    ],
)
def test_normalize_one_code(ref, saisie, commune, statut):
    row = ref.normalize_communes(pl.Series([saisie], dtype=pl.Utf8)).row(0, named=True)
    assert (row["commune"], row["statut"]) == (commune, statut)
    assert row["commune_saisie"] == saisie


def test_normalize_keeps_length_order_and_schema(ref):
    raw = pl.Series(["31555", None, "1053", "xx", "75101"] * 1000)
    out = ref.normalize_communes(raw)
    assert out.columns == ["commune_saisie", "commune", "statut"]
    assert out.schema == {"commune_saisie": pl.Utf8, "commune": pl.Utf8, "statut": pl.Utf8}
    assert out.height == raw.len()
    assert out["commune"].head(5).to_list() == ["31555", None, "01053", None, "75056"]
    assert set(out["statut"].unique()) <= set(STATUTS)


def test_normalize_numeric_input(ref):
    assert ref.normalize_communes(pl.Series([1053, 31555]))["commune"].to_list() == [
        "01053", "31555"]
    assert ref.normalize_communes(pl.Series([1053.0]))["statut"].to_list() == ["zero_ajoute"]


def test_every_municipal_arrondissement_maps_to_its_city(ref):
    arr = ref.correspondances.filter(pl.col("motif") == "arrondissement")
    by_city = dict(arr.group_by("commune").len().iter_rows())
    assert by_city == {"75056": 20, "69123": 9, "13055": 16}
    assert arr.filter(pl.col("commune") == "75056")["code_saisi"].str.starts_with("751").all()


def test_old_codes_and_attached_communes_map_to_current(ref, source_communes):
    current = {r["code"] for r in source_communes if r["type"] == "commune-actuelle"}
    expected = {}
    for r in source_communes:
        for old in r.get("anciensCodes", []):
            expected.setdefault(old, r["code"])
    for r in source_communes:  # COG status of delegated/associated communes wins
        if r["type"] in ("commune-deleguee", "commune-associee"):
            expected[r["code"]] = r["chefLieu"]
        if r["type"] == "arrondissement-municipal":
            expected[r["code"]] = r["commune"]
    expected = {k: v for k, v in expected.items() if k not in current}
    got = ref.normalize_communes(pl.Series(list(expected)))
    assert got["commune"].to_list() == list(expected.values())
    assert len(ref.correspondances) == len(expected)
    assert not ref.correspondances["code_saisi"].is_in(ref.communes["code"].implode()).any()


# ------------------------------------------------------------------------ levels
def test_counts(ref):
    assert ref.communes.height == 34969
    assert ref.communes["code"].n_unique() == 34969
    assert ref.epci.height == 1255
    assert ref.denominators("EPCI").height == 1255
    assert ref.departements.height == 109 and ref.regions.height == 26


def test_territory_map_toulouse(ref):
    row = ref.territory_map().filter(pl.col("commune") == "31555").row(0, named=True)
    assert row == {
        "commune": "31555", "code_commune": "31555", "nom_commune": "Toulouse",
        "code_epci": "243100518", "nom_epci": "Toulouse Métropole",
        "code_departement": "31", "nom_departement": "Haute-Garonne",
        "code_region": "76", "nom_region": "Occitanie",
        "code_france": "FR", "nom_france": "France",
    }


def test_communes_without_epci(ref):
    tm = ref.territory_map()
    assert tm["code_epci"].null_count() == 98
    islands = tm.filter(pl.col("code_epci").is_null() & pl.col("code_france").is_not_null())
    assert sorted(islands["commune"]) == ["22016", "29083", "29155", "85113"]  # Bréhat, Sein...


def test_france_is_metropole_and_drom(ref):
    outside = ref.territory_map().filter(pl.col("code_france").is_null())["commune"]
    assert outside.len() == 94  # overseas collectivities (COM)
    assert set(outside.str.slice(0, 3)) == {"975", "977", "978", "984", "986", "987", "988",
                                            "989"}
    france = ref.denominators("FRANCE").row(0, named=True)
    in_france = ref.communes.filter(pl.col("zone").is_in(["metro", "drom"]))
    assert france["code_territoire"] == "FR"
    assert france["population"] == in_france["population"].sum()


def test_level_columns(ref):
    assert ref.level_columns("epci") == ("code_epci", "nom_epci")
    assert [ref.level_columns(lv)[0] for lv in LEVELS] == [
        "code_commune", "code_epci", "code_departement", "code_region", "code_france"]
    with pytest.raises(ValueError):
        ref.level_columns("QPV")


# ------------------------------------------------------------------ denominators
def test_population_sums_match_source_json(ref, source_communes):
    current = [r for r in source_communes if r["type"] == "commune-actuelle"]
    for level, key in (("DEPARTEMENT", "departement"), ("REGION", "region")):
        expected: dict[str, int] = {}
        for r in current:
            expected[r[key]] = expected.get(r[key], 0) + r.get("population", 0)
        got = dict(ref.denominators(level).select("code_territoire", pl.col("population")
                                                  .fill_null(0)).iter_rows())
        assert got == expected
    assert dict(ref.denominators("DEPARTEMENT").select("code_territoire", "population")
                .iter_rows())["31"] == 1471468


def test_epci_population_is_sum_of_members(ref):
    toulouse = ref.denominators("EPCI").filter(pl.col("code_territoire") == "243100518")
    members = ref.communes.filter(pl.col("epci") == "243100518")
    assert members.height == 37
    assert toulouse["population"].item() == members["population"].sum() == 841524
    assert ref.epci.filter(pl.col("code") == "243100518")["population"].item() == 841524


def test_households_from_source(ref):
    menages = dict(ref.communes.select("code", "menages").iter_rows())
    assert menages["31555"] == 275369  # Toulouse, one row in the file
    assert menages["02589"] == 101 + 50  # Pargny-et-Filain + old commune 02311
    assert menages["14581"] == 738  # Aurseulles, keyed by its old chef-lieu code 14011
    assert menages["55039"] == 0  # village "mort pour la France": 0 is a real value


# Insee RP 2021, P21_RP summed over the arrondissements and rounded once (each city's own P21_RP
# in the same file: 1 128 250.87, 270 975.48, 410 236.60).
CITY_HOUSEHOLDS = {"75056": 1_128_251, "69123": 270_975, "13055": 410_237}
GRAND_PARIS, GRAND_LYON, AIX_MARSEILLE = "200054781", "200046977", "200054807"


def test_paris_lyon_marseille_households_from_their_arrondissements(ref):
    cities = ref.communes.filter(pl.col("code").is_in(list(CITY_HOUSEHOLDS)))
    assert dict(cities.select("code", "menages").iter_rows()) == CITY_HOUSEHOLDS
    assert cities["menages_anomalie"].null_count() == 3
    assert ref.meta["menages"]["paris_lyon_marseille"]["menages"] == CITY_HOUSEHOLDS
    assert build.ARRONDISSEMENTS_CSV.name in ref.meta["sources"]
    (paris,) = ref.lookup("75056")
    assert paris["menages"] == 1_128_251 and paris["menages_anomalie"] is None
    if (SHARED / build.MENAGES_CSV).exists():  # why the arrondissements file exists
        rows = build.read_menages(SHARED / build.MENAGES_CSV)
        assert not rows["insee_com"].str.contains(r"^(75|6938|132[01])").any()


def test_arrondissement_households_file_covers_the_cog_and_cites_its_source(ref):
    arr = build.read_arrondissement_households(build.ARRONDISSEMENTS_CSV)
    cog = ref.correspondances.filter(pl.col("motif") == "arrondissement")
    assert dict(arr.select("code", "commune").iter_rows()) == dict(
        cog.select("code_saisi", "commune").iter_rows())
    assert arr.height == 45 and arr["p21_rp"].is_not_null().all()
    assert dict(arr.select("code", "p21_rp").iter_rows())["75115"] == 123063.9436
    sums = arr.group_by("commune").agg(pl.sum("p21_rp"))
    assert {c: round(v) for c, v in sums.iter_rows()} == CITY_HOUSEHOLDS
    header = build.ARRONDISSEMENTS_CSV.read_text(encoding="utf-8")
    for cited in ("Insee", "recensement de la population 2021", "exploitation principale",
                  "base-cc-logement-2021", "P21_RP", "ribokuu260/Cityfighter",
                  "29d749ef715a3cecc2aba100f24c33d382fa7a75", "Licence Ouverte",
                  "weighted estimate"):
        assert cited in header, cited
    assert not (DATA / build.ARRONDISSEMENTS_CSV.name).exists()  # build input, not runtime data


def test_city_households_refuse_an_incomplete_or_duplicated_source(ref):
    arr = build.read_arrondissement_households(build.ARRONDISSEMENTS_CSV)
    communes = ref.communes.select("code", "population")
    no_source = pl.DataFrame(schema={"insee_com": pl.Utf8, "population_2021": pl.Int64,
                                     "menages_2021": pl.Int64})
    got = build.city_households(arr, ref.correspondances, no_source, communes)
    assert dict(got.iter_rows()) == CITY_HOUSEHOLDS
    with pytest.raises(SystemExit, match="75120"):
        build.city_households(arr.filter(pl.col("code") != "75120"), ref.correspondances,
                              no_source, communes)
    with pytest.raises(SystemExit, match="75101"):  # filed under the wrong city
        build.city_households(
            arr.with_columns(commune=pl.when(pl.col("code") == "75101").then(pl.lit("69123"))
                             .otherwise("commune")),
            ref.correspondances, no_source, communes)
    also_in_source = pl.DataFrame({"insee_com": ["75056"], "population_2021": [2_100_000],
                                   "menages_2021": [1_100_000]})
    with pytest.raises(SystemExit, match="déjà présents"):
        build.city_households(arr, ref.correspondances, also_in_source, communes)


def test_metropoles_of_the_three_cities_have_households(ref):
    epci = ref.denominators("EPCI").filter(
        pl.col("code_territoire").is_in([GRAND_PARIS, GRAND_LYON, AIX_MARSEILLE]))
    assert epci["menages"].null_count() == 0
    assert (epci["couverture_menages"] == 1.0).all()
    for code, menages in epci.select("code_territoire", "menages").iter_rows():
        assert menages == ref.communes.filter(pl.col("epci") == code)["menages"].sum()
    grand_paris = dict(epci.select("code_territoire", "menages").iter_rows())[GRAND_PARIS]
    assert grand_paris == 3_233_271
    departements = dict(ref.denominators("DEPARTEMENT").select("code_territoire", "menages")
                        .iter_rows())
    assert departements["75"] == 1_128_251
    assert departements["69"] is not None and departements["13"] is not None


def test_ter02_computable_for_a_territory_including_paris(tmp_path):
    """Dwellings typed by arrondissement roll up to Paris, whose households now count."""
    from builders import ORG_A, write_questionnaire

    from acterr_cli import api

    tables = {"Patrimoine": [
        {"commune": "75115", "logements": 600, "logements_qpv": 0, "surface_m2": 39000},
        {"commune": "75120", "logements": 400, "logements_qpv": 200, "surface_m2": 26000},
        {"commune": "93066", "logements": 250, "logements_qpv": 100, "surface_m2": 16000},
    ]}
    path = write_questionnaire(tmp_path / "paris.xlsx", {**ORG_A, "logements_fin": 1250}, tables)
    espace = tmp_path / "espace"
    report = api.import_paths(espace, [path])
    assert not report.refused, report.to_dict()
    expected = {"EPCI": (GRAND_PARIS, 100 * 1250 / 3_233_271),
                "DEPARTEMENT": ("75", 100 * 1000 / 1_128_251),
                "COMMUNE": ("75056", 100 * 1000 / 1_128_251)}
    for level, (territoire, valeur) in expected.items():
        results = api.compute_level(espace, level, store=False).results
        row = results.filter(
            (pl.col("indicateur") == "TER-02") & (pl.col("code_territoire") == territoire)
            & pl.col("siren").is_null()
        ).row(0, named=True)
        assert row["valeur"] == pytest.approx(valeur), (level, row)


def test_arrondissement_households_are_summed(ref):
    """Aggregation rule, on a file that does carry arrondissements."""
    arrondissements = [f"751{i:02d}" for i in range(1, 21)]
    menages = pl.DataFrame({
        "insee_com": [*arrondissements, "02589", "02311"],
        "population_2021": [100_000] * 20 + [250, 119],
        "menages_2021": [50_000] * 20 + [101, 50],
    })
    communes = ref.communes.select("code", "population").filter(
        pl.col("code").is_in(["75056", "02589"]))
    got = build.aggregate_households(menages, communes, ref.correspondances)
    assert dict(got.select("code", "menages").iter_rows()) == {
        "75056": 1_000_000, "02589": 151}


def test_households_incoherent_or_unsurveyed_are_null(ref):
    anomalies = dict(ref.communes.select("code", "menages_anomalie").iter_rows())
    assert anomalies["97611"] == "non_recensee"  # Mamoudzou: Mayotte not in the 2021 extract
    assert anomalies["85165"] == "incoherente"  # 0 households for 1,259 inhabitants
    assert anomalies["15141"] == "perimetre_different"
    assert ref.communes.filter(pl.col("menages_anomalie").is_not_null())["menages"] \
        .null_count() == ref.communes["menages_anomalie"].drop_nulls().len()


def test_territory_households_null_unless_complete(ref):
    regions = ref.denominators("REGION").filter(pl.col("code_territoire") == "84")
    regions = regions.row(0, named=True)
    assert regions["menages"] is None  # Auvergne-Rhône-Alpes without 5 Cantal communes
    assert 0 < regions["couverture_menages"] < 1
    idf = ref.denominators("REGION").filter(pl.col("code_territoire") == "11")
    assert idf["menages"].item() == ref.communes.filter(pl.col("region") == "11")["menages"].sum()
    assert idf["couverture_menages"].item() == 1.0
    ain = ref.denominators("DEPARTEMENT").filter(pl.col("code_territoire") == "01")
    assert ain["menages"].item() == ref.communes.filter(
        pl.col("departement") == "01")["menages"].sum()
    assert ain["couverture_menages"].item() == 1.0


def test_denominator_columns(ref):
    for level in LEVELS:
        df = ref.denominators(level)
        assert df.columns[:4] == ["code_territoire", "nom_territoire", "population", "menages"]
        assert df["code_territoire"].null_count() == 0
        assert df["code_territoire"].n_unique() == df.height


# ------------------------------------------------------------------------ lookup
def test_lookup_name_toulouse(ref):
    hits = ref.lookup("toulouse")
    first = hits[0]
    assert (first["niveau"], first["code"], first["nom"]) == ("COMMUNE", "31555", "Toulouse")
    assert first["epci"] == {"code": "243100518", "nom": "Toulouse Métropole"}
    assert first["departement"] == {"code": "31", "nom": "Haute-Garonne"}
    assert first["region"] == {"code": "76", "nom": "Occitanie"}
    assert first["population"] == 514819
    assert any(h["niveau"] == "EPCI" and h["code"] == "243100518" for h in hits)
    assert len(hits) <= 20


def test_lookup_epci_siren(ref):
    (hit,) = ref.lookup("243100518")
    assert hit["niveau"] == "EPCI" and hit["nom"] == "Toulouse Métropole"
    assert hit["type"] == "METRO" and hit["nombre_communes"] == 37
    assert hit["departements"] == ["31"]


def test_lookup_old_code_reports_correspondence(ref):
    (hit,) = ref.lookup("2311")
    assert hit["code"] == "02589"
    assert hit["correspondance"] == {"code_saisi": "02311", "motif": "ancien_code"}
    (paris,) = ref.lookup("75111")
    assert paris["code"] == "75056" and paris["correspondance"]["motif"] == "arrondissement"
    assert "correspondance" not in ref.lookup("31555")[0]


def test_lookup_departement_and_region_codes(ref):
    assert [(h["niveau"], h["nom"]) for h in ref.lookup("2A")] == [
        ("DEPARTEMENT", "Corse-du-Sud")]
    assert [(h["niveau"], h["nom"]) for h in ref.lookup("971")] == [
        ("DEPARTEMENT", "Guadeloupe")]
    assert [(h["niveau"], h["code"]) for h in ref.lookup("11")] == [
        ("DEPARTEMENT", "11"), ("REGION", "11")]
    assert ref.lookup("31")[0]["region"] == {"code": "76", "nom": "Occitanie"}


def test_lookup_names_accents_and_old_names(ref):
    (sein,) = ref.lookup("ile de sein")
    assert sein["code"] == "29083" and sein["epci"] is None
    (valserhone,) = ref.lookup("Bellegarde-sur-Valserine")  # delegated, same code as today
    assert valserhone["code"] == "01033"
    assert ref.lookup("zzz introuvable") == []
    assert len(ref.lookup("saint")) == 20


# ------------------------------------------------------------- loading and data
def test_default_reference_is_cached(ref):
    assert TerritorialReference.load() is ref
    assert ref.millesime.startswith("COG 2026")
    assert ref.meta["population"]["annee"] == 2023
    assert ref.meta["menages"]["annee"] == 2021


def test_load_other_directory(tmp_path):
    with pytest.raises(ConfigurationError):
        TerritorialReference.load(tmp_path)
    for f in DATA.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    assert TerritorialReference.load(tmp_path).communes.height == 34969


def test_shipped_data_is_small():
    assert sum(f.stat().st_size for f in DATA.iterdir()) < 1_000_000


@needs_shared
def test_build_is_reproducible_and_shipped_data_up_to_date(tmp_path):
    build.build(SHARED, tmp_path)
    for f in tmp_path.iterdir():
        assert f.read_bytes() == (DATA / f.name).read_bytes(), f.name
