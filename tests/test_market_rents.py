"""SOC-01 and SOC-03 against the Carte des loyers, by hand, on organisation A of builders.py.

Toulouse (800 dwellings, 50 houses, 52 000 m², 4 000 000 € of rents) has market rents:
apartments 13,0 €/m² (interval 12,0–14,0), houses 12,0 (11,0–13,5); Blagnac has none: forfait.
"""

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
    api.import_loyers(root, rents_file(folder, "appartements.csv", [
        "1;31555;Toulouse;243100518;31;76;13,0;12,0;14,0;commune;900;2000;0,7",
        "2;75111;Paris 11e Arrondissement;200054781;75;11;30,0;28,0;32,0;commune;900;2000;0,7",
    ]), "appartement", 2023)
    api.import_loyers(root, rents_file(folder, "maisons.csv", ["1;31555;Toulouse;243100518;31;76;12,0;11,0;13,5;commune;90;200;0,6"]),
                      "maison", 2023)
    return api.compute_level(root, "EPCI").results


SURFACE_YEAR = 12 * 52_000  # m²·months
SHARE = 50 / 800


def test_soc01_market_rent_with_forfait_where_no_rent(results):
    rent = {s: (1 - SHARE) * a + SHARE * m for s, a, m in (("basse", 12.0, 11.0), ("centrale", 13.0, 12.0), ("haute", 14.0, 13.5))}
    gain = {
        "centrale": SURFACE_YEAR * (rent["centrale"] - 2.30) - 4_000_000,
        "basse": SURFACE_YEAR * (rent["basse"] - 2.33) - 4_000_000,  # low rent and high charges
        "haute": SURFACE_YEAR * (rent["haute"] - 2.25) - 4_000_000,
    }
    r = pick(results, "SOC-01", builders.TOULOUSE_METROPOLE, builders.SIREN_A)
    assert r["valeur"] == pytest.approx(gain["centrale"] + 250 * 225 * 12)  # Blagnac at the national forfait
    assert r["valeur_basse"] == pytest.approx(gain["basse"] + 250 * 200 * 12)
    assert r["valeur_haute"] == pytest.approx(gain["haute"] + 250 * 261 * 12)
    assert r["valeur"] == pytest.approx(3_312_800)
    # Blagnac's 250 dwellings at the national rate: 675 000 € of the 3 312 800 €.
    assert r["part_forfaitaire"] == pytest.approx(100 * 250 * 225 * 12 / 3_312_800)


def test_soc03_relative_gap(results):
    r = pick(results, "SOC-03", builders.TOULOUSE_METROPOLE, builders.SIREN_A)
    assert r["valeur"] == pytest.approx(100 * (1 - 4_000_000 / 6_637_800))
    assert r["valeur_basse"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * (11.9375 - 2.33))))
    assert r["valeur_haute"] == pytest.approx(100 * (1 - 4_000_000 / (SURFACE_YEAR * (13.96875 - 2.25))))


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
    report = api.import_loyers(tmp_path / "espace", path, "appartement", 2023)
    [told] = [p for p in report.problems if p.regle == "loyer"]
    assert told.message == "2 ligne(s) sans commune reconnue ou sans loyer prédit ont été ignorées : ligne 3 (99999), ligne 4 (31069)."
