"""The board workbook in French, written atomically with xlsxwriter.

Sheets, in reading order: Synthèse (the page a board reads), Graphiques, the ranking (Classement,
Territoires or Organismes), Carte (maps), Parties prenantes, Pairs, the detail (Indicateurs, Par organisme),
Qualité des données, Méthodologie, Paramètres, Sources, and the charts' data.

Rules kept here:
- the two ledgers (valeur locale, plus-value sociale) are shown side by side, never added;
- additive figures only are ever summed; ratios are recomputed by the engine at each level;
- no user string can become a formula: strings go through `write_string`, numbers through
  `write_number`, missing values are blank cells or « n.c. »; the workbook refuses conversions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook

from acterr_cli import __version__
from acterr_cli.common.atomic import atomic_output
from acterr_cli.outputs.reports import by_organisation, carte, charts, evolution, method, quality, sensitivity_sheet, synthese, tables
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, ReportData, ReportInputs, Scope
from acterr_cli.outputs.reports.xlsx import WORKBOOK_OPTIONS, Formats
from acterr_cli.referentiel.model import Referentiel
from acterr_cli.results import Computation


@dataclass
class WrittenReport:
    path: Path
    exercice: int | None
    sheets: list[str]
    perimetre: str = ENSEMBLE
    sujet: str = ""
    charts: int = 0


def write_report(path: Path, source: Computation | ReportInputs, exercice: int | None = None, *,
                 scope: Scope | None = None, referentiel: Referentiel | None = None) -> WrittenReport:
    """Write the report of `scope` (all territories of the level by default) for one exercice
    (the latest by default). `source` is the level's computation, or ReportInputs with the
    national and regional computations, import warnings and families."""
    inputs = source if isinstance(source, ReportInputs) else ReportInputs(source)
    if referentiel is not None:
        inputs = replace(inputs, referentiel=referentiel)
    return write_workbook(Path(path), ReportData.build(inputs, scope, exercice))


def write_workbook(path: Path, data: ReportData) -> WrittenReport:
    evolution.attach(data)  # the « Évolution » sheet's figures, when N-1 is imported
    with atomic_output(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        fmt, cd = Formats(wb), charts.ChartData()
        _properties(wb, data)
        for write_sheet in sheet_writers(data):
            write_sheet(wb, data, fmt, cd)
        cd.write(wb, fmt, data.title)
        sheets = [ws.get_name() for ws in wb.worksheets()]
        count = sum(len(ws.charts) for ws in wb.worksheets())
        wb.close()
    return WrittenReport(path, data.year, sheets, data.kind, data.subject, count)


def sheet_writers(data: ReportData) -> list:
    """The sheet writers of a report, in order (each takes wb, data, formats, chart data)."""
    writers = [
        lambda wb, d, f, cd: synthese.write(wb, d, f, cd),
        lambda wb, d, f, cd: charts.graphiques(wb, d, f, cd),
        *([lambda wb, d, f, cd: evolution.write(wb, d, f, cd)] if data.evolution else []),  # N-1 → N bridge
        lambda wb, d, f, cd: tables.ranking(wb, d, f),
        lambda wb, d, f, cd: carte.write(wb, d, f),
        lambda wb, d, f, cd: tables.stakeholders(wb, d, f),
    ]
    if data.peers:
        writers.append(lambda wb, d, f, cd: tables.pairs(wb, d, f))
    writers.append(lambda wb, d, f, cd: tables.indicateurs(wb, d, f))
    if data.kind != ORGANISME:
        writers.append(lambda wb, d, f, cd: by_organisation.write(wb, d, f))
    writers.append(lambda wb, d, f, cd: sensitivity_sheet.write(wb, d, f))
    writers += [lambda wb, d, f, cd: quality.write(wb, d, f), lambda wb, d, f, cd: method.write(wb, d, f)]
    return writers


def _properties(wb: Workbook, data: ReportData) -> None:
    wb.set_properties({
        "title": data.title,
        "subject": "Valeur locale, plus-value sociale et environnement des organismes Hlm, par territoire",
        "author": "acterr",
        "category": "Rapport",
        "keywords": "Hlm, valeur locale, plus-value sociale, territoire, acterr",
        "comments": f"Produit par acterr {data.meta.get('acterr', __version__)} — référentiel {data.referentiel.version}",
    })
    wb.set_custom_property("acterr_perimetre", data.kind)
    wb.set_custom_property("acterr_niveau", data.level)
