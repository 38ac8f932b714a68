"""xlsxwriter helpers shared by every sheet: French number formats, cached cell formats, typed
cells (never a formula), named tables, print setup.

True numbers: a percentage is stored as a fraction (35,4 % is the number 0.354) under a percent
format, so that a reader's own formula or chart on the cell is right. The scaling is made in one
place: a Format whose number format multiplies by 100 (a `%` outside quotes) carries `scale = 100`
and `put` / `number` divide by it. A per-mille figure keeps its value in ‰ (Excel has no per-mille
format that scales) under a custom format « 1,23 ‰ », and its headers say « ‰ ».

French formats: each number format starts with the locale tag `[$-40C]` (French). Excel shows
the reader's own separators whatever the tag; LibreOffice, which binds a format to a locale,
then shows `1 234 567,8` even on an English machine — so the PDF pages look French everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from acterr_cli.common.formatting import decimals_for, fr_number
from acterr_cli.outputs.nature import MARK, is_flat

FR = "[$-40C]"
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
NAVY, GREY, ORANGE, RED = "#1F3864", "#7F7F7F", "#C55A11", "#C00000"
LEDGER_COLORS = {"valeur_locale": ("#1F4E79", "#DDEBF7"), "plus_value_sociale": ("#6A1B5F", "#F3E1EF"),
                 "environnement": ("#375623", "#E2EFDA"), "contexte": ("#595959", "#EDEDED"),
                 "gouvernance": ("#7F6000", "#FFF2CC")}
TABLE_STYLE = "Table Style Light 9"
NOT_COMPUTABLE = "n.c."
DECIMALS = {"ETP": 1, "‰": 2}  # beyond formatting.decimals_for: ETP counts halves, ‰ values are small
# Units whose values add up across territories and organisations; everything else (%, ‰, €/m²/mois,
# €/logt, €/mois, €/hab, ratio, unknown units) is a ratio: never summed, never averaged.
ADDITIVE_UNITS = frozenset({"€", "€/an", "ETP", "ETP-année", "logements", "ménages", "h", "MWh/an", "tCO2e/an"})
MILLION = 1e6


def unit_decimals(unit: str | None) -> int:
    return DECIMALS.get(unit or "", decimals_for(unit or ""))


def is_additive(unit: str | None) -> bool:
    return (unit or "") in ADDITIVE_UNITS


def is_money(unit: str | None) -> bool:
    return (unit or "").startswith("€")


def _symbol(unit: str) -> str:
    return "€" if is_money(unit) else unit if unit in ("%", "‰") else ""


@lru_cache(maxsize=256)  # asked once per cell of every table
def number_format(unit: str | None) -> str:
    """Full-precision format of a unit: `[$-40C]#,##0 "€"`, `[$-40C]#,##0.0" "%` (a fraction)…"""
    unit = unit or ""
    decimals = unit_decimals(unit)
    base = FR + "#,##0" + ("." + "0" * decimals if decimals else "")
    if unit == "%":
        return base + PERCENT
    symbol = _symbol(unit)
    return f'{base} "{symbol}"' if symbol else base


PERCENT = '" "%'  # a real percent format (the cell holds 0.354), with the French space before « % »
COVERAGE_FORMAT = FR + "0" + PERCENT


@lru_cache(maxsize=1024)
def format_scale(num_format: str | None) -> int:
    """100 when a number format shows its cell times 100 (a `%` outside quotes), else 1."""
    if not num_format:
        return 1
    unquoted = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", num_format)
    return 100 if "%" in unquoted else 1


def stored(value: float, num_format: str | None) -> float:
    """The number a cell of this format holds for a figure in the report's units (35.4 % → 0.354)."""
    scale = format_scale(num_format)
    return value / scale if scale != 1 else value


def short_format(unit: str | None, value: float | None) -> str:
    """Headline format: large euro amounts in millions (`59,5 M€`; the cell keeps the exact value)."""
    if is_money(unit) and value is not None and abs(value) >= MILLION:
        return FR + '#,##0.0,, "M€"'
    return number_format(unit)


UNIT_SHORT = {"logements": "logts", "pour 100 logts": "/100 logts", "pour 100 ménages": "/100 ménages",
              "ratio": ""}


def display_format(unit: str | None, value: float | None) -> str:
    """Headline format with its unit: `59,5 M€`, `35,4 %`, `1 616 ETP-année` (one spelling per unit), `2 535 ménages`."""
    unit = unit or ""
    if is_money(unit) or unit in ("%", "‰") or not unit:
        return short_format(unit, value)
    suffix = UNIT_SHORT.get(unit, unit).replace('"', "")  # a unit from a user référentiel stays a literal
    return number_format(unit) + (f' "{suffix}"' if suffix else "")


def variation_format(unit: str | None) -> str:
    """Change vs N-1: percentage points for a percentage, relative change otherwise."""
    if unit == "%":
        return f'{FR}+#,##0.0" pt";-#,##0.0" pt";0.0" pt"'
    return f'{FR}+#,##0.0{PERCENT};-#,##0.0{PERCENT};0.0{PERCENT}'


def short_text(value: float | None, unit: str | None) -> str:
    """The figure as a French string, same rounding as `short_format` (for ranges and captions)."""
    if value is None:
        return NOT_COMPUTABLE
    if is_money(unit) and abs(value) >= MILLION:
        return f"{fr_number(value / MILLION, 1)} M€"
    number = fr_number(value, unit_decimals(unit))
    symbol = _symbol(unit or "")
    if unit and not symbol and UNIT_SHORT.get(unit) != "":  # a ratio is a bare number (« 1,86 – 2,07 », never « 2,07 ratio »)
        return f"{number} {unit}"
    return f"{number} {symbol}".strip()


def range_text(low: float | None, high: float | None, unit: str | None, with_unit: bool = True) -> str:
    """« 48,2 – 61,0 M€ »; empty when the figure has no range (a count, a measured ratio)."""
    if low is None or high is None or abs(high - low) <= 1e-9 * max(1.0, abs(high)):
        return ""
    if is_money(unit) and max(abs(low), abs(high)) >= MILLION:
        lo, hi = fr_number(low / MILLION, 1), fr_number(high / MILLION, 1)
        return "" if lo == hi else f"{lo} – {hi}" + (" M€" if with_unit else "")
    d = unit_decimals(unit)
    if fr_number(low, d) == fr_number(high, d):  # a spread smaller than the rounding says nothing
        return ""
    return f"{fr_number(low, d)} – " + (short_text(high, unit) if with_unit else fr_number(high, d))


class Formats:
    """One cached xlsxwriter Format per distinct set of properties, all on the same base font."""

    BASE = {"font_name": "Calibri", "font_size": 10, "valign": "top"}

    def __init__(self, wb: Workbook):
        self.wb = wb
        self._cache: dict[tuple, Format] = {}

    def __call__(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            f = self.wb.add_format({**self.BASE, **props})
            f.scale = format_scale(props.get("num_format"))  # read by put(): 35.4 under a % format is 0.354
            self._cache[key] = f
        return self._cache[key]

    def title(self) -> Format:
        return self(bold=True, font_size=16, font_color=NAVY, valign="vcenter")

    def section(self, color: str = NAVY) -> Format:
        return self(bold=True, font_size=12, font_color=color, bottom=2, bottom_color=color, valign="bottom")

    def header(self, color: str = NAVY) -> Format:
        return self(bold=True, font_color="#FFFFFF", bg_color=color, text_wrap=True, valign="vcenter", border=1,
                    border_color="#BFBFBF")

    def band(self, color: str) -> Format:
        return self(bold=True, font_size=12, font_color="#FFFFFF", bg_color=color, valign="vcenter", text_wrap=True, indent=1)

    def wrap(self, **extra: Any) -> Format:
        return self(text_wrap=True, **extra)

    def note(self, **extra: Any) -> Format:
        return self(italic=True, font_color=GREY, **extra)

    def missing(self, **extra: Any) -> Format:
        return self(italic=True, font_color=GREY, align="right", **extra)

    def integer(self, **extra: Any) -> Format:
        return self(num_format=FR + "#,##0", **extra)

    def number(self, unit: str | None, **extra: Any) -> Format:
        return self(num_format=number_format(unit), **extra)

    def coverage(self, value: float | None, **extra: Any) -> Format:
        return self(num_format=COVERAGE_FORMAT, **({"font_color": ORANGE} if partial(value) else {}), **extra)


    def flat(self, **extra: Any) -> Format:
        """The style of an « estimation forfaitaire » (with a number format from flat_format)."""
        return self(**{"italic": True, "bg_color": FLAT_FILL, **extra})  # a row already in italic (Non réparti) stays so

    def figure(self, r: dict, num_format: str | None = None, **extra: Any) -> Format:
        """A computed figure: its unit's format (or `num_format`), in orange when its coverage is
        partial, marked « ≈ » in italic on a light fill when it is an estimation forfaitaire."""
        num_format = num_format or number_format(r["unite"])
        props = {**({"font_color": ORANGE} if partial(r.get("couverture")) else {}), **extra}
        if is_flat(r):
            return self.flat(num_format=flat_format(num_format), **props)
        return self(num_format=num_format, **props)


FLAT_FILL = "#FFF2CC"  # light yellow behind an estimation forfaitaire
# The evidence grade (`fiabilite`) as a raised letter after a figure, by its number format: the cell
# keeps its number (a reader's formula on it stays right) and the column its width. No raised capital
# C exists: the raised small c reads as the grade beside the legend.
GRADE_MARKS = {"A": "\u1d2c", "B": "\u1d2e", "C": "\u1d9c"}


def graded_format(num_format: str, grade: str | None) -> str:
    """The number format with the grade's raised letter after the figure (« 59,1 M€ᴬ »), in each of
    its sections; unchanged without a grade."""
    mark = GRADE_MARKS.get(grade or "")
    if not mark:
        return num_format
    sections = re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', num_format)  # the semicolons outside quotes
    return ";".join(f'{section}"{mark}"' for section in sections)


def flat_format(num_format: str) -> str:
    """A number format with the mark « ≈ » before the number: « ≈ 4,7 M€ » (the cell keeps its value)."""
    body = num_format[len(FR):] if num_format.startswith(FR) else num_format
    return f'{FR}"{MARK} "{body}'


FULL_COVERAGE = 100 - 1e-9  # % : below, a figure counts only part of what it covers


def partial(coverage: float | None) -> bool:
    return coverage is not None and coverage < FULL_COVERAGE


# ─── cells ───

def put(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """Numbers as numbers (a percentage as a fraction under a percent format), everything else as
    text (never a formula), None as a blank cell."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        scale = getattr(fmt, "scale", 1)
        ws.write_number(row, col, value / scale if scale != 1 else value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def merged(ws: Worksheet, row: int, first_col: int, last_col: int, text: str, fmt: Format, last_row: int | None = None) -> None:
    last_row = row if last_row is None else last_row
    if last_col > first_col or last_row > row:
        ws.merge_range(row, first_col, last_row, last_col, "", fmt)
    ws.write_string(row, first_col, text, fmt)


@lru_cache(maxsize=4096)  # the same labels and reasons recur on many rows
def lines(text: str, width: float, font_size: float = 10, bold: bool = False) -> int:
    """Lines a wrapped text takes in a column of `width` characters (an estimate: neither Excel
    nor LibreOffice grows the rows of a file written by xlsxwriter)."""
    # characters per unit of width at 10 pt: 1,2 in bold (headers, capitals), 1,3 in running text
    # (1,4 measured through LibreOffice, less the word a line cannot end on); small type runs denser (1,35)
    factor = 1.35 if font_size < 10 else 1.2 if bold else 1.3
    per_line = max(1, int(width * factor * 10 / font_size))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def fit_row(ws: Worksheet, row: int, cells: Iterable[tuple[Any, float, Format | None]], minimum: float = 15) -> None:
    """Set the height of a row from its wrapped text cells: (value, column width, format)."""
    height = minimum
    for value, width, f in cells:
        if isinstance(value, str) and f is not None and getattr(f, "text_wrap", 0):
            size = f.font_size or 10
            height = max(height, lines(value, width, size, bool(getattr(f, "bold", 0))) * size * 1.3 + 4)
    if height > minimum:
        ws.set_row(row, min(height, 409))


def note(ws: Worksheet, fmt: Formats, row: int, text: str, first_col: int, last_col: int, width: float, **extra: Any) -> int:
    """A wrapped note merged over columns (so it is never cut at the print area). Returns the next row."""
    f = fmt(italic=True, font_color=GREY, text_wrap=True, **extra)
    merged(ws, row, first_col, last_col, text, f)
    fit_row(ws, row, [(text, width, f)])
    return row + 1


# ─── tables ───

@dataclass
class Col:
    """A column of a data table: header, width, value getter, format (per row)."""

    header: str
    width: float
    value: Callable[[dict], Any]
    fmt: Callable[[dict], Format] | None = None


def table(ws: Worksheet, fmt: Formats, row: int, cols: list[Col], rows: list[dict], name: str,
          color: str = NAVY, first_col: int = 0, set_widths: bool = True) -> int:
    """Write rows cell by cell (typed), then declare them as a named Excel table (with a filter
    button per column). Returns the first free row after the table."""
    if set_widths:
        for j, c in enumerate(cols):
            ws.set_column(first_col + j, first_col + j, c.width)
    header = fmt.header(color)
    fit_row(ws, row, [(c.header, c.width, header) for c in cols])
    for i, r in enumerate(rows):
        cells = [(c.value(r), c.width, c.fmt(r) if c.fmt else fmt()) for c in cols]
        for j, (value, _, f) in enumerate(cells):
            put(ws, row + 1 + i, first_col + j, value, f)
        fit_row(ws, row + 1 + i, cells)
    if not rows:
        ws.write_string(row + 1, first_col, "(aucun)", fmt.note())
    last = row + max(1, len(rows))
    add_table(ws, row, first_col, last, first_col + len(cols) - 1, {
        "name": name, "style": TABLE_STYLE, "autofilter": True,
        "columns": [{"header": c.header, "header_format": header} for c in cols],
    })
    return last + 1


# Beyond this many cells a table is written as a filtered range with the same headers and no table
# style: xlsxwriter records every cell of an Excel table to check overlaps (a national overview by
# EPCI, 168 000 rows × 64 columns: 11 s and a gigabyte for that alone), and Excel itself slows
# down on such tables. A regional overview's largest table (≈ 900 000 cells) stays a table.
MAX_TABLE_CELLS = 1_000_000


def add_table(ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int, options: dict) -> None:
    """An Excel table (`options` as xlsxwriter's add_table), or above MAX_TABLE_CELLS its headers
    and a filter button per column."""
    if (last_row - first_row + 1) * (last_col - first_col + 1) <= MAX_TABLE_CELLS:
        ws.add_table(first_row, first_col, last_row, last_col, options)
        return
    for j, column in enumerate(options.get("columns", [])):
        ws.write_string(first_row, first_col + j, column["header"], column.get("header_format"))
    if options.get("autofilter", True):
        ws.autofilter(first_row, first_col, last_row, last_col)


def print_setup(ws: Worksheet, title: str, repeat: tuple[int, int] | None = None, portrait: bool = False,
                fit_width: bool = True) -> None:
    """A4, landscape unless told, fit to the page width (unless the sheet is too wide to read so),
    title and sheet name in the header, page numbers in the footer; repeated header rows on long
    tables."""
    ws.set_portrait() if portrait else ws.set_landscape()
    ws.set_paper(9)  # A4
    if fit_width:
        ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.65, bottom=0.6, )
    ws.set_header(f"&L&8{title.replace('&', '&&')}&R&8&A", {"margin": 0.25})
    ws.set_footer("&L&8acterr — valeur locale et plus-value sociale ne s'additionnent pas&C&8Page &P / &N&R&8&D",
                  {"margin": 0.25})
    if repeat is not None:
        ws.repeat_rows(*repeat)


def heading(ws: Worksheet, fmt: Formats, title: str, subtitle: str, widths: list[float]) -> int:
    """Title and subtitle rows of a sheet whose columns have these widths: the subtitle is wrapped
    over all of them, so that it is never cut at the edge of the printed page. Returns the first
    free row."""
    ws.set_row(0, 24)
    ws.write_string(0, 0, title, fmt.title())
    note(ws, fmt, 1, subtitle, 0, len(widths) - 1, sum(widths))
    return 3


def fit_rows(rows: list[dict], header_row: int, max_rows: int) -> tuple[list[dict], str | None]:
    """Rows that fit below `header_row` in a worksheet (Excel's limit), and a note when some do not."""
    room = max_rows - header_row - 1
    if len(rows) <= room:
        return rows, None
    return rows[:room], (f"Tableau tronqué à {fr_number(room)} lignes sur {fr_number(len(rows))} (limite d'Excel) : "
                         "choisissez un niveau plus agrégé, un exercice, ou la sortie JSON de « acterr compute ».")


def defined_name(wb: Workbook, name: str, sheet: str, row: int, col: int) -> None:
    """A workbook-level name for one cell (the same contract as the user templates)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    wb.define_name(name, f"='{sheet}'!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}")
