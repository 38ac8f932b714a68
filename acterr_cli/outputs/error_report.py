"""The problems found in a run's files, as a workbook an association can send back to an organisation.

One row per problem, next to its cell reference (« Patrimoine, E27 »), sorted in the order of the
organisation's own workbook (file, sheet, row, column), errors in red and warnings in yellow,
with a filter on every column; a first sheet sums up each file. Everything read from the inputs is
written as text: a value such as « =HYPERLINK(…) » stays text, never becomes a formula.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import xlsxwriter

from acterr_cli import __version__
from acterr_cli.common.atomic import atomic_output
from acterr_cli.common.formatting import fr_count
from acterr_cli.errors import ERREUR, Problem
from acterr_cli.importing import IMPORTE, REFUSE, VERIFIE, FileReport, ImportReport
from acterr_cli.inputs import rules

STATUTS = {IMPORTE: "importé", VERIFIE: "valide", REFUSE: "refusé"}
PROBLEM_COLUMNS = (  # header, width, attribute
    ("Fichier", 28, "fichier"), ("Feuille", 16, "feuille"), ("Cellule", 9, "cellule"), ("Colonne", 26, "colonne"),
    ("Valeur trouvée", 20, "valeur"), ("Gravité", 14, "gravite"), ("Règle", 16, "regle"), ("Message", 90, "message"),
    ("Comment corriger", 60, "corriger"),
)
FILE_COLUMNS = (("Fichier", 30), ("Statut", 10), ("Organisme", 30), ("SIREN", 12), ("Exercice", 9),
                ("Erreurs", 9), ("Avertissements", 14), ("Lignes ignorées", 14))


def write_error_report(report: ImportReport, path: Path) -> Path:
    """Write the report atomically to `path` (xlsx) and return it."""
    with atomic_output(Path(path)) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False,
                                            "strings_to_urls": False})
        formats = _formats(wb)
        _write_files(wb, formats, report)
        _write_problems(wb, formats, report)
        wb.set_properties({"title": "Problèmes relevés par acterr", "comments": f"acterr {__version__}"})
        wb.close()
    return Path(path)


def _formats(wb: xlsxwriter.Workbook) -> dict:
    base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#1F3864"}),
        "note": wb.add_format({**base, "italic": True, "font_color": "#595959"}),
        "header": wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}),
        "text": wb.add_format({**base}),
        "wrap": wb.add_format({**base, "text_wrap": True}),
        "int": wb.add_format({**base, "num_format": "0"}),
        ERREUR: wb.add_format({**base, "bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        "avertissement": wb.add_format({**base, "font_color": "#7F6000", "bg_color": "#FFEB9C"}),
        REFUSE: wb.add_format({**base, "bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        "ok": wb.add_format({**base, "font_color": "#006100", "bg_color": "#C6EFCE"}),
    }


def _write_files(wb, f: dict, report: ImportReport) -> None:
    ws = wb.add_worksheet("Fichiers")
    ws.write_string(0, 0, "Vérification des fichiers par acterr", f["title"])
    summary = report.to_dict()["resume"]
    ws.write_string(1, 0, f"{datetime.now():%d/%m/%Y %H:%M} — {fr_count(summary['fichiers'], 'fichier')}, "
                          f"{fr_count(summary['erreurs'], 'erreur')}, {fr_count(summary['avertissements'], 'avertissement')}. Détail cellule par cellule : feuille « Problèmes ».", f["note"])
    header = 3
    for col, (title, width) in enumerate(FILE_COLUMNS):
        ws.set_column(col, col, width)
        ws.write_string(header, col, title, f["header"])
    row = header
    for file in report.fichiers:
        for organisme in file.organismes or [{}]:
            row += 1
            _write_file_row(ws, f, row, file, organisme)
    ws.freeze_panes(header + 1, 0)
    ws.autofilter(header, 0, max(row, header + 1), len(FILE_COLUMNS) - 1)


def _write_file_row(ws, f: dict, row: int, file: FileReport, organisme: dict) -> None:
    warnings = sum(p.gravite != ERREUR for p in file.problemes)
    ws.write_string(row, 0, file.fichier, f["text"])
    ws.write_string(row, 1, STATUTS.get(file.statut, file.statut), f[REFUSE] if file.statut == REFUSE else f["ok"])
    ws.write_string(row, 2, str(organisme.get("raison_sociale") or ""), f["text"])
    ws.write_string(row, 3, str(organisme.get("siren") or ""), f["text"])
    if organisme.get("exercice") is not None:
        ws.write_number(row, 4, int(organisme["exercice"]), f["int"])
    ws.write_number(row, 5, file.erreurs, f["int"])
    ws.write_number(row, 6, warnings, f["int"])
    ws.write_number(row, 7, file.lignes_ignorees, f["int"])


def _write_problems(wb, f: dict, report: ImportReport) -> None:
    ws = wb.add_worksheet("Problèmes")
    for col, (title, width, _) in enumerate(PROBLEM_COLUMNS):
        ws.set_column(col, col, width, f["wrap"] if title in ("Message", "Comment corriger") else f["text"])
        ws.write_string(0, col, title, f["header"])
    problems = sorted(report.problems, key=_workbook_order)
    for row, problem in enumerate(problems, start=1):
        for col, (_, _, attribute) in enumerate(PROBLEM_COLUMNS):
            value = _how_to_fix(problem) if attribute == "corriger" else getattr(problem, attribute)
            fmt = f.get(problem.gravite, f["text"]) if attribute == "gravite" else None
            ws.write_string(row, col, "" if value is None else str(value), fmt)
    if not problems:
        ws.write_string(1, 0, "Aucun problème relevé.", f["note"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(problems), 1), len(PROBLEM_COLUMNS) - 1)


def _how_to_fix(problem: Problem) -> str:
    """The rule's « Comment corriger » (inputs/rules.py)."""
    rule = rules.of(problem.regle)
    return rule.fix if rule is not None else ""


def _workbook_order(problem: Problem) -> tuple:
    """File, sheet, then row and column as they appear in the workbook (E9 before E27)."""
    match = re.fullmatch(r"([A-Z]{1,3})(\d+)", problem.cellule or "")
    row, column = (int(match.group(2)), (len(match.group(1)), match.group(1))) if match else (0, (0, ""))
    return problem.fichier, problem.feuille or "", row, column, problem.gravite != ERREUR
