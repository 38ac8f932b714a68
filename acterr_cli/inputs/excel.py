"""Reading workbooks as grids of text with the calamine engine (fastexcel).

Every sheet is read as text (codes keep their leading zeros, numbers are parsed later with the
French rules) and without header, so that each value keeps its Excel address: calamine keeps
leading empty rows (`skip_rows=0`) but drops leading empty columns, whose count it reports as the
`absolute_index` of the first column. Cells holding an Excel error (#DIV/0!, #N/A…) come back
empty from calamine; they are kept aside, with the formulas saved without a computed value, so
that the readers can report them instead of reading them as blanks (which count as zero). In an
xlsx file the safety scan (container.py) finds both while it inflates the sheets anyway.

The file is read from the disk once: its checksum, the safety scan and the number formats are
taken from the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from acterr_cli.errors import InvalidDataError, Problem, system_error_in, system_reason
from acterr_cli.inputs import rules
from acterr_cli.inputs.cells import MAX_CELL_CHARS, column_letter, header_key
from acterr_cli.inputs.container import MAX_FILE_BYTES, MAX_ROWS, STYLES, inspect_workbook
from acterr_cli.inputs.formats import percent_cells, percent_styles, styled_cells
from acterr_cli.inputs.model import sha256_of

# calamine's names of Excel errors → what Excel shows in the cell
_EXCEL_ERRORS = {"Div0": "#DIV/0!", "NA": "#N/A", "Value": "#VALUE!", "Ref": "#REF!", "Name": "#NAME?",
                 "Num": "#NUM!", "Null": "#NULL!", "GettingData": "#GETTING_DATA"}
NO_VALUE = "formule sans valeur"  # marker for a formula saved without its computed value
_TOO_MANY_ROWS = f"plus de {MAX_ROWS:,} lignes".replace(",", " ") + " ; ce n'est pas un questionnaire ni une liasse, le fichier est refusé."
_TOO_LONG = f"texte de plus de {MAX_CELL_CHARS:,} caractères".replace(",", " ") + " (la limite d'Excel) ; le fichier est refusé."


# Letters that Unicode case folding leaves apart from their Latin look-alike: a Turkish keyboard
# types « ı » (dotless i) where a French one types « i ».
_FOLD = str.maketrans({"ı": "i", "ȷ": "j"})


def sheet_key(name: str) -> str:
    """Key under which sheet names are matched: Unicode case folding (« FISCALİTÉ »), accents
    stripped, dotless i read as i (« fıscalıte »), spaces and punctuation ignored."""
    return header_key(str(name).casefold().translate(_FOLD))


def sheet_names(path: Path) -> list[str]:
    """The sheet names of a workbook, without reading its sheets."""
    return list(fastexcel.read_excel(str(path)).sheet_names)


def column_name(j: int) -> str:
    """Name of the j-th column of a grid: calamine's own name for a sheet read without header."""
    return f"__UNNAMED__{j}"


@dataclass
class Grid:
    """A sheet as text: `frame` columns column_name(0), column_name(1)… ; row i is Excel row i + 1;
    column j is letter column_letter(j + col_offset). A blank cell (empty, or only spaces) is null. `errors` maps (row, column) of the frame to what Excel would
    show in a cell that has no usable value (« #DIV/0! », or NO_VALUE)."""

    sheet: str
    frame: pl.DataFrame
    col_offset: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    percent_lookup: Callable[[list[str]], set[str]] | None = None  # cells shown as percentages (see formats.py)
    hidden_rows: list[int] = field(default_factory=list)  # frame rows hidden in the workbook (xlsx, ods), by hand or by a filter

    def cell(self, row_index: int, col_index: int) -> str:
        return f"{column_letter(col_index + self.col_offset)}{row_index + 1}"

    def letter(self, col_index: int) -> str:
        return column_letter(col_index + self.col_offset)


class Workbook:
    def __init__(self, path: Path):
        self.path = Path(path)
        # Read once (the size is checked first): checksum, safety scan and formats use these bytes.
        self._data = self.path.read_bytes() if self.path.is_file() and self.path.stat().st_size <= MAX_FILE_BYTES else None
        self._scan = inspect_workbook(self.path, self._data)
        try:
            self._reader = fastexcel.read_excel(str(self.path))
            self.sheet_names: list[str] = list(self._reader.sheet_names)
        except Exception as exc:  # fastexcel raises several error types for unreadable files
            raise InvalidDataError(
                f"{self.path.name} : ce fichier n'est pas un classeur Excel lisible ({_short(exc)})."
            ) from exc

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self._data).hexdigest() if self._data is not None else sha256_of(self.path)

    def find_sheet(self, name: str) -> str | None:
        """Sheet name as written in the file, matched without case, accents, spaces or punctuation
        (see sheet_key)."""
        key = sheet_key(name)
        return next((s for s in self.sheet_names if sheet_key(s) == key), None)

    def grid(self, sheet: str, check_cells: bool = True) -> Grid:
        """The sheet as text. `check_cells=False` leaves the cell-length limit to the caller (a
        batch checks all its files' sheets at once, see `overlong_cell`)."""
        if self._scan.rows.get(sheet, 0) > MAX_ROWS:
            raise _located(self.path, sheet, None, _TOO_MANY_ROWS, rules.TAILLE)
        try:
            loaded = self._reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string", n_rows=MAX_ROWS + 1,
                                             whitespace_as_null=True)
            if self._scan.errors_known:
                data, errors = pl.DataFrame(loaded), None
            else:  # ods, xls: calamine tells which cells hold an error (through pyarrow)
                batch, cell_errors = loaded.to_arrow_with_errors()
                data, errors = pl.from_arrow(batch), _errors(cell_errors)
            columns = loaded.available_columns()
        except Exception as exc:
            raise _located(self.path, sheet, None, f"lecture impossible ({_short(exc)}).", rules.LECTURE) from exc
        if not isinstance(data, pl.DataFrame) or data.height > MAX_ROWS:
            raise _located(self.path, sheet, None, _TOO_MANY_ROWS, rules.TAILLE)
        names = [column_name(j) for j in range(data.width)]
        if data.columns != names:
            data = data.rename(dict(zip(data.columns, names, strict=True)))
        offset = columns[0].absolute_index if columns else 0
        if check_cells:
            long_cell = overlong_cell(data, offset)
            if long_cell:
                raise _located(self.path, sheet, long_cell, _TOO_LONG, rules.TAILLE)
        grid = Grid(sheet, data, offset, {}, functools.partial(self.percent_cells, sheet),
                    [n - 1 for n in self._scan.hidden_rows.get(sheet, []) if 0 < n <= data.height])
        if errors is None:
            _add_cells(grid, self._scan.errors.get(sheet, {}).items())
        else:
            grid.errors.update(errors)
        _add_cells(grid, ((ref, NO_VALUE) for ref in self._scan.formulas_without_value.get(sheet, [])))
        return grid

    def percent_cells(self, sheet: str, refs: list[str]) -> set[str]:
        """The cells among `refs` of `sheet` formatted as a percentage (see formats.py), from what
        the safety scan kept of an xlsx file when it can."""
        if not refs:
            return set()
        member = next((m for m, name in self._scan.members.items() if name == sheet), None)
        if STYLES not in self._scan.kept or member not in self._scan.kept:
            return percent_cells(self._data or self.path, sheet, refs)
        styles = self._percent_styles
        return styled_cells(self._scan.kept[member], refs, styles) if styles else set()

    @functools.cached_property
    def _percent_styles(self) -> set[int]:
        return percent_styles(self._scan.kept[STYLES])

    def too_long(self, sheet: str, cell: str) -> InvalidDataError:
        return _located(self.path, sheet, cell, _TOO_LONG, rules.TAILLE)


def _located(path: Path, sheet: str, cell: str | None, message: str, rule: rules.Rule) -> InvalidDataError:
    """A refusal that names its sheet and cell, as a structured problem for the report."""
    where = f"{path.name}, feuille {sheet}" + (f", cellule {cell}" if cell else "")
    problem = Problem(fichier=path.name, feuille=sheet, cellule=cell, regle=rule.code, message=message)
    return InvalidDataError(f"{where} : {message}", [problem])


def _short(exc: Exception) -> str:
    """What went wrong, on one line: the system's reason in French when it is the system's."""
    system = system_error_in(exc)
    if system is not None:
        return system_reason(system)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _errors(cell_errors) -> dict[tuple[int, int], str]:
    """Cells calamine could not give as text: Excel errors (« Error(Div0) »)."""
    found = {}
    for error in getattr(cell_errors, "errors", None) or []:
        detail = str(error.detail)
        name = detail.split("Error(", 1)[1].split(")", 1)[0] if "Error(" in detail else None
        if name is not None:
            found[tuple(error.position)] = _EXCEL_ERRORS.get(name, f"#{name.upper()}")
    return found


def _add_cells(grid: Grid, cells) -> None:
    """Cells (« C5 », what Excel shows) that have no usable value, at their frame position."""
    for ref, shown in cells:
        letters = "".join(ch for ch in ref if ch.isalpha())
        row = int(ref[len(letters):]) - 1
        col = _column_index(letters) - grid.col_offset
        if 0 <= row < grid.frame.height and 0 <= col < grid.frame.width:
            grid.errors.setdefault((row, col), shown)


def overlong_cell(data: pl.DataFrame, offset: int) -> str | None:
    """Excel cells hold at most 32 767 characters: a longer one is not a spreadsheet's doing."""
    if not data.width or not data.height:
        return None
    longest = data.select(pl.all().str.len_bytes().max()).row(0)
    for j, length in enumerate(longest):
        if length is not None and length > MAX_CELL_CHARS:  # bytes ≥ characters: confirm below
            chars = data.get_column(column_name(j)).str.len_chars()
            if chars.max() > MAX_CELL_CHARS:
                return f"{column_letter(j + offset)}{int(chars.arg_max()) + 1}"
    return None


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1
