"""Which cells show a percentage: « 82 % » typed in a cell formatted as a percentage is stored as 0.82.

calamine gives the stored value (0.82) without its number format, and a percent field read as 0.82
would be 100 times too small in every report. For the few percent fields (satisfaction, vacancy,
recovery rates) the format of their cells is looked up in the file itself: the cell's style in
xlsx (built-in formats 9 and 10, or a custom format with « % »), the value type in ods.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from acterr_cli.inputs.cells import column_letter
from acterr_cli.inputs.container import xlsx_sheet_members

_XF_SECTION = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)")
_NUMFMT = re.compile(rb'<numFmt\b[^>]*numFmtId="(\d+)"[^>]*formatCode="([^"]*)"')
_PERCENT_BUILTIN = {9, 10}
_ODS_TABLE = re.compile(rb'<table:table\b[^>]*table:name="([^"]*)"[^>]*>(.*?)</table:table>', re.S)
_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*)>(.*?)</table:table-row>|<table:table-row\b([^>]*)/>", re.S)
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)/?>")
_REPEAT_ROWS = re.compile(rb'number-rows-repeated="(\d+)"')
_REPEAT_COLS = re.compile(rb'number-columns-repeated="(\d+)"')


def percent_cells(source: Path | bytes, sheet: str, refs: list[str]) -> set[str]:
    """The cells among `refs` (« B16 ») of `sheet` whose number format is a percentage. `source`:
    the file, or its bytes."""
    if not refs:
        return set()
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names:
                return _xlsx(zf, sheet, refs, xlsx_sheet_members(zf))
            if "content.xml" in names:
                return _ods(zf.read("content.xml"), sheet, set(refs))
    except (zipfile.BadZipFile, KeyError, OSError):
        pass
    return set()  # .xls, CSV: no format known, the value is read as it is


def _xlsx(zf: zipfile.ZipFile, sheet: str, refs: list[str], members: dict[str, str]) -> set[str]:
    member = next((m for m, name in members.items() if name == sheet), None)
    if member is None or "xl/styles.xml" not in zf.namelist():
        return set()
    styles = percent_styles(zf.read("xl/styles.xml"))
    return styled_cells(zf.read(member), refs, styles) if styles else set()


def styled_cells(xml: bytes, refs: list[str], styles: set[int]) -> set[str]:
    """The cells among `refs` of a worksheet's XML whose style is one of `styles`."""
    found = set()
    for ref in refs:
        match = re.search(rb'<c\b[^>]*\br="' + ref.encode() + rb'"[^>]*>', xml)
        style = re.search(rb'\bs="(\d+)"', match.group(0)) if match else None
        if style and int(style.group(1)) in styles:
            found.add(ref)
    return found


def percent_styles(styles: bytes) -> set[int]:
    """Indexes of the cell styles (xl/styles.xml) that show a number as a percentage."""
    custom = {int(i): code for i, code in _NUMFMT.findall(styles)}
    section = _XF_SECTION.search(styles)
    percent = set()
    for index, attributes in enumerate(_XF.findall(section.group(1)) if section else []):
        fmt = re.search(rb'numFmtId="(\d+)"', attributes)
        number = int(fmt.group(1)) if fmt else 0
        if number in _PERCENT_BUILTIN or b"%" in re.sub(rb'&quot;.*?&quot;|\\.', b"", custom.get(number, b"")):
            percent.add(index)
    return percent


def _ods(content: bytes, sheet: str, refs: set[str]) -> set[str]:
    """Walk the sheet's rows and cells (repeats included) up to the last requested cell."""
    table = next((body for name, body in _ODS_TABLE.findall(content) if name.decode("utf-8", "replace") == sheet), None)
    if table is None:
        return set()
    last_row = max(int(re.sub(r"\D", "", r)) for r in refs)
    found, row = set(), 0
    for match in _ODS_ROW.finditer(table):
        attributes, cells = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3), b"")
        repeat = _repeat(_REPEAT_ROWS, attributes)
        for r in range(row, row + min(repeat, last_row + 1 - row)):
            found |= _ods_row(cells, r, refs)
        row += repeat
        if row > last_row:
            break
    return found


def _ods_row(cells: bytes, row: int, refs: set[str]) -> set[str]:
    found, col = set(), 0
    for cell in _ODS_CELL.finditer(cells):
        repeat = _repeat(_REPEAT_COLS, cell.group(1))
        if b'value-type="percentage"' in cell.group(1):
            for c in range(col, col + min(repeat, 200)):
                ref = f"{column_letter(c)}{row + 1}"
                if ref in refs:
                    found.add(ref)
        col += repeat
    return found


def _repeat(pattern: re.Pattern, attributes: bytes) -> int:
    match = pattern.search(attributes)
    return int(match.group(1)) if match else 1
