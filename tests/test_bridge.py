"""The year-on-year bridge (`compute --expliquer-evolution`), by hand from builders.py.

2024: organisation A alone, Toulouse 780 dwellings (300 in QPV) and Blagnac 250 → 1 030 in
Toulouse Métropole. 2025: A as in builders.py (Toulouse 800, Blagnac 250 → 1 050, 300 in QPV)
and B entering (Toulouse 200, 100 in QPV; Montpellier 500).
"""

import json
from pathlib import Path

import pytest
from builders import ORG_A, ORG_B, SIREN_B, TABLES_A, TABLES_B, TOULOUSE_METROPOLE, write_questionnaire
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.referentiel.model import load_referentiel


def _a_2024() -> tuple[dict, dict]:
    patrimoine = [dict(TABLES_A["Patrimoine"][0], logements=780, dpe_d=280), dict(TABLES_A["Patrimoine"][1])]
    return {**ORG_A, "exercice": 2024, "logements_fin": 1030}, {**TABLES_A, "Patrimoine": patrimoine}


@pytest.fixture
def espace_2y(tmp_path) -> Path:
    files = [write_questionnaire(tmp_path / "a_2024.xlsx", *_a_2024()),
             write_questionnaire(tmp_path / "a_2025.xlsx", ORG_A, TABLES_A),
             write_questionnaire(tmp_path / "b_2025.xlsx", ORG_B, TABLES_B)]
    root = tmp_path / "espace"
    report = api.import_paths(root, files)
    assert not report.refused, report.to_dict()
    return root


def amounts(doc: dict) -> dict[str, float]:
    return {c["cause"]: c["montant"] for c in doc["composantes"]}


def test_an_organisation_entering_and_a_change_of_data(espace_2y):
    doc = api.explain_evolution(espace_2y, "TER-00", "EPCI", TOULOUSE_METROPOLE, 2025)
    assert set(doc) == {"indicateur", "code_territoire", "exercice", "exercice_precedent", "valeur", "valeur_precedente", "composantes"}
    assert (doc["exercice"], doc["exercice_precedent"], doc["valeur_precedente"], doc["valeur"]) == (2025, 2024, 1030, 1250)
    # A's data: +20 dwellings in Toulouse; B enters with its 200 Toulouse dwellings
    assert amounts(doc) == {"sortie": 0, "donnees": 20, "entree": 200, "referentiel": 0, "reste": 0}
    assert sum(amounts(doc).values()) == doc["valeur"] - doc["valeur_precedente"]
    assert all(set(c) == {"cause", "libelle", "montant"} for c in doc["composantes"])
    assert SIREN_B in next(c["libelle"] for c in doc["composantes"] if c["cause"] == "entree")


def test_a_ratio_is_taken_apart_too(espace_2y):
    doc = api.explain_evolution(espace_2y, "PV-01", "EPCI", TOULOUSE_METROPOLE, 2025)
    # share of dwellings in QPV: 300 / 1 030 → A's 300 / 1 050 → with B (300 + 100) / 1 250
    assert doc["valeur_precedente"] == pytest.approx(100 * 300 / 1030) and doc["valeur"] == pytest.approx(100 * 400 / 1250)
    parts = amounts(doc)
    assert parts["donnees"] == pytest.approx(100 * 300 / 1050 - 100 * 300 / 1030)
    assert parts["entree"] == pytest.approx(100 * 400 / 1250 - 100 * 300 / 1050)
    assert sum(parts.values()) == pytest.approx(doc["valeur"] - doc["valeur_precedente"], abs=1e-12)


def test_a_change_of_parameters_is_shown_apart(espace_2y, tmp_path):
    api.compute_level(espace_2y, "EPCI")  # both exercices computed with the shipped référentiel, kept
    override = tmp_path / "avantage.toml"
    override.write_text('[meta]\ndescription = "essai"\n\n[[parametre]]\nnom = "avantage_loyer_national_mois"\n'
                        'basse = 300\ncentrale = 300\nhaute = 300\n', encoding="utf-8")
    new = load_referentiel(surcharges=[override])
    api.compute_level(espace_2y, "EPCI", referentiel=new)  # 2025 now follows the new method; 2024 keeps its own
    doc = api.explain_evolution(espace_2y, "SOC-01", "EPCI", TOULOUSE_METROPOLE, 2025, referentiel=new)
    shipped = load_referentiel().parameters
    occupied = 1 - shipped["taux_vacance_defaut"].centrale / 100  # no vacancy given: the national default
    parts = amounts(doc)
    # SOC-01 is the national flat rate here: occupied dwellings × advantage × 12
    assert doc["valeur_precedente"] == pytest.approx(1030 * occupied * 261 * 12)
    assert doc["valeur"] == pytest.approx(1250 * occupied * 300 * 12)
    assert parts["referentiel"] == pytest.approx(1250 * occupied * (300 - 261) * 12)
    assert parts["entree"] == pytest.approx(200 * occupied * 261 * 12)
    assert sum(parts.values()) == pytest.approx(doc["valeur"] - doc["valeur_precedente"])
    # the stored 2025 results, computed with the override, end where the bridge ends
    stored = api.compute_level(espace_2y, "EPCI", 2025, referentiel=new, store=False).results
    value = stored.filter((stored["indicateur"] == "SOC-01") & (stored["code_territoire"] == TOULOUSE_METROPOLE)
                          & stored["siren"].is_null())["valeur"][0]
    assert value == pytest.approx(doc["valeur"])


def test_cli_json_and_errors(espace_2y):
    runner = CliRunner()
    result = runner.invoke(app, ["--espace", str(espace_2y), "compute", "--expliquer-evolution", "TER-00", "--code",
                                 TOULOUSE_METROPOLE, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["valeur"] - doc["valeur_precedente"] == 220
    text = runner.invoke(app, ["--espace", str(espace_2y), "compute", "--expliquer-evolution", "TER-00", "--code", TOULOUSE_METROPOLE])
    assert text.exit_code == 0 and "Organismes entrés" in text.stdout and "+200 logements" in text.stdout
    no_previous = runner.invoke(app, ["--espace", str(espace_2y), "compute", "--expliquer-evolution", "TER-00", "--code",
                                      TOULOUSE_METROPOLE, "--exercice", "2024"])
    assert no_previous.exit_code != 0 and "2023" in no_previous.output
    no_code = runner.invoke(app, ["--espace", str(espace_2y), "compute", "--expliquer-evolution", "TER-00"])
    assert no_code.exit_code != 0 and "--code" in no_code.output


def test_report_has_the_evolution_sheet_with_waterfalls(espace_2y, tmp_path):
    import zipfile

    import openpyxl
    result = api.export(espace_2y, api.ExportRequest(tmp_path / "tm.xlsx", "EPCI", code=TOULOUSE_METROPOLE))
    assert "Évolution" in result.feuilles
    sheet = openpyxl.load_workbook(result.main)["Évolution"]
    table = {r[0]: r[1:9] for r in sheet.iter_rows(min_row=5, max_row=8, values_only=True) if r[0]}
    # TER-00: 1 030 → +20 (A's data) → +200 (B entering) → 1 250
    assert table["Logements sociaux des organismes importés (TER-00)"] == (1030, 0, 20, 200, 0, 0, 1250, "logements")
    with zipfile.ZipFile(result.main) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    waterfalls = [c for c in charts if '<c:grouping val="stacked"/>' in c
                  and "Base (invisible)</c:v></c:pt></c:strCache></c:strRef></c:tx><c:spPr><a:noFill/>" in c]
    assert len(waterfalls) == len(table)  # one per figure, its base series invisible


def test_no_evolution_sheet_without_the_previous_exercice(espace, tmp_path):
    result = api.export(espace, api.ExportRequest(tmp_path / "r.xlsx", "EPCI"))
    assert "Évolution" not in result.feuilles


def test_an_organisation_leaving(tmp_path):
    """B only in 2024 (Toulouse 200 dwellings): it leaves; A's data change as above."""
    files = [write_questionnaire(tmp_path / "a_2024.xlsx", *_a_2024()),
             write_questionnaire(tmp_path / "b_2024.xlsx", {**ORG_B, "exercice": 2024}, TABLES_B),
             write_questionnaire(tmp_path / "a_2025.xlsx", ORG_A, TABLES_A)]
    root = tmp_path / "espace"
    assert not api.import_paths(root, files).refused
    doc = api.explain_evolution(root, "TER-00", "EPCI", TOULOUSE_METROPOLE, 2025)
    assert (doc["valeur_precedente"], doc["valeur"]) == (1030 + 200, 1050)
    assert amounts(doc) == {"sortie": -200, "donnees": 20, "entree": 0, "referentiel": 0, "reste": 0}
    assert SIREN_B in next(c["libelle"] for c in doc["composantes"] if c["cause"] == "sortie")
