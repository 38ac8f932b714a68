"""Reader of the federation liasse (DATA.md §2), CSV or xlsx, canonical or through a mapping file.

CSV files come as people export them: `;` or `,` or tab separated, UTF-8 (with or without BOM),
UTF-16 with BOM (Excel's « Texte Unicode ») or latin-1 (common/encoding.py), decimal commas, sometimes a title line above the header. The file is read as a grid
of text, so that the same header search, parsing rules and cell references serve both CSV and
Excel (« B7 » is where Excel shows it).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import decode_text
from acterr_cli.errors import AVERTISSEMENT, ERREUR, InvalidDataError, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
from acterr_cli.inputs.cells import MAX_CELL_CHARS, column_letter, header_key
from acterr_cli.inputs.container import MAX_ROWS
from acterr_cli.inputs.excel import Grid, Workbook, column_name
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.inputs.model import LIASSE as LIASSE_KIND
from acterr_cli.inputs.model import ImportUnit, ParsedFile, ReadOptions, sha256_of, with_provenance
from acterr_cli.inputs.tables import Layout, find_layout, read_table
from acterr_cli.territory.reference import TerritorialReference

MAX_CSV_BYTES = 50 * 1024 * 1024  # a national liasse is ~600 rows: far below
_REQUIRED_KEYS = {"siren", "exercice"}
_SEPARATORS = (";", ",", "\t", "|")


def looks_like_liasse_header(cells: list[str | None]) -> bool:
    keys = {header_key(c) for c in cells if c}
    return _REQUIRED_KEYS <= keys


def read_csv_grid(path: Path, separator: str | None = None) -> Grid:
    path = Path(path)
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InvalidDataError(f"{path.name} : fichier CSV trop volumineux pour une liasse (plus de {MAX_CSV_BYTES // 2**20} Mo).")
    text = decode_text(path.read_bytes(), path.name)
    rows = _csv_rows(text, separator or _separator(text), path.name)
    width = max((len(r) for r in rows), default=0)
    _check_lengths(rows, path.name)
    columns = {column_name(j): [r[j] if j < len(r) and r[j] != "" else None for r in rows] for j in range(width)}
    frame = pl.DataFrame(columns, schema={c: pl.Utf8 for c in columns})
    frame = frame.with_columns(pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)).alias(c) for c in frame.columns)  # blank: null
    return Grid("", frame)  # a CSV has no sheet name


def _csv_rows(text: str, separator: str, name: str) -> list[list[str]]:
    """Rows of a CSV, refusing in bounded time what no liasse looks like (huge cells or row counts)."""
    csv.field_size_limit(MAX_CELL_CHARS * 4)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise InvalidDataError(f"{name} : plus de {MAX_ROWS:,} lignes ; ce n'est pas une liasse.".replace(",", " "))
    except csv.Error as exc:  # a field beyond the limit, a NUL byte, a quote never closed…
        what = (f"une cellule dépasse {MAX_CELL_CHARS:,} caractères".replace(",", " ") if "field larger" in str(exc)
                else "octet nul (fichier binaire ou abîmé)" if "NUL" in str(exc)
                else "guillemet jamais fermé" if "end of data" in str(exc) or "EOF" in str(exc)
                else "contenu illisible (guillemets ou fins de ligne mal placés)")
        message = f"ligne {reader.line_num} : {what} ; le fichier est refusé."
        raise InvalidDataError(f"{name} : {message}", [Problem(fichier=name, cellule=f"ligne {reader.line_num}",
                                                                 regle=rules.LECTURE.code, message=message)]) from exc
    return rows


def _separator(text: str) -> str:
    """The separator that splits the most-split line of the first ones: a title line above the
    header does not decide it."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    return max(_SEPARATORS, key=lambda sep: max((line.count(sep) for line in lines), default=0))


def _check_lengths(rows: list[list[str]], name: str) -> None:
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if len(value) > MAX_CELL_CHARS:
                cell = f"{column_letter(j)}{i + 1}"
                message = f"texte de plus de {MAX_CELL_CHARS:,} caractères ; le fichier est refusé.".replace(",", " ")
                raise InvalidDataError(f"{name}, cellule {cell} : {message}",
                                       [Problem(fichier=name, cellule=cell, regle=rules.TAILLE.code, message=message)])


def read_liasse(path: Path, reference: TerritorialReference, grid: Grid | None = None,
                options: ReadOptions | None = None, workbook: Workbook | None = None) -> ParsedFile:
    path, options = Path(path), options or ReadOptions()
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=LIASSE_KIND)
    mapping = options.mapping
    if grid is None:
        grid = _csv_grid(path, mapping) if path.suffix.lower() in (".csv", ".txt") else _liasse_sheet(workbook or Workbook(path), mapping)
    sheet, found = _layout(grid, mapping, parsed)
    if found is None:
        return parsed
    grid, layout = found
    facts = read_table(grid, sheet, parsed, reference, options, layout)
    if facts is None or not facts.height or not parsed.ok:
        if facts is not None and not facts.height:
            parsed.problems.append(Problem(fichier=path.name, regle=rules.VIDE.code, message="la liasse ne contient aucune ligne."))
        return parsed
    letters = {f: grid.letter(j) for j, f in layout.columns.items() if f not in layout.constants}
    facts = _other_exercices(facts, options, parsed, grid.sheet)
    facts = _check_duplicates(facts, parsed, options, grid.sheet, letters.get("siren", "A"))
    if not parsed.ok:
        return parsed
    for row in facts.partition_by(["siren", "exercice"], as_dict=False):
        siren, exercice = row["siren"][0], int(row["exercice"][0])
        frame = with_provenance(row.drop("siren", "exercice"), siren=siren, exercice=exercice,
                                fichier=path.name, sha256=parsed.sha256, feuille=grid.sheet)
        raison = row["raison_sociale"][0] if "raison_sociale" in row.columns else None
        cells = {f: (grid.sheet or None, f"{letter}{row['ligne'][0]}") for f, letter in letters.items()}
        parsed.units.append(ImportUnit(LIASSE_KIND, siren, exercice, raison, {LIASSE.dataset: frame}, cells))
    return parsed


def _csv_grid(path: Path, mapping) -> Grid:
    return read_csv_grid(path, mapping.separator if mapping else None)


def _layout(grid: Grid, mapping, parsed: ParsedFile) -> tuple[qs.Sheet, tuple[Grid, Layout] | None]:
    if mapping is None:
        layout = find_layout(grid, LIASSE)
        if layout is None:
            parsed.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle=rules.ENTETES.code,
                                           message="ligne d'en-têtes de la liasse introuvable (colonnes « siren » et « exercice » "
                                                   "attendues) ; pour un autre format, donnez un fichier de correspondance (--correspondance)."))
            return LIASSE, None
        return LIASSE, (grid, layout)
    found = mapping.layout(grid)
    missing = ", ".join(f"« {c} »" for c in mapping.missing_columns(grid))
    if found is None:
        parsed.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle=rules.CORRESPONDANCE.code,
                                       message=f"colonnes de la correspondance {mapping.name} introuvables : {missing or 'siren, exercice'}."))
    elif missing:  # the file is read, but what those columns hold is not: never silently
        parsed.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle=rules.CORRESPONDANCE.code,
                                       gravite=AVERTISSEMENT, valeur=missing,
                                       message=f"colonne(s) de la correspondance {mapping.name} absente(s) du fichier : {missing} ; "
                                               "leurs champs ne sont pas lus (en-tête renommé ? corrigez le fichier de correspondance)."))
    return mapping.schema(), found


def _liasse_sheet(workbook: Workbook, mapping) -> Grid:
    if mapping is not None and mapping.sheet is not None:
        actual = workbook.find_sheet(mapping.sheet)
        if actual is None:
            raise InvalidDataError(f"{workbook.path.name} : feuille « {mapping.sheet} » (correspondance {mapping.name}) introuvable ; "
                                   f"feuilles du classeur : {', '.join(workbook.sheet_names)}.")
        return workbook.grid(actual)
    for name in workbook.sheet_names:
        grid = workbook.grid(name)
        if mapping is not None and mapping.matches(grid):
            return grid
        if mapping is None and any(looks_like_liasse_header(list(r)) for r in grid.frame.head(30).iter_rows()):
            return grid
    expected = f"les colonnes de la correspondance {mapping.name}" if mapping else "les colonnes « siren » et « exercice » d'une liasse"
    raise InvalidDataError(f"{workbook.path.name} : aucune feuille ne contient {expected}.")


def _other_exercices(facts: pl.DataFrame, options: ReadOptions, parsed: ParsedFile, sheet: str) -> pl.DataFrame:
    """With --exercice, a liasse's rows of other years are set aside (a liasse often holds several)."""
    if options.exercice is None:
        return facts
    others = facts.filter(pl.col("exercice") != options.exercice)
    if others.height:
        years = ", ".join(str(y) for y in sorted(others["exercice"].unique().to_list()))
        parsed.problems.append(Problem(
            fichier=parsed.path.name, feuille=sheet or None, regle=rules.EXERCICE.code, gravite=AVERTISSEMENT,
            message=f"{others.height} ligne(s) d'autres exercices ({years}) non importée(s) : l'import porte sur l'exercice {options.exercice}."))
    return facts.filter(pl.col("exercice") == options.exercice)


def _check_duplicates(facts: pl.DataFrame, parsed: ParsedFile, options: ReadOptions, sheet: str, letter: str) -> pl.DataFrame:
    """One organisation twice for one exercice: which row is right? An error on each row (under
    --ignorer-erreurs, both rows are left out)."""
    duplicated = pl.struct("siren", "exercice").is_duplicated()
    for row in facts.filter(duplicated).iter_rows(named=True):
        problem = Problem(
            fichier=parsed.path.name, feuille=sheet or None, cellule=f"{letter}{row['ligne']}", colonne="siren", valeur=row["siren"],
            regle=rules.DOUBLON.code, gravite=ERREUR,
            message=f"l'organisme {row['siren']} apparaît plusieurs fois pour l'exercice {row['exercice']} (ligne {row['ligne']}).")
        parsed.problems.append(problem)
        if options.drop_faulty_rows:
            parsed.forgiven.append(problem)
            parsed.dropped_rows += 1
    return facts.filter(~duplicated) if options.drop_faulty_rows else facts
