"""Reader of the federation liasse in the canonical layout (DATA.md §2), CSV or xlsx.

CSV files come as people export them: `;` or `,` or tab separated, UTF-8 (with or without BOM)
or latin-1, decimal commas. The file is read as a grid of text, so that the same header search,
parsing rules and cell references serve both CSV and Excel (« B7 » is where Excel shows it).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from acterr_cli.errors import ERREUR, InvalidDataError, Problem
from acterr_cli.inputs.cells import header_key
from acterr_cli.inputs.excel import Grid, Workbook
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.inputs.model import LIASSE as LIASSE_KIND
from acterr_cli.inputs.model import ImportUnit, ParsedFile, sha256_of, with_provenance
from acterr_cli.inputs.questionnaire import read_table
from acterr_cli.territory.reference import TerritorialReference

MAX_CSV_BYTES = 200 * 1024 * 1024
_REQUIRED_KEYS = {"siren", "exercice"}


def looks_like_liasse_header(cells: list[str | None]) -> bool:
    keys = {header_key(c) for c in cells if c}
    return _REQUIRED_KEYS <= keys


def read_csv_grid(path: Path) -> Grid:
    data = Path(path).read_bytes() if Path(path).stat().st_size <= MAX_CSV_BYTES else None
    if data is None:
        raise InvalidDataError(f"{Path(path).name} : fichier CSV trop volumineux pour une liasse (plus de 200 Mo).")
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    separator = max((";", ",", "\t"), key=first_line.count)
    try:
        frame = pl.read_csv(io.StringIO(text), separator=separator, has_header=False, infer_schema=False,
                            truncate_ragged_lines=True, quote_char='"')
    except Exception as exc:
        raise InvalidDataError(f"{Path(path).name} : CSV illisible ({str(exc).splitlines()[0][:200]}).") from exc
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    return Grid("", frame)  # a CSV has no sheet name


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_liasse(path: Path, reference: TerritorialReference, grid: Grid | None = None) -> ParsedFile:
    path = Path(path)
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=LIASSE_KIND)
    if grid is None:
        grid = read_csv_grid(path) if path.suffix.lower() in (".csv", ".txt") else _first_liasse_sheet(Workbook(path))
    facts = read_table(grid, LIASSE, parsed, reference)
    if facts is None or not facts.height or not parsed.ok:
        if facts is not None and not facts.height:
            parsed.problems.append(Problem(fichier=path.name, regle="vide", message="la liasse ne contient aucune ligne."))
        return parsed
    _check_duplicates(facts, parsed)
    if not parsed.ok:
        return parsed
    for row in facts.partition_by(["siren", "exercice"], as_dict=False):
        siren, exercice = row["siren"][0], int(row["exercice"][0])
        frame = with_provenance(row.drop("siren", "exercice"), siren=siren, exercice=exercice,
                                fichier=path.name, sha256=parsed.sha256, feuille=grid.sheet)
        raison = row["raison_sociale"][0] if "raison_sociale" in row.columns else None
        parsed.units.append(ImportUnit(LIASSE_KIND, siren, exercice, raison, {LIASSE.dataset: frame}))
    return parsed


def _first_liasse_sheet(workbook: Workbook) -> Grid:
    for name in workbook.sheet_names:
        grid = workbook.grid(name)
        if any(looks_like_liasse_header(list(row)) for row in grid.frame.head(30).iter_rows()):
            return grid
    raise InvalidDataError(f"{workbook.path.name} : aucune feuille ne contient les colonnes « siren » et « exercice » d'une liasse.")


def _check_duplicates(facts: pl.DataFrame, parsed: ParsedFile) -> None:
    dup = facts.filter(pl.struct("siren", "exercice").is_duplicated())
    for row in dup.iter_rows(named=True):
        parsed.problems.append(Problem(
            fichier=parsed.path.name, feuille=None, cellule=f"A{row['ligne']}", colonne="siren", valeur=row["siren"],
            regle="doublon", gravite=ERREUR,
            message=f"l'organisme {row['siren']} apparaît plusieurs fois pour l'exercice {row['exercice']}."))
