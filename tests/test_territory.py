"""Embedded territorial reference (COG 2026).

Expected values were checked by hand in the source JSON of @etalab/decoupage-administratif 6.0.0
and in menages_2021_communes.csv.gz. Tests that re-read those sources skip when ../shared is
absent: the package itself must not need it.
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


def test_paris_lyon_marseille_have_no_households_in_source(ref):
    """The shared file has neither the three cities nor their arrondissements: null, not 0."""
    cities = ref.communes.filter(pl.col("code").is_in(["75056", "69123", "13055"]))
    assert cities["menages"].null_count() == 3
    assert set(cities["menages_anomalie"]) == {"absente"}
    if (SHARED / build.MENAGES_CSV).exists():
        rows = build.read_menages(SHARED / build.MENAGES_CSV)
        assert not rows["insee_com"].str.contains(r"^(75|6938|132[01])").any()


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
    regions = ref.denominators("REGION").filter(pl.col("code_territoire") == "11")
    regions = regions.row(0, named=True)
    assert regions["menages"] is None  # Île-de-France without Paris would be wrong
    assert 0 < regions["couverture_menages"] < 1
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
