"""Writes the questionnaire workbook (DATA.md §1): blank, or pre-filled (samples, tests).

Layout, shared with the reader through `questionnaire_schema`:
- `Organisme`: title in A1, help in A2, header row 4 (Information | Valeur | Aide), one field per row.
- table sheets: title in A1, a short help line per column in row 2, header row 3, data from row 4.
Header rows are locked (sheet protection without password, so users can still insert rows,
sort and filter); data cells are unlocked, carry drop-down lists and input help.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from acterr_cli import __version__
from acterr_cli.common.atomic import atomic_output
from acterr_cli.inputs import questionnaire_schema as qs

ORGANISME_HEADER_ROW = 4  # Excel row number
TABLE_HEADER_ROW = 3
DATA_ROWS = 5000  # rows prepared with validations in each table sheet
CHOICES_SHEET = "Listes"

_PROTECTION = {
    "insert_rows": True,
    "delete_rows": True,
    "format_columns": True,
    "format_rows": True,
    "sort": True,
    "autofilter": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


def write_questionnaire(
    path: Path,
    organisme: Mapping[str, Any] | None = None,
    tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write the questionnaire to `path` (atomically). `organisme` maps Organisme fields to values;
    `tables` maps a sheet name to its rows (dicts keyed by canonical field)."""
    with atomic_output(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        formats = _formats(wb)
        _write_readme(wb, formats)
        choice_ranges = _write_choices(wb, formats)
        _write_organisme(wb, formats, choice_ranges, organisme or {})
        for sheet in qs.TABLE_SHEETS:
            _write_table(wb, formats, choice_ranges, sheet, (tables or {}).get(sheet.name, []))
        wb.set_properties({"title": "Questionnaire acterr", "comments": f"acterr {__version__}"})
        wb.close()
    return Path(path)


def _formats(wb: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "Calibri", "font_size": 10}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "help": wb.add_format({**base, "italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"}),
        "header": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "vcenter"}),
        "label": wb.add_format({**base, "bold": True, "border": 1}),
        "text": wb.add_format({**base, "locked": False, "num_format": "@"}),
        "int": wb.add_format({**base, "locked": False, "num_format": "# ##0"}),
        "amount": wb.add_format({**base, "locked": False, "num_format": "# ##0.00"}),
        "input": wb.add_format({**base, "locked": False, "bg_color": "#FFF2CC", "border": 1}),
        "input_text": wb.add_format({**base, "locked": False, "bg_color": "#FFF2CC", "border": 1, "num_format": "@"}),
        "plain": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
    }


def _print_setup(ws, header_row: int | None = None) -> None:
    """A4 landscape, one page wide: the questionnaire is also printed and annotated by hand."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&A&R&P / &N")
    if header_row is not None:
        ws.repeat_rows(header_row)


def _write_readme(wb: xlsxwriter.Workbook, f: dict) -> None:
    ws = wb.add_worksheet("Lisez-moi")
    ws.set_column("A:A", 120, f["plain"])
    _print_setup(ws)
    lines = [
        ("Questionnaire acterr — valeur créée par l'organisme sur son territoire", "title"),
        (f"Généré par acterr {__version__}. Un classeur = un organisme × un exercice.", "plain"),
        ("1. Remplissez la feuille Organisme (SIREN, raison sociale, famille et exercice sont obligatoires).", "plain"),
        ("2. Remplissez les autres feuilles avec ce dont vous disposez : une feuille vide ou absente rend « non calculables » les indicateurs qui en dépendent, elle n'est jamais comptée comme zéro.", "plain"),
        ("3. Une ligne par commune (code INSEE à 5 caractères, ex. 31555 ; Corse 2A004 ; arrondissements de Paris, Lyon et Marseille acceptés).", "plain"),
        ("4. Montants en euros, sans formule si possible ; les listes déroulantes indiquent les valeurs attendues.", "plain"),
        ("5. Importez ensuite le classeur : acterr import questionnaire.xlsx", "plain"),
    ]
    for row, (text, fmt) in enumerate(lines):
        ws.write_string(row, 0, text, f[fmt])


def _write_choices(wb: xlsxwriter.Workbook, f: dict) -> dict[str, str]:
    """Controlled lists on a hidden sheet, referenced by the drop-downs."""
    ws = wb.add_worksheet(CHOICES_SHEET)
    ranges = {}
    for col, (name, values) in enumerate(qs.CHOICES.items()):
        ws.write_string(0, col, name, f["header"])
        for row, value in enumerate(values, start=1):
            ws.write_string(row, col, value)
        letter = xlsxwriter.utility.xl_col_to_name(col)
        ranges[name] = f"={CHOICES_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    ws.hide()
    return ranges


def _validation(column: qs.Column, choice_ranges: dict[str, str]) -> dict | None:
    message = {"input_title": column.label[:32], "input_message": column.help[:255]}
    if column.kind == qs.CHOICE:
        return {"validate": "list", "source": choice_ranges[column.choices], **message,
                "error_type": "warning", "error_message": "Valeur hors de la liste proposée."}
    if column.kind == qs.YESNO:
        return {"validate": "list", "source": ["oui", "non"], **message}
    if column.kind in (qs.INT,):
        return {"validate": "integer", "criteria": ">=", "value": 0, **message,
                "error_type": "warning", "error_message": "Nombre entier positif attendu."}
    if column.kind in (qs.AMOUNT,):
        return {"validate": "decimal", "criteria": ">=", "value": 0, **message,
                "error_type": "warning", "error_message": "Nombre positif attendu."}
    if column.kind == qs.PERCENT:
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100, **message}
    if column.kind == qs.YEAR:
        return {"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100, **message}
    return {"validate": "any", **message}


def _cell_format(column: qs.Column, f: dict) -> Any:
    if column.kind in (qs.INT, qs.YEAR):
        return f["int"]
    if column.kind in (qs.AMOUNT, qs.PERCENT):
        return f["amount"]
    return f["text"]


def _write_value(ws, row: int, col: int, value: Any, fmt) -> None:
    """Strings are always written as strings: never interpreted as formulas."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "oui" if value else "non", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_organisme(wb, f: dict, choice_ranges: dict[str, str], values: Mapping[str, Any]) -> None:
    sheet = qs.ORGANISME
    ws = wb.add_worksheet(sheet.name)
    ws.set_column("A:A", 42)
    ws.set_column("B:B", 28)
    ws.set_column("C:C", 60)
    ws.write_string(0, 0, sheet.title, f["title"])
    ws.write_string(1, 0, sheet.help, f["help"])
    header = ORGANISME_HEADER_ROW - 1
    for col, text in enumerate(("Information", "Valeur", "Aide")):
        ws.write_string(header, col, text, f["header"])
    for i, column in enumerate(sheet.columns, start=header + 1):
        label = column.label + (" *" if column.required else "")
        ws.write_string(i, 0, label, f["label"])
        fmt = f["input_text"] if column.kind in (qs.TEXT, qs.SIREN, qs.CHOICE) else f["input"]
        _write_value(ws, i, 1, values.get(column.field), fmt)
        ws.write_string(i, 2, column.help, f["help"])
        ws.data_validation(i, 1, i, 1, _validation(column, choice_ranges))
    ws.freeze_panes(header + 1, 0)
    ws.protect("", _PROTECTION)
    _print_setup(ws, header)
    ws.activate()


def _write_table(wb, f: dict, choice_ranges: dict[str, str], sheet: qs.Sheet, rows: Sequence[Mapping[str, Any]]) -> None:
    ws = wb.add_worksheet(sheet.name)
    ws.write_string(0, 0, sheet.title, f["title"])
    header = TABLE_HEADER_ROW - 1
    ws.set_row(1, 42)
    ws.set_row(header, 30)
    for col, column in enumerate(sheet.columns):
        fmt = _cell_format(column, f)
        ws.set_column(col, col, max(14, min(34, len(column.label) + 4)), fmt)
        ws.write_string(1, col, column.help, f["help"])
        ws.write_string(header, col, column.label, f["header"])
        ws.data_validation(header + 1, col, header + DATA_ROWS, col, _validation(column, choice_ranges))
        for r, row in enumerate(rows, start=header + 1):
            _write_value(ws, r, col, row.get(column.field), fmt)
    ws.freeze_panes(header + 1, 0)
    ws.protect("", _PROTECTION)
    _print_setup(ws, header)
