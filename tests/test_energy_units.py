"""Energie sheet: « Consommations exprimées en » (final or primary energy) is optional. A workbook
without it (made before the column existed) or with blank cells still imports, with one warning
per file and sheet saying what is assumed (primary energy, the DPE figure) and how to say otherwise."""

import builders
import openpyxl

from acterr_cli import api
from acterr_cli.errors import AVERTISSEMENT
from acterr_cli.workspace.store import Workspace

ASSUMPTION = ("consommations supposées en énergie primaire (étiquette DPE) : l'électricité est convertie en énergie "
              "finale ; indiquez « Énergie finale » si ce sont des consommations facturées")

ROWS = [
    {"commune": "31555", "logements_renoves": 20, "conso_avant_kwh": 300000, "conso_apres_kwh": 150000, "energie_chauffage": "Gaz"},
    {"commune": "31069", "logements_renoves": 10, "conso_avant_kwh": 100000, "conso_apres_kwh": 40000, "energie_chauffage": "Électricité"},
    {"commune": "31069", "logements_renoves": 5, "conso_avant_kwh": 50000, "conso_apres_kwh": 30000, "energie_chauffage": "Électricité"},
]
ORG_B = {**builders.ORG_A, "siren": builders.SIREN_B, "raison_sociale": "Logis Test B"}


def write(path, rows):
    return builders.write_questionnaire(path, builders.ORG_A, {"Energie": rows})


def assumed(report):
    return [p for p in report.problems if p.regle == "hypothese"]


def test_an_older_workbook_without_the_column_imports_with_one_warning(tmp_path):
    path = write(tmp_path / "ancien.xlsx", ROWS)
    wb = openpyxl.load_workbook(path)
    ws = wb["Energie"]
    assert ws["F3"].value == "Consommations exprimées en"
    ws.delete_cols(6)  # the layout before the column existed
    wb.save(path)
    report = api.import_paths(tmp_path / "espace", [path])
    assert not report.refused
    [warning] = assumed(report)
    assert (warning.fichier, warning.feuille, warning.cellule, warning.gravite) == ("ancien.xlsx", "Energie", None, AVERTISSEMENT)
    assert warning.message == f"colonne « Consommations exprimées en » absente : {ASSUMPTION}."
    assert "ancien.xlsx, feuille Energie" in str(warning)
    energie = Workspace.open(tmp_path / "espace", create=False).scan("energie").collect()
    assert energie.height == 3 and "type_consommation" not in energie.columns  # not provided: the engine's default


def test_blank_cells_are_told_once_with_the_first_one(tmp_path):
    rows = [{**ROWS[0], "type_consommation": "Énergie finale"}, ROWS[1], ROWS[2]]
    report = api.verify_paths([write(tmp_path / "q.xlsx", rows)])
    assert not report.refused
    [warning] = assumed(report)
    assert (warning.feuille, warning.cellule, warning.gravite) == ("Energie", "F5", AVERTISSEMENT)
    assert warning.message == f"« Consommations exprimées en » vide (2 ligne(s) sur 3, la première en F5) : {ASSUMPTION}."


def test_a_column_left_entirely_blank_is_told_once(tmp_path):
    [warning] = assumed(api.verify_paths([write(tmp_path / "q.xlsx", ROWS)]))
    assert warning.cellule == "F4" and "(toutes les lignes, la première en F4)" in warning.message


def test_filled_in_or_empty_sheets_say_nothing(tmp_path):
    rows = [{**row, "type_consommation": kind} for row, kind in zip(ROWS, ["Énergie primaire", "énergie finale", "ENERGIE PRIMAIRE"])]
    filled = write(tmp_path / "rempli.xlsx", rows)
    empty = builders.write_questionnaire(tmp_path / "vide.xlsx", ORG_B, builders.TABLES_A)  # no Energie rows
    report = api.import_paths(tmp_path / "espace", [filled, empty])
    assert not assumed(report) and not report.refused
    energie = Workspace.open(tmp_path / "espace", create=False).scan("energie").collect().sort("ligne")
    assert energie["type_consommation"].to_list() == ["Énergie primaire", "Énergie finale", "Énergie primaire"]


def test_each_file_of_a_batch_gets_its_own_warning(tmp_path):
    with_type = write(tmp_path / "a.xlsx", [{**row, "type_consommation": "Énergie primaire"} for row in ROWS])
    without = builders.write_questionnaire(tmp_path / "b.xlsx", ORG_B, {"Energie": ROWS[:1]})
    report = api.verify_paths([with_type, without])
    assert [(p.fichier, p.cellule) for p in assumed(report)] == [("b.xlsx", "F4")]
