"""Generates the import test corpus: tidy workbooks, their messy twins, and broken files.

    .venv/bin/python tests/corpus/generate_corpus.py      (needs LibreOffice: soffice)

- `tidy/`: the fixtures of tests/builders.py (organisations A, B, C and the liasse) plus an
  organisation D with the codes people get wrong, written by acterr's own questionnaire writer.
- `messy/`: the *same facts* written the way people actually fill workbooks — titles and merged
  cells above the header, columns moved, renamed, hidden, header in capitals or on two lines,
  blank rows, a Total row computed by a formula and notes under it, codes typed as numbers,
  French numbers as text (« 1 234,56 € » with normal, non-breaking and narrow spaces), formulas,
  lower-case list values, extra sheets, sheet names with stray spaces — then re-saved by
  LibreOffice (xlsx, ods and xls). tests/test_import_corpus.py imports both sets into two
  workspaces and requires exactly the same facts and the same computed figures.
- `resaved/`: tidy organisation A opened and saved by LibreOffice without any change.
- `broken/`: each file has one deliberate mistake; `broken/attendu.json` gives the sheet, the
  cell and the rule of the error the reader must report.

The outputs are committed (CI has no LibreOffice); rerun this script when the layout changes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

import builders  # noqa: E402

from acterr_cli.inputs import questionnaire_schema as qs  # noqa: E402

NBSP, NNBSP = "\u00a0", "\u202f"

# ─── Organisation D: the codes people get wrong (tidy twin: canonical codes) ───

SIREN_D = "900000035"
ORG_D = {
    "siren": SIREN_D, "raison_sociale": "Société d'Économie Mixte Test D", "famille": "SEM", "exercice": 2025,
    "logements_debut": 590, "logements_fin": 600, "etp_total": 8.5, "masse_salariale_totale": 380000.5,
    "cout_gestion_sociale_eur": 12500, "taux_satisfaction_pct": 76.5,
}
TABLES_D = {
    "Patrimoine": [
        {"commune": "01165", "logements": 120, "logements_qpv": 0, "surface_m2": 7800.5},
        {"commune": "31144", "logements": 80, "logements_qpv": 0, "surface_m2": 5100},
        {"commune": "75056", "logements": 150, "logements_qpv": 60, "surface_m2": 9000},
        {"commune": "69123", "logements": 100, "logements_qpv": 30, "surface_m2": 6400},
        {"commune": "13055", "logements": 90, "logements_qpv": 45, "surface_m2": 5500},
        {"commune": "2A004", "logements": 40, "logements_qpv": 10, "surface_m2": 2600},
        {"commune": "31069", "logements": 20, "logements_qpv": 0, "surface_m2": 1300},
    ],
    "Fiscalite": [
        {"commune": "75056", "tfpb_eur": 150000.75, "abattement_tfpb_eur": 18000},
        {"commune": "13055", "tfpb_eur": 62000, "abattement_tfpb_eur": 9000},
    ],
    "Achats": [
        {"commune_fournisseur": "69123", "siret": "35278957200018", "fournisseur": "Lyon Rénovation",
         "nature": "Réhabilitation", "montant_ht_eur": 250000, "commune_operation": "69123", "ess": "non"},
        {"commune_fournisseur": "13055", "siret": "44212345100019", "fournisseur": "Régie de quartier",
         "nature": "Entretien courant", "montant_ht_eur": 45000.5, "commune_operation": "13055", "ess": "oui"},
        {"commune_fournisseur": "75056", "siret": "80012345700015", "fournisseur": "Bureau d'études",
         "nature": "Frais généraux", "montant_ht_eur": 30000, "ess": "non"},
    ],
}
# What the messy twin types instead of the canonical code (same commune for the reference).
D_CODES_AS_TYPED = {"01165": 1003, "31144": "31214", "75056": "75111", "69123": "69383", "13055": 13201,
                    "2A004": " 2a004", "31069": "Blagnac (31)"}


# ─── How a value is written by someone filling the workbook by hand ───

def french(value: float, decimals: int = 0, space: str = " ") -> str:
    text = f"{value:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", space)
    return text


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def messy_number(value, i: int, column: qs.Column):
    """Cycle through the ways people type numbers (same value whatever the form)."""
    if isinstance(value, str):
        return value  # broken files: a formula or a text written on purpose
    if isinstance(value, float) and value != int(value):
        return [value, french(value, 2), french(value, 2, NBSP) + " €"][i % 3]
    value = int(value)
    forms = [
        value,
        french(value, 0, NBSP),
        french(value, 2) + (" €" if column.kind == qs.AMOUNT else ""),
        float(value),
        f"={value - value // 3}+{value // 3}",  # a formula: LibreOffice stores its computed value
        french(value, 0, NNBSP),
    ]
    return forms[i % len(forms)]


def messy_commune(code: str, i: int):
    if code.isdigit() and code.startswith("0"):
        return int(code)  # typed as a number: the leading zero is lost
    if code.isdigit():
        return [int(code), f"{code[:2]} {code[2:]}", f" {code} "][i % 3]
    return code.lower()


CHOICE_FORMS: list[Callable[[str], str]] = [str.lower, lambda v: strip_accents(v).upper(), lambda v: v.replace(" ", "-")]


def messy_value(column: qs.Column, value, i: int):
    if value is None:
        return None
    if column.kind == qs.COMMUNE:
        return messy_commune(str(value), i)
    if column.kind in (qs.INT, qs.AMOUNT):
        return messy_number(value, i, column)
    if column.kind == qs.PERCENT:
        return french(value, 1) + " %"
    if column.kind == qs.CHOICE:
        return CHOICE_FORMS[i % len(CHOICE_FORMS)](value)
    if column.kind == qs.YESNO:
        return {"oui": ["OUI", "Oui", "o"], "non": ["NON", "non", "n"]}[value][i % 3]
    if column.kind == qs.SIRET:
        return f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}"
    if column.kind == qs.QPV:
        return value.lower()
    return value


HEADER_FORMS: list[Callable[[qs.Column], str]] = [
    lambda c: c.label.upper(),
    lambda c: strip_accents(c.label).lower(),
    lambda c: c.label.replace(" ", "\n", 1),
    lambda c: c.label.replace("(€)", "en €").replace("(m²)", "m²"),
    lambda c: c.label + " *",
    lambda c: c.field,
]


# ─── Messy sheets ───

@dataclass
class Mess:
    """The liberties taken with one table sheet."""

    name: str  # sheet name as the user renamed it
    first_col: int = 1  # 0-based: the table starts in column B
    titles: int = 3  # rows above the header (merged title, subtitle, blank)
    reverse: bool = False  # columns in another order
    blank_after: tuple[int, ...] = (0,)  # data rows followed by a blank row
    total: bool = True  # a Total row (SUM formulas) and a note below it
    hide_field: str | None = None  # a real data column, hidden
    notes_column: bool = True  # a hidden « Commentaire » column inside the table
    seed: int = 0
    cells: dict = field(default_factory=dict)  # (field, data row) -> Excel reference, filled on writing


def write_messy_table(wb: openpyxl.Workbook, sheet: qs.Sheet, rows: list[dict], mess: Mess,
                      commune_forms: dict | None = None) -> None:
    ws = wb.create_sheet(mess.name)
    fields = [c for c in sheet.columns if any(r.get(c.field) is not None for r in rows)]
    if mess.reverse:
        fields = fields[:1] + fields[1:][::-1]
    if mess.notes_column:
        fields.insert(2, None)
    c0 = mess.first_col + 1
    ws.cell(1, c0, f"{sheet.title} — exercice 2025".upper())
    ws.merge_cells(start_row=1, start_column=c0, end_row=1, end_column=c0 + len(fields) - 1)
    ws.cell(2, c0, "Données extraites du logiciel de gestion, à vérifier avant envoi")
    header = mess.titles + 1
    for k, column in enumerate(fields):
        title = "Commentaire" if column is None else HEADER_FORMS[(k + mess.seed) % len(HEADER_FORMS)](column)
        ws.cell(header, c0 + k, title)
    r = header
    for i, row in enumerate(rows):
        r += 1
        for k, column in enumerate(fields):
            if column is None:
                ws.cell(r, c0 + k, "vérifié" if i % 2 else None)
                continue
            value = row.get(column.field)
            if column.kind == qs.COMMUNE and commune_forms and value in commune_forms:
                written = commune_forms[value]
            elif value == 0 and column.kind in (qs.INT, qs.AMOUNT) and i % 2 == 1:
                written = None  # a blank cell in a filled column is a zero
            else:
                written = messy_value(column, value, i + k + mess.seed)
            ws.cell(r, c0 + k, written)
            mess.cells[(column.field, i)] = f"{get_column_letter(c0 + k)}{r}"
        if i in mess.blank_after:
            r += 1
            ws.cell(r, c0, " ")  # a « blank » row that holds a space
    if mess.total:
        r += 1
        ws.cell(r, c0, "Total")
        for k, column in enumerate(fields):
            if column is not None and column.kind in (qs.INT, qs.AMOUNT):
                letter = get_column_letter(c0 + k)
                ws.cell(r, c0 + k, f"=SUM({letter}{header + 1}:{letter}{r - 1})")
        ws.cell(r + 2, c0, "Source : service patrimoine, extraction du 15 janvier")
    _hide(ws, fields, mess, c0)
    ws.auto_filter.ref = f"{get_column_letter(c0)}{header}:{get_column_letter(c0 + len(fields) - 1)}{r}"
    ws.freeze_panes = ws.cell(header + 1, c0)


def _hide(ws, fields: list, mess: Mess, c0: int) -> None:
    for k, column in enumerate(fields):
        hidden = column is None or (column is not None and column.field == mess.hide_field)
        if hidden:
            ws.column_dimensions[get_column_letter(c0 + k)].hidden = True
    ws.row_dimensions[mess.titles + 2].hidden = True  # the first data row, hidden (still data)


ORGANISME_LABELS = {  # how a user rewrote the labels of the Organisme sheet
    "siren": "n° siren", "raison_sociale": "RAISON SOCIALE", "famille": "Famille d'organisme",
    "exercice": "Exercice comptable", "logements_debut": "Logements au 1er janvier",
    "logements_fin": "logements au 31 decembre", "etp_total": "Effectif total\n(ETP)",
    "masse_salariale_totale": "Masse salariale brute en €", "cout_gestion_sociale_eur": "Coût de la gestion sociale (€)",
    "administrateurs": "ADMINISTRATEURS", "administratrices": "dont femmes",
    "admin_locataires": "dont représentants des locataires", "taux_satisfaction_pct": "Taux de satisfaction des locataires (%)",
}


def write_messy_organisme(wb: openpyxl.Workbook, org: dict, name: str = "Organisme ", percent_format: bool = False) -> dict:
    """Labels in column B (merged B:C), values under a « Valeur » header in column D. With
    `percent_format`, a rate is typed as Excel users do: « 82 % » in a cell formatted as a
    percentage, which the file stores as 0.82."""
    ws = wb.create_sheet(name, 0)
    ws["B1"] = "FICHE D'IDENTITÉ DE L'ORGANISME"
    ws.merge_cells("B1:E1")
    ws["B3"], ws["D3"] = "Information", "Valeur"
    cells, r = {}, 3
    for i, column in enumerate(qs.ORGANISME.columns):
        value = org.get(column.field)
        if value is None:
            continue
        r += 1
        if column.field == "logements_debut":
            ws.cell(r, 2, "Contact : service RSE")  # a line that is no field
            r += 1
        ws.cell(r, 2, ORGANISME_LABELS[column.field])
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
        cell = ws.cell(r, 4, _organisme_value(column, value, i))
        if percent_format and column.kind == qs.PERCENT:
            cell.value, cell.number_format = value / 100, "0.0%"
        cells[column.field] = f"D{r}"
    return cells


def _organisme_value(column: qs.Column, value, i: int):
    if column.kind == qs.SIREN:
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    if column.kind == qs.YEAR:
        return str(value)  # typed as text
    if column.kind == qs.CHOICE:
        return value.lower()
    return messy_value(column, value, i)


def extra_sheets(wb: openpyxl.Workbook) -> None:
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Remarques pour l'association régionale"
    notes["A2"] = "Les chiffres de production sont provisoires."
    wb.create_sheet("Feuil1")
    pivot = wb.create_sheet("TCD ")
    pivot.append(["Commune", "Somme de Logements"])
    pivot.append(["Toulouse", 800])


SHEET_NAMES = {"Patrimoine": " Patrimoine ", "Production": "PRODUCTION", "Fiscalite": "Fiscalité", "Salaries": "Salariés",
               "Achats": "ACHATS ", "Actions_sociales": "Actions sociales", "Attributions": "attributions",
               "Energie": "Énergie"}


def messy_workbook(org: dict, tables: dict, seed: int, commune_forms: dict | None = None,
                   percent_format: bool = True) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    extra_sheets(wb)
    for k, (name, rows) in enumerate(reversed(list(tables.items()))):
        sheet = next(s for s in qs.TABLE_SHEETS if s.name == name)
        hide = next((c.field for c in sheet.columns[2:] if any(r.get(c.field) is not None for r in rows)), None)
        mess = Mess(SHEET_NAMES[name], first_col=(seed + k) % 3, titles=2 + (seed + k) % 3, reverse=bool((seed + k) % 2),
                    blank_after=(0, len(rows) - 2) if len(rows) > 2 else (0,), hide_field=hide, seed=seed + k)
        write_messy_table(wb, sheet, rows, mess, commune_forms)
    write_messy_organisme(wb, org, percent_format=percent_format)
    return wb


# ─── The messy liasse (B) ───

LIASSE_B_VALUES = dict(zip(builders.LIASSE_HEADER.split(";"), builders.LIASSE_B.split(";"), strict=True))
LIASSE_HEADERS = {"siren": "SIREN", "raison_sociale": "Raison sociale", "famille": "FAMILLE", "exercice": "Exercice",
                  "logements": "Logements", "loyers_quittances_eur": "Loyers quittancés (€)", "taux_vacance_pct": "Taux vacance (%)",
                  "taux_recouvrement_pct": "TAUX_RECOUVREMENT_PCT", "etp_total": "ETP total", "autofinancement_net_eur":
                  "Autofinancement net (€)"}


def write_messy_liasse_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export liasse"
    ws["A1"] = "Liasse fédérale — extraction Harmonia"
    ws.merge_cells("A1:F1")
    fields = list(LIASSE_B_VALUES)[::-1]
    fields.remove("siren")
    fields.insert(0, "siren")
    for k, name in enumerate(fields):
        ws.cell(3, k + 1, LIASSE_HEADERS.get(name, name.upper()))
        raw = LIASSE_B_VALUES[name]
        ws.cell(4, k + 1, _liasse_cell(name, raw, k))
    ws.cell(5, 2, "Total")
    wb.save(path)


def _liasse_cell(name: str, raw: str, k: int):
    if name in ("siren", "raison_sociale", "famille"):
        return f"{raw[:3]} {raw[3:6]} {raw[6:]}" if name == "siren" else raw
    number = float(raw.replace(" ", "").replace(",", "."))
    if k % 2 and number == int(number):
        return int(number)
    return raw.replace(" ", NBSP)


def write_messy_liasse_csv(path: Path) -> None:
    """latin-1, « ; », a title line and a blank line above the header, quoted French numbers."""
    header = builders.LIASSE_HEADER.split(";")
    values = builders.LIASSE_B.split(";")
    lines = ["Liasse 2025 - export comptable;;", "",
             ";".join(h.upper() for h in header),
             ";".join(f'"{v.replace(" ", NBSP)}"' if " " in v else v for v in values),
             ";Total;;;;"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


# ─── Broken files: one mistake each ───

def broken_cases() -> dict[str, tuple[dict, dict, dict]]:
    """name -> (organisme, tables, options of the run); the expected error is found on writing."""
    org, patrimoine = builders.ORG_A, builders.TABLES_A["Patrimoine"]
    one = [dict(patrimoine[0])]

    def with_row(**changes) -> list[dict]:
        return [dict(patrimoine[1]), {**patrimoine[0], **changes}]

    return {
        "commune_inconnue.xlsx": (org, {"Patrimoine": with_row(commune="315555")}, {}),
        "commune_nom_ambigu.xlsx": (org, {"Patrimoine": with_row(commune="Saint-Martin")}, {}),
        "qpv_au_dessus_des_logements.xlsx": (org, {"Patrimoine": with_row(logements_qpv=900)}, {}),
        "dpe_plus_que_logements.xlsx": (org, {"Patrimoine": with_row(dpe_d=400)}, {}),
        "logements_negatifs.xlsx": (org, {"Patrimoine": with_row(logements_pmr=-4)}, {}),
        "nombre_illisible.xlsx": (org, {"Patrimoine": with_row(surface_m2="environ 50 000")}, {}),
        "erreur_excel.xlsx": (org, {"Patrimoine": with_row(loyers_annuels_eur="=1/0")}, {}),
        "dalo_au_dessus_des_attributions.xlsx": (org, {"Attributions": [
            {"commune": "31555", "attributions": 40, "attributions_dalo": 55}]}, {}),
        "nature_inconnue.xlsx": (org, {"Achats": [{"commune_fournisseur": "31555", "nature": "Plomberie", "montant_ht_eur": 1000}]}, {}),
        "exercice_2024.xlsx": ({**org, "exercice": 2024}, {"Patrimoine": one}, {"exercice": 2025}),
        "siren_invalide.xlsx": ({**org, "siren": "900000002"}, {"Patrimoine": one}, {}),
        "satisfaction_120.xlsx": ({**org, "taux_satisfaction_pct": 120}, {"Patrimoine": one}, {}),
        "colonne_manquante.xlsx": (org, {"Patrimoine": [{k: v for k, v in r.items() if k != "logements"} for r in patrimoine]}, {}),
    }


EXPECTED_RULES = {
    "commune_inconnue.xlsx": ("Patrimoine", "commune", "commune"), "commune_nom_ambigu.xlsx": ("Patrimoine", "commune", "commune"),
    "qpv_au_dessus_des_logements.xlsx": ("Patrimoine", "logements_qpv", "partie_total"),
    "dpe_plus_que_logements.xlsx": ("Patrimoine", "dpe_inconnu", "dpe_total"),
    "logements_negatifs.xlsx": ("Patrimoine", "logements_pmr", "positif"),
    "nombre_illisible.xlsx": ("Patrimoine", "surface_m2", "nombre"),
    "erreur_excel.xlsx": ("Patrimoine", "loyers_annuels_eur", "erreur_excel"),
    "dalo_au_dessus_des_attributions.xlsx": ("Attributions", "attributions_dalo", "partie_total"),
    "nature_inconnue.xlsx": ("Achats", "nature", "liste"),
    "exercice_2024.xlsx": ("Organisme", "exercice", "exercice"), "siren_invalide.xlsx": ("Organisme", "siren", "siren"),
    "satisfaction_120.xlsx": ("Organisme", "taux_satisfaction_pct", "pourcentage"),
}


def write_broken(folder: Path, raw: Path) -> dict:
    expected = {}
    for name, (org, tables, options) in broken_cases().items():
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        cells = write_messy_organisme(wb, org, "Organisme")
        messes = {}
        for sheet_name, rows in tables.items():
            sheet = next(s for s in qs.TABLE_SHEETS if s.name == sheet_name)
            messes[sheet_name] = Mess(sheet_name, first_col=1, titles=2, blank_after=(), total=False, notes_column=False)
            write_messy_table(wb, sheet, rows, messes[sheet_name])
        wb.save(raw / name)
        expected[name] = _expected(name, cells, messes, tables, options)
    expected.update(_broken_without_libreoffice(folder))
    return expected


def _expected(name: str, cells: dict, messes: dict, tables: dict, options: dict) -> dict:
    if name == "colonne_manquante.xlsx":
        return {"feuille": "Patrimoine", "cellule": "B3", "regle": "colonne", "options": options}
    sheet, field_name, rule = EXPECTED_RULES[name]
    if sheet == "Organisme":
        cell = cells[field_name]
    else:
        row = len(tables[sheet]) - 1  # the faulty row is the last one
        cell = messes[sheet].cells[(field_name, row)]
    return {"feuille": sheet, "cellule": cell, "regle": rule, "options": options}


def _broken_without_libreoffice(folder: Path) -> dict:
    """Files LibreOffice must not repair: a formula saved without its value, and CSV liasses."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    write_messy_organisme(wb, builders.ORG_A, "Organisme")
    mess = Mess("Fiscalite", first_col=0, titles=2, blank_after=(), total=False, notes_column=False)
    write_messy_table(wb, qs.FISCALITE, [{"commune": "31555", "tfpb_eur": 400000}, {"commune": "31069", "tfpb_eur": "=100000+20000"}], mess)
    wb.save(folder / "formule_sans_valeur.xlsx")  # openpyxl writes formulas without computed values
    header = builders.LIASSE_HEADER
    bad_siren = builders.LIASSE_B.replace(builders.SIREN_B, "900000018", 1)
    (folder / "liasse_siren_invalide.csv").write_text("\n".join((header, builders.LIASSE_B.replace(builders.SIREN_B, builders.SIREN_A), bad_siren)) + "\n", "utf-8")
    (folder / "liasse_doublon.csv").write_text("\n".join((header, builders.LIASSE_B, builders.LIASSE_B)) + "\n", "utf-8")
    return {
        "formule_sans_valeur.xlsx": {"feuille": "Fiscalite", "cellule": mess.cells[("tfpb_eur", 1)], "regle": "erreur_excel", "options": {}},
        "liasse_siren_invalide.csv": {"feuille": None, "cellule": "A3", "regle": "siren", "options": {}},
        "liasse_doublon.csv": {"feuille": None, "cellule": "A3", "regle": "doublon", "options": {}},
    }


# ─── LibreOffice ───

def libreoffice(files: list[Path], fmt: str, outdir: Path) -> None:
    """Open and save each file with LibreOffice, as a user of LibreOffice Calc would."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("LibreOffice (soffice) est nécessaire pour régénérer le corpus.")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                        "--outdir", str(outdir), *map(str, files)], check=True, capture_output=True, timeout=600)


def main() -> None:
    for sub in ("tidy", "messy", "resaved", "broken"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
        (HERE / sub).mkdir()
    tidy = HERE / "tidy"
    builders.write_org_a(tidy)
    builders.write_org_b(tidy)
    builders.write_org_c(tidy)
    builders.write_questionnaire(tidy / "org_d.xlsx", ORG_D, TABLES_D)
    builders.write_liasse(tidy)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp)
        (raw / "ods").mkdir()
        (raw / "xls").mkdir()
        messy_workbook(builders.ORG_A, builders.TABLES_A, seed=0).save(raw / "org_a.xlsx")
        messy_workbook(builders.ORG_B, builders.TABLES_B, seed=1).save(raw / "ods" / "org_b.xlsx")
        messy_workbook(builders.ORG_C, builders.TABLES_C, seed=2).save(raw / "org_c.xlsx")
        # .xls keeps number formats where acterr does not look: D types its rate as text (« 76,5 % »)
        messy_workbook(ORG_D, TABLES_D, seed=3, commune_forms=D_CODES_AS_TYPED, percent_format=False).save(raw / "xls" / "org_d.xlsx")
        write_messy_liasse_xlsx(raw / "liasse.xlsx")
        libreoffice([raw / "org_a.xlsx", raw / "org_c.xlsx", raw / "liasse.xlsx"], "xlsx", HERE / "messy")
        libreoffice([raw / "ods" / "org_b.xlsx"], "ods", HERE / "messy")
        libreoffice([raw / "xls" / "org_d.xlsx"], "xls", HERE / "messy")
        write_messy_liasse_csv(HERE / "messy" / "liasse_latin1.csv")
        libreoffice([tidy / "org_a.xlsx"], "xlsx", HERE / "resaved")
        (raw / "broken").mkdir()
        expected = write_broken(HERE / "broken", raw / "broken")
        libreoffice(sorted((raw / "broken").glob("*.xlsx")), "xlsx", HERE / "broken")
    (HERE / "broken" / "attendu.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"corpus : {sum(1 for p in HERE.rglob('*') if p.is_file())} fichiers, {total / 1024:.0f} Ko")


if __name__ == "__main__":
    main()
