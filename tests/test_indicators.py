"""Indicator values computed by hand from the fixture of builders.py (see its docstring).

Toulouse Métropole holds A's 1 050 dwellings (Toulouse 800 + Blagnac 250) and B's 200 in Toulouse;
B's other 500 dwellings are in Montpellier, so B's organisation-level figures (Organisme sheet,
liasse) do not count at EPCI level in Toulouse Métropole, but do at FRANCE level.
"""

import polars as pl
import pytest
from builders import MONTPELLIER_METROPOLE, SIREN_A, SIREN_B, TOULOUSE_METROPOLE

from acterr_cli import api
from acterr_cli.territory.reference import TerritorialReference


def pick(results: pl.DataFrame, code: str, territoire: str, siren: str | None = None) -> dict:
    rows = results.filter(
        (pl.col("indicateur") == code) & (pl.col("code_territoire") == territoire)
        & (pl.col("siren").is_null() if siren is None else pl.col("siren") == siren)
    )
    assert rows.height == 1, (code, territoire, siren, rows)
    return rows.row(0, named=True)


@pytest.fixture
def epci(espace):
    return api.compute_level(espace, "EPCI").results


@pytest.fixture
def france(espace):
    return api.compute_level(espace, "FRANCE").results


def test_eco01_sums_production_of_the_territory_with_coverage(epci):
    r = pick(epci, "ECO-01", TOULOUSE_METROPOLE)
    # A: 6 000 000 + 2 000 000 + 500 000 (Toulouse) + 1 500 000 + 0 + 100 000 (Blagnac)
    assert r["valeur"] == pytest.approx(10_100_000)
    assert r["valeur_basse"] == r["valeur_haute"] == pytest.approx(10_100_000)
    # B has no Production and its liasse totals cannot be split: counted on 1 050 of 1 250 dwellings.
    assert r["couverture"] == pytest.approx(100 * 1050 / 1250)
    assert (r["nb_organismes"], r["nb_organismes_calcules"]) == (2, 1)
    assert r["statut"] == "calcule"


def test_eco06_jobs_on_works_excluding_tax_land_and_fees(epci):
    r = pick(epci, "ECO-06", TOULOUSE_METROPOLE)
    # works HT: neuf 7,5 M€ × 0,62 + (réhab 2 M€ + GE 0,6 M€) × 0,82 = 4,65 + 2,132 M€, × 10 jobs per M€
    assert r["valeur"] == pytest.approx(67.82)
    assert r["valeur_basse"] == pytest.approx((7.5 * 0.50 + 2.6 * 0.77) * 6)
    assert r["valeur_haute"] == pytest.approx((7.5 * 0.71 + 2.6 * 0.90) * 16)


def test_eco07_per_dwelling_method(epci):
    r = pick(epci, "ECO-07", TOULOUSE_METROPOLE)
    # 40 mises en chantier × 2.4 + 100 réhabilitations × 0.5 ; low 40 × 1.6 + 50
    assert r["valeur"] == pytest.approx(146)
    assert r["valeur_basse"] == pytest.approx(114)


def test_eco10_adds_organisations_and_communes(epci):
    r = pick(epci, "ECO-10", TOULOUSE_METROPOLE)
    assert r["valeur"] == pytest.approx(400_000 + 120_000 + 90_000)
    assert r["couverture"] == 100


def test_ratios_are_recomputed_from_sums_not_averaged(epci):
    # SOC-04: (4 000 000 + 1 350 000 + 1 000 000) € / 12 / (52 000 + 16 000 + 13 000) m²
    assert pick(epci, "SOC-04", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(6_350_000 / 12 / 81_000)
    # PV-01: (300 + 0 + 100) / 1 250
    assert pick(epci, "PV-01", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(32.0)
    # ENV-01: A–C 300 + 110 + 60 over 790 + 250 + 200 dwellings with a known label
    assert pick(epci, "ENV-01", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * 470 / 1240)
    assert pick(epci, "ENV-01b", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * (70 + 20 + 20) / 1240)
    assert pick(epci, "ENV-01c", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * 10 / 1250)
    # GES F–G over the same base as ENV-01b: dwellings with a known label
    assert pick(epci, "ENV-02", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * (60 + 15 + 10) / 1240)
    assert pick(epci, "SOC-13", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * 70 / 1250)


def test_soc01_national_forfait_with_range(epci):
    r = pick(epci, "SOC-01", TOULOUSE_METROPOLE)
    # Occupied dwellings only: A declares no vacancy (national default 2,9 %), B's liasse says 2,5 %.
    occupied = 1050 * (1 - 0.029) + 200 * (1 - 0.025)
    assert r["valeur"] == pytest.approx(occupied * 261 * 12)
    assert r["valeur_basse"] == pytest.approx(occupied * 227 * 12)
    assert r["valeur_haute"] == pytest.approx(occupied * 261 * 12)
    assert r["part_forfaitaire"] == pytest.approx(100)  # no market rent: all of it is the national flat rate
    soc02 = pick(epci, "SOC-02", TOULOUSE_METROPOLE)
    assert (soc02["valeur"], soc02["part_forfaitaire"]) == (pytest.approx(261), pytest.approx(100))
    # A measured figure has no flat-rate part.
    assert pick(epci, "ECO-01", TOULOUSE_METROPOLE)["part_forfaitaire"] == 0


def test_organisation_level_inputs_count_only_where_all_dwellings_are(epci):
    # A is wholly inside Toulouse Métropole: its logements_debut count there.
    assert pick(epci, "ECO-13", TOULOUSE_METROPOLE, SIREN_A)["valeur"] == pytest.approx(10.0)
    assert pick(epci, "SOC-05", TOULOUSE_METROPOLE, SIREN_A)["valeur"] == pytest.approx(5.0)
    assert pick(epci, "ECO-08", TOULOUSE_METROPOLE, SIREN_A)["valeur"] == pytest.approx(20)
    # B is split between two EPCI: non calculable, with the reason, never a pro-rata.
    for territory in (TOULOUSE_METROPOLE, MONTPELLIER_METROPOLE):
        r = pick(epci, "ECO-13", territory, SIREN_B)
        assert r["statut"] == "non_calculable" and r["valeur"] is None
        assert "non réparties" in r["motif"] and "hors de ce territoire" in r["motif"]
    # The consolidation of Montpellier has no organisation able to give ECO-01.
    r = pick(epci, "ECO-01", MONTPELLIER_METROPOLE)
    assert r["statut"] == "non_calculable" and r["couverture"] == 0
    assert r["motif"].startswith("aucun organisme présent ne fournit")
    # B gives its dwellings at 1 January, but they cannot count in Montpellier alone: said so
    r = pick(epci, "ECO-13", MONTPELLIER_METROPOLE)
    assert r["statut"] == "non_calculable"
    assert r["motif"].startswith("aucun organisme présent ne fournit pour ce territoire : Logements au 1er janvier")
    assert r["motif"].endswith("un organisme présent ici en a aussi ailleurs)")
    # B gives no administrators at all: nobody provides them, said plainly
    r = pick(epci, "GOV-01", MONTPELLIER_METROPOLE)
    assert r["motif"] == "aucun organisme présent ne fournit : Administrateurs (feuille Organisme), dont femmes (feuille Organisme)"


def test_france_level_uses_liasse_and_liasse_wins(france):
    # B's investment comes from its liasse totals at FRANCE level: 3 000 000 + 1 000 000 + 200 000.
    assert pick(france, "ECO-01", "FR", SIREN_B)["valeur"] == pytest.approx(4_200_000)
    assert pick(france, "ECO-01", "FR")["valeur"] == pytest.approx(10_100_000 + 4_200_000)
    assert pick(france, "ECO-01", "FR")["couverture"] == 100
    # B's ETP: liasse 12.5 wins over the Organisme sheet's 12.
    assert pick(france, "ECO-08", "FR", SIREN_B)["valeur"] == pytest.approx(12.5)
    assert pick(france, "ECO-08", "FR")["valeur"] == pytest.approx(32.5)
    # ECO-13 = (100 + 25 réhabilitations) / (1 000 + 680) logements au 1er janvier
    assert pick(france, "ECO-13", "FR")["valeur"] == pytest.approx(100 * 125 / 1680)
    # SOC-05 = (1 050 + 700 − 1 000 − 680) / 1 680
    assert pick(france, "SOC-05", "FR")["valeur"] == pytest.approx(100 * 70 / 1680)


def test_territory_denominators(epci):
    denominators = TerritorialReference.load().denominators("EPCI").filter(pl.col("code_territoire") == TOULOUSE_METROPOLE)
    population, menages = denominators["population"][0], denominators["menages"][0]
    assert pick(epci, "TER-01", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(1000 * 1250 / population)
    assert pick(epci, "TER-02", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(100 * 1250 / menages)
    # One base per indicator: without purchases nor payroll by commune, no spending per inhabitant…
    assert pick(epci, "TER-04", TOULOUSE_METROPOLE)["statut"] == "non_calculable"
    # … and the investment per inhabitant is its own indicator.
    assert pick(epci, "TER-04b", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(10_100_000 / population)
    assert pick(epci, "TER-05", TOULOUSE_METROPOLE)["valeur"] == pytest.approx(1000 * 67.82 / population)


def test_commune_and_department_levels(espace):
    communes = api.compute_level(espace, "COMMUNE").results
    assert pick(communes, "ECO-01", "31069")["valeur"] == pytest.approx(1_600_000)
    assert pick(communes, "PV-01", "31555")["valeur"] == pytest.approx(100 * 400 / 1000)
    departements = api.compute_level(espace, "DEPARTEMENT").results
    assert pick(departements, "ECO-10", "34")["valeur"] == pytest.approx(230_000)


def test_missing_sheet_is_not_zero(epci):
    # Neither A nor B filled Salaries: ECO-08 comes from etp_total where it can (A), and B stays unknown.
    r = pick(epci, "ECO-08", TOULOUSE_METROPOLE, SIREN_B)
    assert r["valeur"] is None and "feuille Salaries" in r["motif"]


def test_zero_denominator_is_non_calculable_not_infinite(tmp_path):
    import builders

    org = {**builders.ORG_A, "logements_debut": 0}
    path = builders.write_questionnaire(tmp_path / "zero.xlsx", org, builders.TABLES_A)
    root = tmp_path / "espace"
    api.import_paths(root, [path])
    r = pick(api.compute_level(root, "FRANCE").results, "ECO-13", "FR", SIREN_A)
    assert r["statut"] == "non_calculable"
    assert r["motif"] == "résultat indéfini (dénominateur nul)"


def test_liasse_questionnaire_differences_above_one_percent_are_reported(espace):
    # B: liasse 12.5 ETP vs Organisme sheet 12 (4.2 %); loyers 3 400 000 vs 3 400 000 (equal);
    # TFPB 320 000 vs 90 000 + 230 000 (equal); logements 700 vs 700.
    checks = api.compute_level(espace, "FRANCE").meta["controles"]
    assert [(c["siren"], c["champ"]) for c in checks] == [(SIREN_B, "etp_total")]
    assert checks[0]["ecart_pct"] == pytest.approx(100 * 0.5 / 12.5)
    assert "la liasse est retenue" in checks[0]["message"]


def test_an_unchanged_value_has_no_change_whatever_its_last_bits():
    """A sum of decimals may differ in its last bits from one exercice's run to the next
    (80 823 290,72999975 and …73000008): the change is 0, not −3e-7 shown as « −0 »."""
    from acterr_cli.engine.run import with_evolution

    keys = {"_t": [1, 1, 2, 2], "_s": [0, 0, 0, 0], "_o": [4, 4, 4, 4]}
    results = pl.DataFrame({"exercice": [2024, 2025, 2024, 2025], **keys, "valeur": [80823290.72999975, 80823290.73000008, 100.0, 110.0]},
                           schema_overrides={k: pl.UInt32 for k in keys})
    evolution = with_evolution(results).filter(pl.col("exercice") == 2025)
    assert evolution["valeur_precedente"].to_list() == [80823290.72999975, 100.0]
    assert evolution["variation"].to_list() == [0.0, 10.0] and evolution["variation_pct"].to_list() == [0.0, 10.0]


def test_evolution_over_exercices_too_far_apart_for_the_packed_key():
    """255 years between the first and the last exercice: the keys are joined as they are (a
    packed key would wrap around and give the oldest exercice the newest one's value)."""
    from acterr_cli.engine.run import with_evolution

    keys = {"_t": [1, 1, 1], "_s": [0, 0, 0], "_o": [4, 4, 4]}
    results = pl.DataFrame({"exercice": [1770, 2024, 2025], **keys, "valeur": [10.0, 20.0, 30.0]},
                           schema_overrides={k: pl.UInt32 for k in keys})
    assert with_evolution(results)["valeur_precedente"].to_list() == [None, None, 20.0]


def test_evolution_between_two_exercices(tmp_path):
    import builders

    org_2024 = {**builders.ORG_A, "exercice": 2024, "logements_debut": 950, "logements_fin": 1000}
    tables_2024 = {**builders.TABLES_A, "Fiscalite": [{"commune": "31555", "tfpb_eur": 380000}, {"commune": "31069", "tfpb_eur": 100000}]}
    paths = [builders.write_questionnaire(tmp_path / "a2024.xlsx", org_2024, tables_2024), builders.write_org_a(tmp_path)]
    root = tmp_path / "espace"
    assert not api.import_paths(root, paths).refused
    results = api.compute_level(root, "EPCI", exercice=2025).results
    assert set(results["exercice"]) == {2025}
    r = pick(results, "ECO-10", TOULOUSE_METROPOLE)
    assert (r["valeur"], r["valeur_precedente"]) == pytest.approx((520_000, 480_000))
    assert r["variation"] == pytest.approx(40_000)
    assert r["variation_pct"] == pytest.approx(100 * 40_000 / 480_000)
    soc05 = pick(results, "SOC-05", TOULOUSE_METROPOLE, SIREN_A)  # 5.0 % in 2025, 100 × 50 / 950 in 2024
    assert soc05["variation"] == pytest.approx(5.0 - 100 * 50 / 950)  # in points
    every_year = api.compute_level(root, "EPCI").results
    assert pick(every_year.filter(pl.col("exercice") == 2024), "ECO-10", TOULOUSE_METROPOLE)["valeur_precedente"] is None
