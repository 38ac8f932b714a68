"""Import options and business checks: mapping files, --ignorer-erreurs, --exercice, liasse vs
questionnaire at import, the xlsx error report, and the checks a user expects cell by cell."""

import json
import zipfile
from pathlib import Path

import builders
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.errors import AVERTISSEMENT, ERREUR, ConfigurationError
from acterr_cli.workspace.store import Workspace

SAMPLES = Path(__file__).parent.parent / "samples"
MAPPING = SAMPLES / "mappings" / "federation_export.toml"
EXPORT = SAMPLES / "mappings" / "export_federation_2025.csv"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def facts(root: Path, dataset: str) -> pl.DataFrame:
    frame = Workspace.open(root, create=False).scan(dataset).collect()
    return frame.sort("siren") if "siren" in frame.columns else frame


def without_provenance(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("source_fichier", "source_sha256", "feuille", "ligne").sort("siren")


# ─── mapping files ───

def test_sample_mapping_reads_the_federation_export_as_the_canonical_liasse(tmp_path):
    assert not api.import_paths(tmp_path / "canonique", [SAMPLES / "liasse_2025.csv"]).refused
    report = api.import_paths(tmp_path / "export", [EXPORT], mapping=MAPPING)
    assert not report.refused and not report.problems
    canonical, mapped = (without_provenance(facts(tmp_path / name, "liasse")) for name in ("canonique", "export"))
    assert mapped.equals(canonical)
    assert mapped.filter(pl.col("siren") == "999310014")["loyers_quittances_eur"].item() == 80_746_536  # k€ → €
    assert mapped.filter(pl.col("siren") == "999310014")["taux_vacance_pct"].item() == 2.7  # fraction → %


def test_mapping_on_an_xlsx_export_with_sheet_and_header_row(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Sommaire"
    ws = wb.create_sheet("Export ")
    ws["A1"] = "Extraction"
    ws.append([])
    ws.append(["Année", "Identifiant", "Loyers (k€)", "Effectif"])
    ws.append([2025, "900 000 019", "3 400", 12.5])
    ws.append([2024, "900000019", 3300, 12])
    wb.save(tmp_path / "export.xlsx")
    (tmp_path / "m.toml").write_text('[source]\nfeuille = "Export"\nligne_entetes = 3\n[colonnes]\n"Année" = "exercice"\n'
                                     '"Identifiant" = "siren"\n"Loyers (k€)" = { champ = "loyers_quittances_eur", unite = "k€" }\n'
                                     '"effectif" = "etp_total"\n', "utf-8")
    report = api.import_paths(tmp_path / "espace", [tmp_path / "export.xlsx"], mapping=tmp_path / "m.toml", exercice=2025)
    assert not report.refused, [str(p) for p in report.problems]
    liasse = facts(tmp_path / "espace", "liasse")
    assert liasse.select("exercice", "loyers_quittances_eur", "etp_total").row(0) == (2025, 3_400_000, 12.5)
    assert [p.regle for p in report.problems] == ["exercice"]  # the 2024 row is set aside, and said so


@pytest.mark.parametrize("content, words", [
    ('[colonnes]\n"SIREN" = "siren"\n"An" = "exercise"\n', "champ « exercise » inconnu"),
    ('[colonnes]\n"SIREN" = "siren"\n"An" = { champ = "exercice", unite = "kg" }\n', "unité « kg » inconnue"),
    ('[colonnes]\n"An" = "exercice"\n', "« siren »"),
    ('[colones]\n"SIREN" = "siren"\n', "section(s) inconnue(s)"),
    ('[source]\nfichier = "../../etc/passwd"\n[colonnes]\n"S" = "siren"\n"E" = "exercice"\n', "[source] n'admet que"),
    ('[colonnes\n', "TOML invalide"),
])
def test_a_wrong_mapping_is_a_configuration_error(tmp_path, content, words):
    (tmp_path / "m.toml").write_text(content, "utf-8")
    with pytest.raises(ConfigurationError) as caught:
        api.verify_paths([EXPORT], mapping=tmp_path / "m.toml")
    assert words in caught.value.message and "m.toml" in caught.value.message
    result = run("verifier", EXPORT, "--correspondance", tmp_path / "m.toml")
    assert result.exit_code == 5 and words in " ".join(result.stderr.split())


def test_mapping_columns_missing_from_the_file_are_named(tmp_path):
    (tmp_path / "m.toml").write_text('[colonnes]\n"Numéro SIREN" = "siren"\n"Année" = "exercice"\n', "utf-8")
    report = api.verify_paths([EXPORT], mapping=tmp_path / "m.toml")
    assert report.refused
    assert "« Numéro SIREN »" in report.problems[0].message and "« Année »" in report.problems[0].message


def test_an_optional_mapping_column_missing_from_the_file_is_told(tmp_path):
    """The file is read, but a field the mapping names is not there: a warning, never silence."""
    mapping = (SAMPLES / "mappings" / "federation_export.toml").read_text("utf-8").replace('"Famille" = "famille"', '"Famille OLS" = "famille"')
    (tmp_path / "m.toml").write_text(mapping, "utf-8")
    report = api.verify_paths([EXPORT], mapping=tmp_path / "m.toml")
    assert not report.refused
    [told] = [p for p in report.problems if p.regle == "correspondance"]
    assert told.gravite == AVERTISSEMENT and "absente(s) du fichier : « Famille OLS »" in told.message


# ─── --ignorer-erreurs ───

def bad_patrimoine(tmp_path: Path) -> Path:
    rows = [*builders.TABLES_A["Patrimoine"], {"commune": "99999", "logements": 5}, {"commune": "31555", "logements": "beaucoup"}]
    return builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {**builders.TABLES_A, "Patrimoine": rows})


def test_ignorer_erreurs_drops_only_the_faulty_rows_and_says_so(tmp_path):
    path = bad_patrimoine(tmp_path)
    assert api.import_paths(tmp_path / "strict", [path]).refused
    report = api.import_paths(tmp_path / "souple", [path], ignore_errors=True)
    [file] = report.fichiers
    assert file.statut == "importe" and file.lignes_ignorees == 2
    assert report.errors_found  # still errors: the exit code says so (3)
    assert {p.cellule for p in file.problemes if p.regle == "ligne_ignoree"} == {"A6", "A7"}
    assert facts(tmp_path / "souple", "patrimoine")["commune"].sort().to_list() == ["31069", "31555"]
    result = run("--espace", tmp_path / "cli", "import", path, "--ignorer-erreurs", "--json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["resume"]["lignes_ignorees"] == 2 and document["fichiers"][0]["statut"] == "importe"


def test_ignorer_erreurs_still_refuses_errors_outside_rows(tmp_path):
    org = {**builders.ORG_A, "siren": "123456789"}
    path = builders.write_questionnaire(tmp_path / "q.xlsx", org, builders.TABLES_A)
    assert api.import_paths(tmp_path / "espace", [path], ignore_errors=True).refused
    path = builders.write_org_a(tmp_path, "q2.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Patrimoine"]["B3"] = "Nombre"  # the « Logements » header is gone: no row can be read right
    wb.save(path)
    report = api.import_paths(tmp_path / "espace", [path], ignore_errors=True)
    assert report.refused
    assert [(p.cellule, p.regle) for p in report.problems if p.gravite == ERREUR] == [("A3", "colonne")]


# ─── --exercice ───

def test_exercice_refuses_a_questionnaire_of_another_year(tmp_path):
    path = builders.write_org_a(tmp_path)
    report = api.import_paths(tmp_path / "espace", [path], exercice=2024)
    assert report.refused
    [problem] = [p for p in report.problems if p.gravite == ERREUR]
    assert (problem.feuille, problem.cellule, problem.regle) == ("Organisme", "B8", "exercice")
    assert "2025" in problem.message and "2024" in problem.message
    assert not api.import_paths(tmp_path / "espace", [path], exercice=2025).refused


# ─── liasse vs questionnaire at import ───

def test_liasse_and_questionnaire_differences_are_told_at_import(tmp_path):
    espace = tmp_path / "espace"
    org_b, liasse = builders.write_org_b(tmp_path), builders.write_liasse(tmp_path)
    assert not api.import_paths(espace, [org_b]).problems
    report = api.import_paths(espace, [liasse])  # the questionnaire is already in the workspace
    [warning] = report.problems
    assert warning.gravite == AVERTISSEMENT and warning.regle == "liasse_questionnaire"
    assert warning.cellule == "O2" and "Effectif total (ETP)" in warning.message and "org_b.xlsx" in warning.message
    report = api.import_paths(espace, [org_b])  # and the other way round, on the Organisme cell
    [warning] = report.problems
    assert (warning.feuille, warning.cellule) == ("Organisme", "B11") and "liasse.csv" in warning.message
    report = api.verify_paths([org_b, liasse])  # in one run: told on the questionnaire
    assert [(p.fichier, p.regle) for p in report.problems] == [("org_b.xlsx", "liasse_questionnaire")]


# ─── the xlsx error report ───

def test_error_report_lists_each_problem_next_to_its_cell(tmp_path):
    tables = {"Patrimoine": [{"commune": "31555", "logements": 10}, {"commune": "=HYPERLINK(\"x\")", "logements": -1}]}
    bad = builders.write_questionnaire(tmp_path / "bad.xlsx", builders.ORG_A, tables)
    good = builders.write_org_b(tmp_path)
    target = tmp_path / "retour" / "problemes.xlsx"
    result = run("verifier", bad, good, "--rapport-erreurs", target)
    assert result.exit_code == 3
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["Fichiers", "Problèmes"]
    rows = list(wb["Problèmes"].iter_rows(values_only=True))
    assert rows[0] == ("Fichier", "Feuille", "Cellule", "Colonne", "Valeur trouvée", "Gravité", "Règle", "Message", "Comment corriger")
    located = [(r[0], r[1], r[2], r[6]) for r in rows[1:]]
    assert located == [("bad.xlsx", "Patrimoine", "A5", "commune"), ("bad.xlsx", "Patrimoine", "B5", "positif")]
    assert rows[2][8] == "Saisissez la valeur positive."  # the rule's « Comment corriger » (inputs/rules.py)
    formula_like = wb["Problèmes"]["E2"]
    assert formula_like.value == '=HYPERLINK("x")' and formula_like.data_type == "s"  # text, never a formula
    statuses = {r[0]: r[1] for r in wb["Fichiers"].iter_rows(min_row=5, values_only=True)}
    assert statuses == {"bad.xlsx": "refusé", "org_b.xlsx": "valide"}
    assert run("verifier", good, "--rapport-erreurs", tmp_path / "r.txt").exit_code == 2


# ─── checks a user expects ───

def test_amounts_headed_in_keur_are_stored_in_euros(tmp_path):
    path = tmp_path / "q.xlsx"
    builders.write_questionnaire(path, builders.ORG_A, {"Fiscalite": [{"commune": "31555", "tfpb_eur": 400}]})
    wb = openpyxl.load_workbook(path)
    wb["Fiscalite"]["B3"] = "TFPB acquittée (k€)"
    wb.save(path)
    report = api.import_paths(tmp_path / "espace", [path])
    assert facts(tmp_path / "espace", "fiscalite")["tfpb_eur"].to_list() == [400_000]
    assert [(p.cellule, p.regle) for p in report.problems] == [("B3", "unite")]


def test_dwellings_checks(tmp_path):
    rows = [
        {"commune": "31555", "logements": 100, "logements_qpv": 120},  # part above whole: error
        {"commune": "31069", "logements": 100, **{f"dpe_{x}": 10 for x in "abcdefg"}, "dpe_inconnu": 0},  # 70 of 100: warning
    ]
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": rows})
    problems = {(p.cellule, p.regle, p.gravite) for p in api.verify_paths([path]).problems}
    assert ("C4", "partie_total", ERREUR) in problems
    assert ("P5", "dpe_total", AVERTISSEMENT) in problems  # « DPE inconnu » to complete
    assert not any(cell == "P4" for cell, _, _ in problems)  # no label given at all: nothing to add up


def test_board_members_checks(tmp_path):
    org = {**builders.ORG_A, "administratrices": 25}
    report = api.verify_paths([builders.write_questionnaire(tmp_path / "q.xlsx", org, builders.TABLES_A)])
    assert [(p.feuille, p.cellule, p.regle) for p in report.problems if p.gravite == ERREUR] == [("Organisme", "B15", "partie_total")]


def test_renovation_that_increases_consumption_is_a_warning(tmp_path):
    rows = [{"commune": "31555", "logements_renoves": 10, "conso_avant_kwh": 100, "conso_apres_kwh": 150, "energie_chauffage": "gaz",
             "type_consommation": "Énergie finale"}]
    report = api.verify_paths([builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Energie": rows})])
    assert not report.refused
    assert [(p.cellule, p.regle) for p in report.problems] == [("D4", "consommation")]


def test_commune_names(tmp_path):
    rows = [{"commune": "31555", "logements": 10}, {"commune": "blagnac", "logements": 5}, {"commune": "Saint-Martin", "logements": 1}]
    report = api.verify_paths([builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": rows})])
    by_cell = {p.cellule: p for p in report.problems}
    assert by_cell["A5"].gravite == AVERTISSEMENT and "31069" in by_cell["A5"].message  # one Blagnac in the Haute-Garonne
    assert by_cell["A6"].gravite == ERREUR and "32389" in by_cell["A6"].message  # many Saint-Martin: candidates listed


def test_misspelt_commune_names_get_suggestions_never_guesses(tmp_path):
    rows = [{"commune": "31555", "logements": 10}, {"commune": "Toulouze", "logements": 5}, {"commune": "Colomier", "logements": 1},
            {"commune": "Zzyzxville", "logements": 1}, {"commune": "Montpelier", "logements": 1}]
    report = api.verify_paths([builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": rows})])
    by_cell = {p.cellule: p for p in report.problems}
    assert by_cell["A5"].gravite == ERREUR and by_cell["A5"].message.endswith("vouliez-vous dire 31555 (Toulouse, 31) ?")
    assert by_cell["A6"].gravite == ERREUR and "vouliez-vous dire 31149 (Colomiers, 31)" in by_cell["A6"].message
    assert by_cell["A7"].gravite == ERREUR and "aucune commune de ce nom" in by_cell["A7"].message
    assert "vouliez-vous" not in by_cell["A7"].message
    # none close in the column's département (31): looked for in the whole country
    assert "vouliez-vous dire 34172 (Montpellier, 34)" in by_cell["A8"].message


def test_excel_error_in_the_organisme_sheet(tmp_path):
    path = builders.write_org_a(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Organisme"]["B11"] = "=1/0"
    wb.save(path)
    report = api.verify_paths([path])  # openpyxl stores no computed value: « formule sans valeur »
    assert [(p.cellule, p.regle) for p in report.problems if p.gravite == ERREUR] == [("B11", "erreur_excel")]


def test_a_bug_in_one_file_does_not_stop_the_run(tmp_path, monkeypatch):
    from acterr_cli.inputs import questionnaire

    real = questionnaire.read_questionnaire

    def flaky(path, *args, **kwargs):
        if Path(path).name == "org_a.xlsx":
            raise KeyError("bogue simulé")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(questionnaire, "read_questionnaire", flaky)
    files = [builders.write_org_a(tmp_path), builders.write_org_b(tmp_path)]
    result = run("--espace", tmp_path / "espace", "import", *files)
    assert result.exit_code == 1  # a bug: exit 1, but org_b is imported
    assert "erreur interne" in result.stderr and "1 importé" in result.stderr


def test_rates_typed_in_percent_formatted_cells(tmp_path):
    """« 82 % » in a cell formatted as a percentage is stored as 0.82 by Excel: read as 82."""
    path = builders.write_org_a(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Organisme"]["B17"].value, wb["Organisme"]["B17"].number_format = 0.82, "0%"
    wb.save(path)
    liasse = tmp_path / "liasse.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["siren", "exercice", "taux_vacance_pct", "taux_recouvrement_pct"])
    wb.active.append([builders.SIREN_B, 2025, 0.025, 0.987])
    for cell in ("C2", "D2"):
        wb.active[cell].number_format = "0.0%"
    wb.save(liasse)
    assert not api.import_paths(tmp_path / "espace", [path, liasse]).refused
    assert facts(tmp_path / "espace", "organismes")["taux_satisfaction_pct"].to_list() == [82]
    assert facts(tmp_path / "espace", "liasse").select("taux_vacance_pct", "taux_recouvrement_pct").row(0) == (2.5, 98.7)


def test_numbers_from_formulas_and_ambiguous_dots(tmp_path):
    rows = [{"commune": "31555", "logements": 239.99999999999997, "surface_m2": "12.500"}]
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": rows})
    report = api.import_paths(tmp_path / "espace", [path])
    assert not report.refused
    assert facts(tmp_path / "espace", "patrimoine").select("logements", "surface_m2").row(0) == (240, 12.5)
    assert [(p.cellule, p.regle, p.gravite) for p in report.problems] == [("E4", "separateur", AVERTISSEMENT)]


def test_a_bug_while_checking_a_batch_refuses_only_the_file_that_triggers_it(tmp_path, monkeypatch):
    """Questionnaires are checked together: a bug met on one of them must not refuse the others."""
    from acterr_cli.inputs import questionnaire

    real = questionnaire.find_layout

    def flaky(grid, sheet):
        if grid.frame.height and sheet.name == "Patrimoine" and any("31069" in str(v) for v in grid.frame.to_series(0)):
            raise KeyError("bogue simulé")
        return real(grid, sheet)

    monkeypatch.setattr(questionnaire, "find_layout", flaky)
    files = [builders.write_org_a(tmp_path), builders.write_org_b(tmp_path), builders.write_org_c(tmp_path)]
    report = api.verify_paths(files)
    by_file = {f.fichier: f for f in report.fichiers}
    assert by_file["org_a.xlsx"].statut == "refuse" and "erreur interne" in by_file["org_a.xlsx"].problemes[0].message
    assert by_file["org_b.xlsx"].statut == "verifie" and by_file["org_c.xlsx"].statut == "verifie"
    for name in ("org_b.xlsx", "org_c.xlsx"):  # checked again alone: told once, as when checked alone
        alone = api.verify_paths([tmp_path / name]).fichiers[0]
        assert [p.to_dict() for p in by_file[name].problemes] == [p.to_dict() for p in alone.problemes]


def test_a_file_without_identity_beside_a_file_without_rows(tmp_path, monkeypatch):
    """In one batch, a file whose Organisme sheet is wrong (its rows are not kept) and a file whose
    sheet has no row: one check for both, each file gets its own report, and the good one its facts."""
    from acterr_cli.inputs import batch

    checks = []
    real = batch.check_questionnaires
    monkeypatch.setattr(batch, "check_questionnaires", lambda drafts, *args: checks.append(len(drafts)) or real(drafts, *args))
    bad = builders.write_questionnaire(tmp_path / "mauvais.xlsx", {**builders.ORG_A, "siren": "123456789"}, builders.TABLES_A)
    empty = builders.write_questionnaire(tmp_path / "vide.xlsx", builders.ORG_B, {**builders.TABLES_B, "Patrimoine": []})
    report = api.import_paths(tmp_path / "espace", [bad, empty])
    assert checks == [2]  # no bug met, so no file checked again alone
    by_file = {f.fichier: f for f in report.fichiers}
    assert [p.regle for p in by_file["mauvais.xlsx"].problemes] == ["siren"]
    assert by_file["vide.xlsx"].statut == "importe" and not report.internal_errors


def test_hidden_rows_are_read_and_told(tmp_path):
    """A data row hidden by hand or filtered out is read like the others (its dwellings count), and
    the import says which data rows were hidden; hidden titles, help lines, empty rows or notes
    below the Total row are not data: not a word about them."""
    path = builders.write_org_a(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Patrimoine"]
    ws["A6"], ws["A8"] = "Total", "Source : service patrimoine"
    for row in (1, 2, 5, 8, *range(9, 300)):  # title, help, Blagnac (250 dwellings), the note, many empty rows
        ws.row_dimensions[row].hidden = True
    organisme = wb["Organisme"]
    name_row = next(c.row for c in organisme["B"] if c.value == builders.ORG_A["raison_sociale"])
    organisme.row_dimensions[name_row].hidden = True
    organisme.row_dimensions[1].hidden = True
    wb.save(path)
    report = api.import_paths(tmp_path / "espace", [path])
    hidden = [(p.feuille, p.cellule, p.gravite, p.valeur) for p in report.problems if p.regle == "ligne_masquee"]
    assert sorted(hidden) == [("Organisme", f"A{name_row}", AVERTISSEMENT, str(name_row)), ("Patrimoine", "A5", AVERTISSEMENT, "5")]
    assert "1 ligne(s) de données masquée(s)" in next(p.message for p in report.problems if p.regle == "ligne_masquee")
    assert facts(tmp_path / "espace", "patrimoine")["logements"].sum() == 800 + 250


def test_a_hidden_data_row_after_many_empty_hidden_rows_is_told(tmp_path):
    rows = [{"commune": "31555", "logements": 10}] + [{}] * 250 + [{"commune": "31069", "logements": 5}]
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": rows})
    wb = openpyxl.load_workbook(path)
    for row in range(5, 257):
        wb["Patrimoine"].row_dimensions[row].hidden = True
    wb.save(path)
    report = api.verify_paths([path])
    assert [(p.cellule, p.valeur) for p in report.problems if p.regle == "ligne_masquee"] == [("A255", "255")]


def test_hidden_rows_of_an_xlsx_liasse_are_told(tmp_path):
    source = builders.write_liasse(tmp_path)
    wb = openpyxl.Workbook()
    for line in source.read_text(encoding="utf-8").splitlines():
        wb.active.append(line.split(";"))
    wb.active.row_dimensions[2].hidden = True
    path = tmp_path / "liasse.xlsx"
    wb.save(path)
    report = api.verify_paths([path])
    assert [(p.cellule, p.regle, p.valeur) for p in report.problems if p.regle == "ligne_masquee"] == [("A2", "ligne_masquee", "2")]


def test_hidden_rows_of_an_ods_liasse_are_told(tmp_path):
    """LibreOffice marks hidden rows table:visibility="collapse" (by hand) or "filter", and writes
    identical rows once with a count: rows are numbered as LibreOffice shows them."""
    def cell(text: str) -> str:
        return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'

    other = builders.LIASSE_B.replace(builders.SIREN_B, builders.SIREN_A).replace("Logis Test B", "Habitat Test A")
    source = builders.write_liasse(tmp_path, rows=(builders.LIASSE_B, other))
    lines = [line.split(";") for line in source.read_text(encoding="utf-8").splitlines()]
    rows = ['<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>',  # blank rows first
            f"<table:table-row>{''.join(map(cell, lines[0]))}</table:table-row>",
            f"<table:table-row>{''.join(map(cell, lines[1]))}</table:table-row>",
            '<table:table-row table:number-rows-repeated="2" table:visibility="collapse"><table:table-cell/></table:table-row>',
            f"<table:table-row table:visibility=\"filter\">{''.join(map(cell, lines[2]))}</table:table-row>",
            *(f"<table:table-row>{''.join(map(cell, line))}</table:table-row>" for line in lines[3:])]
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               f'<table:table table:name="Liasse">{"".join(rows)}</table:table></office:spreadsheet></office:body></office:document-content>')
    path = tmp_path / "liasse.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"/>')
        zf.writestr("content.xml", content)
    report = api.verify_paths([path])
    assert not report.refused, [p.message for p in report.problems]
    # two blank rows, header (3), first line (4), two empty hidden rows (5, 6), then the filtered line
    assert [(p.cellule, p.valeur) for p in report.problems if p.regle == "ligne_masquee"] == [("A7", "7")]


def test_columns_whose_values_are_not_read_are_told(tmp_path):
    """A renamed column (while the sheet lacks one of its own) and a second column with the same
    header are read by nobody: each is told with its cell, never silently dropped."""
    path = builders.write_org_a(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Patrimoine"]
    ws["F3"] = "Loyers quittancés (€)"  # was « Loyers annuels quittancés (€) »
    extra = ws.max_column + 1
    ws.cell(3, extra, "Logements")
    ws.cell(4, extra, 999)
    wb.save(path)
    report = api.verify_paths([path])
    told = {p.cellule: p.message for p in report.problems if p.regle == "colonne"}
    assert "colonne « Loyers quittancés (€) » non reconnue : ses valeurs ne sont pas lues" in told["F3"]
    assert "« Loyers annuels quittancés (€) »" in told["F3"]
    assert told[f"{openpyxl.utils.get_column_letter(extra)}3"].startswith("colonne « Logements » en double")
    assert not report.refused  # warnings: the rest of the sheet is read
    # an organisation's own column (« Nom de la commune ») while optional columns are absent: not a word
    wb = openpyxl.load_workbook(path)
    ws = wb["Patrimoine"]
    ws["F3"], ws.cell(3, extra).value = "Nom de la commune", None
    ws.cell(4, extra).value = None
    wb.save(path)
    assert not [p for p in api.verify_paths([path]).problems if p.regle == "colonne"]


def test_a_percentage_typed_in_a_count_is_refused_not_read_as_its_number(tmp_path):
    """« 25 % » under « dont en QPV » (a number of dwellings) is not 25 dwellings."""
    path = builders.write_org_a(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Patrimoine"]["C4"] = "25 %"
    wb["Patrimoine"]["D4"] = "beaucoup %"  # not a number at all: told once, as such
    wb.save(path)
    report = api.verify_paths([path])
    [problem] = [p for p in report.problems if p.regle == "pourcentage_inattendu"]
    assert (problem.feuille, problem.cellule, problem.gravite, problem.valeur) == ("Patrimoine", "C4", ERREUR, "25 %")
    assert [p.regle for p in report.problems if p.cellule == "D4"] == ["nombre"]
