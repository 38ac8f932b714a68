"""Étendu indicators, by hand, from organisation C of builders.py (see its tables).

C's dwellings are all in Toulouse Métropole, so its organisation-level figures count there.
Purchases: 1 000 000 (supplier Toulouse, operation Toulouse), 400 000 (Colomiers, op. Toulouse, ESS),
600 000 (Paris, op. Colomiers), 200 000 (Muret, no operation commune) — 2 200 000 in all.
"""

import polars as pl
import pytest
from builders import ORG_A, ORG_C, SIREN_A, SIREN_C, TABLES_A, TABLES_C, TOULOUSE_METROPOLE, write_org_c, write_questionnaire
from test_indicators import pick

from acterr_cli import api
from acterr_cli.territory.reference import TerritorialReference


@pytest.fixture(scope="module")
def espace_c(tmp_path_factory):
    folder = tmp_path_factory.mktemp("c")
    root = folder / "espace"
    report = api.import_paths(root, [write_org_c(folder), write_questionnaire(folder / "a.xlsx", ORG_A, TABLES_A)])
    assert not report.refused, report.to_dict()
    return root


@pytest.fixture(scope="module")
def epci(espace_c):
    return api.compute_level(espace_c, "EPCI").results


@pytest.fixture(scope="module")
def france(espace_c):
    return api.compute_level(espace_c, "FRANCE").results


TABLES_C_WITHOUT_ACHATS = {k: v for k, v in TABLES_C.items() if k != "Achats"}


def c(results, code, territory=TOULOUSE_METROPOLE):
    return pick(results, code, territory, SIREN_C)


def test_purchases(epci, france):
    assert c(epci, "ECO-02")["valeur"] == pytest.approx(2_200_000)
    assert c(epci, "ECO-03")["valeur"] == pytest.approx(1_400_000)  # suppliers in Toulouse and Colomiers
    # operations in the métropole: 2 000 000, of which 1 400 000 from suppliers of the métropole
    assert c(epci, "ECO-04")["valeur"] == pytest.approx(70.0)
    assert c(epci, "ECO-05")["valeur"] == pytest.approx(100 * 400_000 / 2_200_000)
    # The whole organisation: its territory is the EPCI where it has dwellings (Toulouse Métropole).
    assert c(france, "ECO-04", "FR")["valeur"] == pytest.approx(100 * 1_400_000 / 2_200_000)


def test_anchoring_at_commune_level(espace_c):
    communes = api.compute_level(espace_c, "COMMUNE").results
    # operations in Toulouse: 1 000 000 + 400 000; from Toulouse suppliers: 1 000 000
    assert pick(communes, "ECO-04", "31555", SIREN_C)["valeur"] == pytest.approx(100 * 1_000_000 / 1_400_000)


def test_salaries_and_local_spending(epci, france):
    assert c(epci, "ECO-09")["valeur"] == pytest.approx(270_000)  # residents of Toulouse only
    assert c(epci, "ECO-08")["valeur"] == pytest.approx(6)  # Salaries sheet wins over etp_total
    assert c(france, "ECO-08", "FR")["valeur"] == pytest.approx(10)
    assert c(epci, "ECO-11")["valeur"] == pytest.approx(1_400_000 + 270_000 + 240_000)


def test_lm3_rounds(epci):
    r1, r2, r3 = (c(epci, f"ECO-12-R{i}") for i in (1, 2, 3))
    assert r1["valeur"] == pytest.approx(2_200_000 + 450_000)
    assert r2["valeur"] == pytest.approx(1_400_000 + 270_000)
    assert r3["valeur"] == pytest.approx(1_400_000 * 0.25 + 270_000 * 0.5)
    assert r3["valeur_basse"] == pytest.approx(1_400_000 * 0.15 + 270_000 * 0.3)
    assert r3["valeur_haute"] == pytest.approx(1_400_000 * 0.40 + 270_000 * 0.7)
    lm3 = c(epci, "ECO-12")
    assert lm3["valeur"] == pytest.approx((2_650_000 + 1_670_000 + 485_000) / 2_650_000)
    assert lm3["valeur_basse"] == pytest.approx((2_650_000 + 1_670_000 + 291_000) / 2_650_000)
    assert lm3["valeur_haute"] == pytest.approx((2_650_000 + 1_670_000 + 749_000) / 2_650_000)


def test_allocations_and_public_costs(epci):
    assert c(epci, "SOC-06")["valeur"] == 60
    assert c(epci, "SOC-06b")["valeur"] == 6
    assert c(epci, "SOC-07")["valeur"] == pytest.approx(100 * 12 / 60)
    assert c(epci, "SOC-08")["valeur"] == pytest.approx(100 * 9 / 40)
    # 3 households leaving emergency housing × persons per household × a year of a place (per person)
    soc09 = c(epci, "SOC-09")
    assert (soc09["valeur"], soc09["valeur_basse"], soc09["valeur_haute"]) == pytest.approx(
        (3 * 2.2 * 7000, 3 * 1.5 * 6200, 3 * 3.0 * 13700))
    # 3 procedures stopped × probability of an eviction with the police × its public cost
    soc10 = c(epci, "SOC-10")
    assert (soc10["valeur"], soc10["valeur_basse"], soc10["valeur_haute"]) == pytest.approx(
        (3 * 0.11 * 1500, 3 * 0.08 * 500, 3 * 0.23 * 4000))


def test_net_value_after_deadweight_attribution_displacement(epci):
    # SOC-09 net = gross × (1 − aubaine 0,40) × (1 − attribution 0,30) × (1 − déplacement 0,25);
    # low: gross low × (1 − 0,60)(1 − 0,50)(1 − 0,50); high: gross high × (1 − 0,25)(1 − 0,20)(1 − 0,10)
    soc09 = c(epci, "SOC-09")
    assert soc09["valeur_nette"] == pytest.approx(46_200 * 0.6 * 0.7 * 0.75)  # 14 553 €
    assert soc09["valeur_nette_basse"] == pytest.approx(3 * 1.5 * 6200 * 0.4 * 0.5 * 0.5)
    assert soc09["valeur_nette_haute"] == pytest.approx(3 * 3.0 * 13700 * 0.75 * 0.8 * 0.9)
    # SOC-10: (1 − 0,20)(1 − 0,35)(1 − 0) of 495 €
    assert c(epci, "SOC-10")["valeur_nette"] == pytest.approx(495 * 0.8 * 0.65)
    # every monetised figure of the plus-value sociale has a net value, never above its gross one; the others none
    for r in epci.filter(epci["statut"] == "calcule").iter_rows(named=True):
        if r["indicateur"] in ("SOC-01", "SOC-02", "SOC-09", "SOC-10", "SOC-19"):
            assert r["valeur_nette"] is not None and r["valeur_nette"] <= r["valeur"] + 1e-9, r
            assert r["valeur_nette_basse"] <= r["valeur_nette"] <= r["valeur_nette_haute"], r
        else:
            assert r["valeur_nette"] is None, r


def test_social_actions(epci):
    assert c(epci, "SOC-11")["valeur"] == 40  # « Accompagnement social » only
    assert c(epci, "SOC-11b")["valeur"] == pytest.approx(100 * 40 / 500)
    assert c(epci, "SOC-12")["valeur"] == pytest.approx(60_000 / 500)
    assert c(epci, "SOC-14")["valeur"] == pytest.approx(1607)
    assert c(epci, "SOC-14b")["valeur"] == pytest.approx(1.0)
    assert c(epci, "SOC-15")["valeur"] == pytest.approx(80_000)
    # by action type: a = Accompagnement social, c = Insertion et emploi, d = Lien social
    assert [c(epci, f"SOC-15{t}")["valeur"] for t in "acd"] == pytest.approx([50_000, 20_000, 10_000])
    assert c(epci, "SOC-15b")["valeur"] == 0
    assert c(epci, "PV-02")["valeur"] == pytest.approx(60_000 / 150)  # TFPB-funded actions per QPV dwelling
    assert c(epci, "PV-03")["valeur"] == pytest.approx(60_000 / 45_000)  # actions in QPV / abattement
    assert c(epci, "PV-03b")["valeur"] == pytest.approx(100 * 45_000 / 60_000)


def test_energy(epci):
    # Gas saves 150 000 kWh; electricity 60 000 kWh of unsaid kind, taken as primary energy:
    # 60 000 / 2,3 final kWh (exercice 2025). Low values: real savings are 0,3 of conventional ones.
    electricity = 60_000 / 2.3
    env03 = c(epci, "ENV-03")
    assert env03["valeur"] == pytest.approx((150_000 + electricity) / 1000)
    assert env03["valeur_basse"] == pytest.approx((150_000 + electricity) / 1000 * 0.3)
    env04 = c(epci, "ENV-04")
    assert env04["valeur"] == pytest.approx(150_000 * 0.1124 + electricity * 0.2016)
    assert env04["valeur_basse"] == pytest.approx((150_000 * 0.088 + electricity * 0.1952) * 0.3)
    assert env04["valeur_haute"] == pytest.approx(150_000 * 0.1175 + electricity * 0.2516)
    assert env04["note"] is None
    assert c(epci, "ENV-05")["valeur"] == pytest.approx((150_000 * 0.227 + electricity * 0.079) / 1000)


def test_governance_weighted_by_dwellings(epci, france):
    assert c(epci, "GOV-01")["valeur"] == pytest.approx(40.0)
    assert c(epci, "GOV-02")["valeur"] == pytest.approx(20.0)
    assert c(epci, "GOV-03")["valeur"] == pytest.approx(80.0)
    # A (82 %, 1 050 dwellings) and C (80 %, 500): a weighted mean, not (82 + 80) / 2
    assert pick(france, "GOV-03", "FR")["valeur"] == pytest.approx((82 * 1050 + 80 * 500) / 1550)
    assert pick(france, "GOV-01", "FR")["valeur"] == pytest.approx(100 * (9 + 4) / (20 + 10))


def test_one_base_per_indicator(epci):
    population = TerritorialReference.load().denominators("EPCI").filter(pl.col("code_territoire") == TOULOUSE_METROPOLE)["population"][0]
    assert c(epci, "TER-04")["valeur"] == pytest.approx(1_910_000 / population)  # ECO-11 available for C
    a = pick(epci, "TER-04", TOULOUSE_METROPOLE, SIREN_A)  # A has no Achats: not calculable, never another base
    assert a["statut"] == "non_calculable" and "Achats" in a["motif"]
    assert pick(epci, "TER-04b", TOULOUSE_METROPOLE, SIREN_A)["valeur"] == pytest.approx(10_100_000 / population)


def test_qpv_level_uses_the_actions_qpv_codes(espace_c, tmp_path):
    qpv = tmp_path / "qpv.csv"
    qpv.write_text("code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
                   'QN03101M;Bagatelle;76;Occitanie;31;Haute-Garonne;="31555;31149";Toulouse;243100518;TM\n', encoding="utf-8")
    api.import_paths(espace_c, [qpv], "qpv", exercice=2024)
    results = api.compute_level(espace_c, "QPV").results
    bagatelle = pick(results, "SOC-15", "QN03101M")
    assert bagatelle["nom_territoire"] == "Bagatelle"
    assert bagatelle["valeur"] == pytest.approx(50_000)
    assert pick(results, "SOC-11", "QN03101M")["valeur"] == 40
    assert pick(results, "SOC-15", "QN03102M")["valeur"] == pytest.approx(10_000)  # not in the list: named by its code
    # organisation-level figures never count in a quartier
    assert pick(results, "GOV-01", "QN03101M")["statut"] == "non_calculable"
    # the terminal's summary shows the quartiers' social actions, not an empty table of dwellings
    from rich.console import Console

    from acterr_cli.outputs import terminal

    console = Console(record=True, width=150)
    terminal.print_summary(results, "QPV", console)
    text = console.export_text()
    assert "Actions sociales par quartier — niveau QPV" in text and "Ménages" in text
    assert "Bagatelle" in text and "sans logement des organismes" not in text


def test_supplier_communes_from_sirene(tmp_path):
    """Lines given by SIRET only: their commune comes from SIRENE; the report counts what was found."""
    tables = {**TABLES_C_WITHOUT_ACHATS, "Achats": [
        {"commune_fournisseur": "31555", "nature": "Autre", "montant_ht_eur": 100},
        {"siret": "73282932000074", "nature": "Autre", "montant_ht_eur": 1000},  # in SIRENE: Colomiers
        {"siret": "40483304800022", "nature": "Autre", "montant_ht_eur": 50},  # not in SIRENE
    ]}
    root = tmp_path / "espace"
    assert not api.import_paths(root, [write_questionnaire(tmp_path / "c.xlsx", ORG_C, tables)]).refused
    stock = tmp_path / "StockEtablissement.csv"
    stock.write_text("siren,nic,siret,codeCommuneEtablissement\n732829320,00074,73282932000074,31149\n"
                     "552100554,00013,55210055400013,75056\n", encoding="utf-8")
    report = api.import_paths(root, [stock], "sirene", exercice=2025)
    assert "1 SIRET retrouvé(s) sur 2 recherché(s) ; 1 restent sans commune" in report.fichiers[0].problemes[0].message
    results = api.compute_level(root, "EPCI").results
    assert c(results, "ECO-03")["valeur"] == pytest.approx(1100)  # Toulouse + Colomiers, not the unknown one
    assert c(results, "ECO-02")["valeur"] == pytest.approx(1150)


def test_purchase_without_commune_nor_siret_is_refused(tmp_path):
    tables = {"Achats": [{"nature": "Autre", "montant_ht_eur": 100}]}
    report = api.verify_paths([write_questionnaire(tmp_path / "c.xlsx", ORG_C, tables)])
    assert report.refused and any("SIRENE" in p.message for p in report.problems)
