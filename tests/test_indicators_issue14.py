"""The indicators issue 14 adds: housing allowance avoided (SOC-19), proximity staff (SOC-20),
allocations in QPV (SOC-08b beside SOC-08), digital inclusion (SOC-21, 21b, 21c) — by hand from
the fixture below, and older workbooks without their columns still accepted.

Organisation D (OPH, SIREN 900000035), all its 1 050 dwellings in Toulouse Métropole:
  Patrimoine  Toulouse 800 logements, 16 vacants, 300 ménages APL ; Blagnac 250, 5 vacants, 100 APL
              → 1 029 occupied dwellings, 400 APL households; no surface nor rents: SOC-01 is the
              national flat rate, 1 029 × 261 € × 12 (low 227 €)
  Organisme   1 050 dwellings at 31/12, 8,4 ETP of caretakers and on-site staff
  Attributions Toulouse: 80, 50 outside QPV of which 12 to Q1, 30 in QPV of which 15 to Q2–Q4
               Blagnac:  20, 20 outside QPV of which 6 to Q1, none in QPV
  Actions     Toulouse « Lien social » inclusion numérique oui, 10 000 €, 40 ménages
              Toulouse « Accompagnement social » non, 5 000 €, 10 ménages
              Blagnac « Autre » oui, 2 000 €, 15 ménages
"""

from pathlib import Path

import openpyxl
import pytest
from builders import TOULOUSE_METROPOLE, write_questionnaire
from test_indicators import pick

from acterr_cli import api

SIREN_D = "900000035"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "questionnaires"
NEW = ("SOC-08b", "SOC-19", "SOC-20", "SOC-21", "SOC-21b", "SOC-21c")


@pytest.fixture
def espace_d(tmp_path) -> Path:
    organisme = {"siren": SIREN_D, "raison_sociale": "Habitat Test D", "famille": "OPH", "exercice": 2025,
                 "logements_debut": 1000, "logements_fin": 1050, "personnel_proximite_etp": 8.4}
    tables = {
        "Patrimoine": [{"commune": "31555", "logements": 800, "logements_vacants": 16, "menages_apl": 300},
                       {"commune": "31069", "logements": 250, "logements_vacants": 5, "menages_apl": 100}],
        "Attributions": [
            {"commune": "31555", "attributions": 80, "attributions_hors_qpv": 50, "attributions_hors_qpv_q1": 12,
             "attributions_qpv": 30, "attributions_qpv_q234": 15},
            {"commune": "31069", "attributions": 20, "attributions_hors_qpv": 20, "attributions_hors_qpv_q1": 6,
             "attributions_qpv": 0, "attributions_qpv_q234": 0}],
        "Actions_sociales": [
            {"commune": "31555", "type_action": "Lien social", "inclusion_numerique": "oui", "montant_eur": 10000, "menages": 40},
            {"commune": "31555", "type_action": "Accompagnement social", "inclusion_numerique": "non", "montant_eur": 5000,
             "menages": 10},
            {"commune": "31069", "type_action": "Autre", "inclusion_numerique": "oui", "montant_eur": 2000, "menages": 15}],
    }
    path = write_questionnaire(tmp_path / "d.xlsx", organisme, tables)
    root = tmp_path / "espace"
    report = api.import_paths(root, [path])
    assert not report.refused, report.to_dict()
    return root


def test_new_indicators_by_hand(espace_d):
    epci = api.compute_level(espace_d, "EPCI").results
    value = {code: pick(epci, code, TOULOUSE_METROPOLE) for code in (*NEW, "SOC-08")}
    # 400 APL households × 261 € × 12 months (SOC-01 per occupied dwelling, flat rate) × 25 %
    apl = value["SOC-19"]
    assert apl["valeur"] == pytest.approx(400 * 261 * 12 * 0.25)
    assert apl["valeur_basse"] == pytest.approx(400 * 227 * 12 * 0.10)
    assert apl["valeur_haute"] == pytest.approx(400 * 261 * 12 * 0.40)
    assert apl["part_forfaitaire"] == pytest.approx(100)  # SOC-01 is the national flat rate here
    assert apl["fiabilite"] == "C"  # the share borne by the APL is a hypothesis
    assert value["SOC-20"]["valeur"] == pytest.approx(100 * 8.4 / 1050)  # 0,8 ETP per 100 dwellings
    assert value["SOC-08"]["valeur"] == pytest.approx(100 * (12 + 6) / (50 + 20))
    assert value["SOC-08b"]["valeur"] == pytest.approx(50.0)  # 15 of 30
    assert "objectif légal : 50 %" in value["SOC-08b"]["libelle"] and "25 %" in value["SOC-08"]["libelle"]
    assert [value[c]["valeur"] for c in ("SOC-21", "SOC-21b", "SOC-21c")] == [2, 40 + 15, 10000 + 2000]


def _without_new_columns(source: Path, target: Path) -> Path:
    """A sample workbook as the template was before these indicators: their rows and columns removed."""
    labels = {"Gardiens et personnel de proximité (ETP)", "Ménages bénéficiaires de l'APL", "Inclusion numérique (oui/non)",
              "Attributions en QPV", "dont 2e à 4e quartiles"}
    wb = openpyxl.load_workbook(source)
    organisme = wb["Organisme"]
    for row in range(organisme.max_row, 0, -1):
        if organisme.cell(row, 1).value in labels:
            organisme.delete_rows(row)
    for name in ("Patrimoine", "Actions_sociales", "Attributions"):
        sheet = wb[name]
        for col in range(sheet.max_column, 0, -1):
            if sheet.cell(3, col).value in labels:
                sheet.delete_cols(col)
    wb.save(target)
    return target


def test_older_workbook_accepted_and_new_indicators_not_computable(tmp_path):
    old = _without_new_columns(SAMPLES / "garonne_habitat_2025.xlsx", tmp_path / "ancien.xlsx")
    root = tmp_path / "espace"
    report = api.import_paths(root, [old])
    assert not report.refused, report.to_dict()
    france = api.compute_level(root, "FRANCE").results
    for code in NEW:
        figure = pick(france, code, "FR")
        assert figure["statut"] == "non_calculable" and figure["motif"], code
    assert "APL" in pick(france, "SOC-19", "FR")["motif"]
    assert "personnel de proximité" in pick(france, "SOC-20", "FR")["motif"]
    assert pick(france, "SOC-01", "FR")["statut"] == "calcule"  # the rest is computed as before
