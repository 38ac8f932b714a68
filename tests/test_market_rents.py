"""SOC-01 and SOC-03 against the Carte des loyers, by hand, on organisation A of builders.py.

Toulouse (800 dwellings, 50 houses, 52 000 m², 4 000 000 € of rents) has market rents:
apartments 13,0 €/m² (interval 12,0–14,0), houses 12,0 (11,0–13,5); Blagnac has none: forfait.
"""

import math

import builders
import pytest
from test_indicators import pick

from acterr_cli import api

HEADER = "id_zone;INSEE_C;LIBGEO;EPCI;DEP;REG;loypredm2;lwr.IPm2;upr.IPm2;TYPPRED;nbobs_com;nbobs_mail;R2_adj\n"


def rents_file(folder, name, rows):
    path = folder / name
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode("cp1252"))
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loyers")
    root = folder / "espace"
    api.import_paths(root, [builders.write_org_a(folder)])
    api.import_paths(root, [rents_file(folder, "appartements.csv", [
        "1;31555;Toulouse;243100518;31;76;13,0;12,0;14,0;commune;900;2000;0,7",
        "2;75111;Paris 11e Arrondissement;200054781;75;11;30,0;28,0;32,0;commune;900;2000;0,7",
    ])], "loyers", exercice=2023, logement="appartement")
    api.import_paths(root, [rents_file(folder, "maisons.csv", ["1;31555;Toulouse;243100518;31;76;12,0;11,0;13,5;commune;90;200;0,6"])],
                     "loyers", exercice=2023, logement="maison")
    return api.compute_level(root, "EPCI").results


SURFACE_YEAR = 12 * 52_000  # m²·months
SHARE = 50 / 800
# The map's intervals hold one dwelling's rent; A's 750 apartments and 50 houses in Toulouse average
# many: the bounds are narrowed, on the log of the rent, by √(1/n + 1/N) / √(1 + 1/n), n the ads
# behind the prediction (900 apartments, 90 houses), N the dwellings.
K_APT = math.sqrt(1 / 900 + 1 / 750) / math.sqrt(1 + 1 / 900)
K_HOUSE = math.sqrt(1 / 90 + 1 / 50) / math.sqrt(1 + 1 / 90)
APT = {"basse": 13 * (12 / 13) ** K_APT, "centrale": 13.0, "haute": 13 * (14 / 13) ** K_APT}
HOUSE = {"basse": 12 * (11 / 12) ** K_HOUSE, "centrale": 12.0, "haute": 12 * (13.5 / 12) ** K_HOUSE}
RENT = {s: (1 - SHARE) * APT[s] + SHARE * HOUSE[s] for s in APT}


def test_soc01_market_rent_with_forfait_where_no_rent(results):
    rent = RENT
    # A declares no vacancy: national default 2,9 % (3,3 % in the low value, 1,4 % in the high one).
    occupied = {"basse": 1 - 0.033, "centrale": 1 - 0.029, "haute": 1 - 0.014}
    # Asking rents corrected towards what sitting tenants pay (0,85 / 0,93 / 1); charges the other way.
    market = {
        "centrale": SURFACE_YEAR * occupied["centrale"] * (rent["centrale"] * 0.93 - 2.30),
        "basse": SURFACE_YEAR * occupied["basse"] * (rent["basse"] * 0.85 - 2.54),
        "haute": SURFACE_YEAR * occupied["haute"] * (rent["haute"] * 1.00 - 1.60),
    }
    gain = {s: market[s] - 4_000_000 for s in market}
    blagnac = 250 * occupied["centrale"] * 12  # occupied dwellings × 12 months at the national rate
    r = pick(results, "SOC-01", builders.TOULOUSE_METROPOLE, builders.SIREN_A)
    assert r["valeur"] == pytest.approx(gain["centrale"] + blagnac * 261)
    assert r["valeur_basse"] == pytest.approx(gain["basse"] + blagnac * 227)
    assert r["valeur_haute"] == pytest.approx(gain["haute"] + blagnac * 261)
    # Blagnac's dwellings at the national rate are that share of the figure.
    assert r["part_forfaitaire"] == pytest.approx(100 * blagnac * 261 / r["valeur"])
    assert 0 < r["part_forfaitaire"] < 100


def test_soc03_relative_gap(results):
    r = pick(results, "SOC-03", builders.TOULOUSE_METROPOLE, builders.SIREN_A)
    rent_c = (1 - SHARE) * 13.0 + SHARE * 12.0
    assert r["valeur"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * 0.971 * (rent_c * 0.93 - 2.30))))
    assert r["valeur_basse"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * 0.967 * (RENT["basse"] * 0.85 - 2.54))))
    assert r["valeur_haute"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * 0.986 * (RENT["haute"] - 1.60))))


def test_the_range_is_that_of_a_mean_not_of_one_dwelling():
    # 750 apartments on a prediction from 900 ads: the ±1 € of one dwelling become about ±5 centimes
    assert APT["haute"] - 13 == pytest.approx(0.048, abs=0.001)
    assert 13 - APT["basse"] == pytest.approx(0.051, abs=0.001)


def test_declared_vacancy_wins(tmp_path):
    """« dont vacants » on the Patrimoine sheet: the rents charged are those of the occupied dwellings."""
    tables = {**builders.TABLES_A, "Patrimoine": [dict(row, logements_vacants=40) if row["commune"] == "31555" else row
                                                  for row in builders.TABLES_A["Patrimoine"]]}
    root = tmp_path / "espace"
    api.import_paths(root, [builders.write_questionnaire(tmp_path / "a.xlsx", builders.ORG_A, tables)])
    api.import_paths(root, [rents_file(tmp_path, "appartements.csv", ["1;31555;Toulouse;243100518;31;76;13,0;12,0;14,0;commune;900;2000;0,7"])],
                     "loyers", exercice=2023, logement="appartement")
    communes = api.compute_level(root, "COMMUNE").results
    r = pick(communes, "SOC-01", "31555", builders.SIREN_A)
    # 760 of 800 occupied; no house rent in this file: the apartment rent for every dwelling
    assert r["valeur"] == pytest.approx(SURFACE_YEAR * (760 / 800) * (13.0 * 0.93 - 2.30) - 4_000_000)
    assert pick(communes, "SOC-02", "31555", builders.SIREN_A)["valeur"] == pytest.approx(r["valeur"] / 12 / 760)


def test_without_market_rents_soc03_says_why(espace):
    r = pick(api.compute_level(espace, "EPCI").results, "SOC-03", builders.TOULOUSE_METROPOLE)
    assert r["statut"] == "non_calculable"
    assert "aucun loyer de marché" in r["motif"]


def test_lines_left_out_are_named(tmp_path):
    """An unknown commune code or a line without predicted rent: the import names the lines."""
    path = rents_file(tmp_path, "appartements.csv", [
        "1;31555;Toulouse;243100518;31;76;13,0;12,0;14,0;commune;900;2000;0,7",
        "2;99999;Nulle part;;;;13,0;12,0;14,0;commune;1;1;0,1",
        "3;31069;Blagnac;243100518;31;76;;;;commune;1;1;0,1",
    ])
    report = api.import_paths(tmp_path / "espace", [path], "loyers", exercice=2023, logement="appartement")
    [told] = [p for p in report.problems if p.regle == "loyer"]
    assert told.message == "2 ligne(s) sans commune reconnue ou sans loyer prédit ont été ignorées : ligne 3 (99999), ligne 4 (31069)."


def test_without_the_number_of_ads_the_published_interval_is_kept(tmp_path):
    """A file without TYPPRED / nbobs columns: nothing says how sure the prediction is."""
    root = tmp_path / "espace"
    api.import_paths(root, [builders.write_org_a(tmp_path)])
    path = tmp_path / "appartements.csv"
    path.write_text("INSEE_C;loypredm2;lwr.IPm2;upr.IPm2\n31555;13,0;12,0;14,0\n", encoding="utf-8")
    api.import_paths(root, [path], "loyers", exercice=2023, logement="appartement")
    r = pick(api.compute_level(root, "COMMUNE").results, "SOC-03", "31555", builders.SIREN_A)
    # no house rent in this file: the apartment rent for every dwelling, its bounds as published
    assert r["valeur_haute"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * 0.986 * (14.0 - 1.60))))


def test_soc01_sensitivity_to_each_market_factor_alone(results):
    # Each factor alone at its low then high value, the others central: the figure's change.
    r = pick(results, "SOC-01", builders.TOULOUSE_METROPOLE)
    occupied = 1 - 0.029

    def market(rent=RENT["centrale"], correction=0.93, charges=2.30, occ=occupied):
        return SURFACE_YEAR * occ * (rent * correction - charges)

    central = market()
    expected = {
        "correction_loyer_annonce": (market(correction=0.85) - central, market(correction=1.00) - central),
        "charges_locatives_m2": (market(charges=1.60) - central, market(charges=2.54) - central),
        # the default vacancy's low value leaves more dwellings occupied
        "taux_vacance_defaut": (market(occ=1 - 0.014) - central, market(occ=1 - 0.033) - central),
        "intervalle_loyers_marche": (market(rent=RENT["basse"]) - central, market(rent=RENT["haute"]) - central),
    }
    # the national rate of Blagnac's dwellings (227 to 261 €) moves too
    blagnac = 250 * occupied * 12
    expected["avantage_loyer_national_mois"] = (blagnac * (227 - 261), 0.0)
    widest = sorted(expected, key=lambda d: -abs(expected[d][1] - expected[d][0]))[:3]
    for rank, driver in enumerate(widest, start=1):
        assert r[f"moteur_{rank}"] == driver
        assert r[f"moteur_{rank}_basse"] == pytest.approx(expected[driver][0], rel=1e-5)
        assert r[f"moteur_{rank}_haute"] == pytest.approx(expected[driver][1], rel=1e-5, abs=1e-3)
