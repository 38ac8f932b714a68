"""Reports: the board workbook (xlsx), its data (csv, parquet), the one-page fiche, user templates.

`write_report` is the library entry point for the workbook; `api.export` runs a whole export
from a workspace as the CLI does."""

from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData, ReportInputs, Scope
from acterr_cli.outputs.reports.workbook import WrittenReport, write_report, write_workbook
from acterr_cli.outputs.reports.xlsx import ADDITIVE_UNITS, is_additive, number_format

__all__ = ["ENSEMBLE", "ORGANISME", "TERRITOIRE", "ReportData", "ReportInputs", "Scope", "WrittenReport", "write_report",
           "write_workbook", "ADDITIVE_UNITS", "is_additive", "number_format"]
