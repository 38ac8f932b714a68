"""Kept for compatibility: the board workbook now lives in `acterr_cli.outputs.reports`."""

from acterr_cli.outputs.reports import ADDITIVE_UNITS, WrittenReport, is_additive, number_format, write_report

__all__ = ["WrittenReport", "write_report", "number_format", "is_additive", "ADDITIVE_UNITS"]
