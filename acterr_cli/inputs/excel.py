"""Reading workbooks as grids of text with the calamine engine (fastexcel).

Every sheet is read as text (codes keep their leading zeros, numbers are parsed later with the
French rules) and without header, so that each value keeps its Excel address: calamine keeps
leading empty rows when asked (`skip_rows=0`) but drops leading empty columns, so the first
used column is read from the sheet's `<dimension>` element.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import fastexcel
import polars as pl

from acterr_cli.errors import InvalidDataError
from acterr_cli.inputs.cells import column_letter, header_key

MAX_ROWS = 200_000  # a questionnaire sheet beyond this is refused (bounded memory)


@dataclass
class Grid:
    """A sheet as text: `frame` columns c0, c1… ; row i is Excel row i + 1; column j is letter
    column_letter(j + col_offset)."""

    sheet: str
    frame: pl.DataFrame
    col_offset: int = 0

    def cell(self, row_index: int, col_index: int) -> str:
        return f"{column_letter(col_index + self.col_offset)}{row_index + 1}"

    def letter(self, col_index: int) -> str:
        return column_letter(col_index + self.col_offset)


class Workbook:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._reader = fastexcel.read_excel(str(self.path))
        except Exception as exc:  # fastexcel raises several error types for unreadable files
            raise InvalidDataError(
                f"{self.path.name} : ce fichier n'est pas un classeur Excel lisible ({_short(exc)})."
            ) from exc
        self.sheet_names: list[str] = list(self._reader.sheet_names)
        self._offsets = _first_columns(self.path)

    def find_sheet(self, name: str) -> str | None:
        """Sheet name as written in the file, matched without case, accents, spaces or punctuation."""
        key = header_key(name)
        return next((s for s in self.sheet_names if header_key(s) == key), None)

    def grid(self, sheet: str) -> Grid:
        try:
            data = self._reader.load_sheet(
                sheet, header_row=None, skip_rows=0, dtypes="string", n_rows=MAX_ROWS + 1
            ).to_polars()
        except Exception as exc:
            raise InvalidDataError(f"{self.path.name}, feuille {sheet} : lecture impossible ({_short(exc)}).") from exc
        if data.height > MAX_ROWS:
            raise InvalidDataError(
                f"{self.path.name}, feuille {sheet} : plus de {MAX_ROWS:,} lignes ; ce n'est pas un questionnaire acterr.".replace(",", " ")
            )
        data = data.rename({c: f"c{i}" for i, c in enumerate(data.columns)})
        return Grid(sheet, data, self._offsets.get(sheet, 0))


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]+)\$?\d+')


def _first_columns(path: Path) -> dict[str, int]:
    """First used column of each sheet of an xlsx (0 for A), from the <dimension> element.
    Missing or unreadable information gives 0 (the sheet then starts at column A)."""
    offsets: dict[str, int] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            sheets = _sheet_files(zf)
            for name, member in sheets.items():
                with zf.open(member) as fh:
                    head = fh.read(4096)
                match = _DIMENSION.search(head)
                if match:
                    offsets[name] = _column_index(match.group(1).decode())
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    return offsets


def _sheet_files(zf: zipfile.ZipFile) -> dict[str, str]:
    workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({rid: t for t, rid in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    result = {}
    for name, rid in re.findall(r'<(?:\w+:)?sheet\b[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook):
        target = targets.get(rid)
        if target:
            member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            result[_unescape(name)] = member
    return result


def _unescape(name: str) -> str:
    return name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1
