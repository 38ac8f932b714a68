"""Reader of the questionnaire workbook (DATA.md §1).

The header row of each sheet is found by its labels (not by position), so titles, logos or help
lines above it do no harm; columns are matched by header key, so « Montant HT (€) », « montant ht »
and « MONTANT HT » are the same column. A sheet with no data row means « not provided »: the
indicators that need it become non calculable, never zero.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ERREUR, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.cells import clean_text, header_key, parse_number
from acterr_cli.inputs.columns import NUMERIC_KINDS, ParseContext, parse_fields
from acterr_cli.inputs.excel import Grid, Workbook
from acterr_cli.inputs.model import (
    QUESTIONNAIRE,
    ImportUnit,
    ParsedFile,
    sha256_of,
    with_provenance,
)
from acterr_cli.territory.reference import TerritorialReference

HEADER_SEARCH_ROWS = 30


def looks_like_questionnaire(workbook: Workbook) -> bool:
    return workbook.find_sheet(qs.ORGANISME.name) is not None


def read_questionnaire(path: Path, reference: TerritorialReference, workbook: Workbook | None = None) -> ParsedFile:
    path = Path(path)
    workbook = workbook or Workbook(path)
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=QUESTIONNAIRE)
    organisme = _read_organisme(workbook, parsed, reference)
    if organisme is None:
        return parsed
    siren, exercice = organisme["siren"][0], organisme["exercice"][0]
    tables = {qs.ORGANISME.dataset: organisme}
    for sheet in qs.TABLE_SHEETS:
        actual = workbook.find_sheet(sheet.name)
        if actual is None:
            continue
        facts = read_table(workbook.grid(actual), sheet, parsed, reference)
        if facts is not None and facts.height:
            tables[sheet.dataset] = with_provenance(
                facts, siren=siren, exercice=exercice, fichier=path.name, sha256=parsed.sha256, feuille=actual
            )
    parsed.units.append(ImportUnit(QUESTIONNAIRE, siren, int(exercice), organisme["raison_sociale"][0], tables))
    return parsed


# ─── Organisme: label | value ───

def _read_organisme(workbook: Workbook, parsed: ParsedFile, reference: TerritorialReference) -> pl.DataFrame | None:
    sheet = qs.ORGANISME
    actual = workbook.find_sheet(sheet.name)
    if actual is None:
        parsed.problems.append(Problem(fichier=parsed.path.name, regle="feuille",
                                       message="feuille « Organisme » introuvable : ce classeur n'est pas un questionnaire acterr."))
        return None
    grid = workbook.grid(actual)
    raw, cells = _label_values(grid, sheet)
    ctx = ParseContext(parsed.path.name, actual, reference)
    for column in sheet.columns:
        if column.required and column.field not in raw:
            ctx.add(None, column, None, "obligatoire", f"ligne « {column.label} » introuvable dans la feuille Organisme.")
    frame = pl.DataFrame({f: [v] for f, v in raw.items()}, schema={f: pl.Utf8 for f in raw})
    typed = parse_fields(frame, sheet.columns, lambda f, _pos: cells[f], ctx)
    parsed.problems.extend(ctx.problems)
    if ctx.problems and any(p.gravite == ERREUR for p in ctx.problems):
        return None
    typed = typed.with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(c.field) for c in sheet.columns if c.field not in typed.columns]
    )
    return with_provenance(
        typed.drop("siren", "exercice"), siren=typed["siren"][0], exercice=int(typed["exercice"][0]),
        fichier=parsed.path.name, sha256=parsed.sha256, feuille=actual,
    ).with_columns(pl.lit(None, dtype=pl.Int64).alias("ligne"))


def _label_values(grid: Grid, sheet: qs.Sheet) -> tuple[dict[str, str | None], dict[str, str]]:
    """Value of each field: the cell of its label's row in the « Valeur » column (or, without such
    a header, the cell right of the label), wherever the label stands."""
    by_key = {header_key(c.label): c.field for c in sheet.columns} | {header_key(c.field): c.field for c in sheet.columns}
    value_column = _value_column(grid)
    raw: dict[str, str | None] = {}
    cells: dict[str, str] = {}
    for i, row in enumerate(grid.frame.iter_rows()):
        for j, cell in enumerate(row):
            field = by_key.get(header_key(cell)) if cell else None
            if field and field not in raw:
                k = value_column if value_column is not None and value_column > j else j + 1
                raw[field] = row[k] if k < len(row) else None
                cells[field] = grid.cell(i, k)
                break
    return raw, cells


def _value_column(grid: Grid) -> int | None:
    for row in grid.frame.head(HEADER_SEARCH_ROWS).iter_rows():
        for j, cell in enumerate(row):
            if cell and header_key(cell) == "valeur":
                return j
    return None


# ─── Table sheets: header row + one row per line ───

def read_table(grid: Grid, sheet: qs.Sheet, parsed: ParsedFile, reference: TerritorialReference) -> pl.DataFrame | None:
    ctx = ParseContext(parsed.path.name, grid.sheet or None, reference)
    header = find_header(grid, sheet)
    if header is None:
        if grid.frame.height:
            ctx.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle="entetes",
                                        message=f"ligne d'en-têtes introuvable (attendu : {', '.join(c.label for c in sheet.columns[:4])}…)."))
        parsed.problems.extend(ctx.problems)
        return None
    header_row, mapping = header
    for column in sheet.columns:
        if column.required and column.field not in mapping.values():
            ctx.add(grid.cell(header_row, 0), column, None, "colonne", f"colonne « {column.label} » introuvable sur la ligne d'en-têtes.")
    body = grid.frame.slice(header_row + 1).with_row_index("_i", offset=header_row + 1)
    raw = body.select("_i", *[pl.col(f"c{j}").alias(field) for j, field in mapping.items()])
    value_cols = [f for f in mapping.values()]
    raw = raw.filter(~pl.all_horizontal([clean_text(pl.col(c)).is_null() for c in value_cols]))
    raw, totals = _split_total_rows(raw, value_cols)
    letters = {field: grid.letter(j) for j, field in mapping.items()}
    rows = raw["_i"]
    typed = parse_fields(raw.drop("_i"), sheet.columns, lambda f, pos: f"{letters[f]}{rows[pos] + 1}", ctx)
    if not typed.width:
        parsed.problems.extend(ctx.problems)
        return None
    typed = _blank_is_zero_in_provided_columns(typed, sheet).with_columns((rows + 1).alias("ligne"))
    _check_totals(typed, totals, sheet, letters, ctx)
    parsed.problems.extend(ctx.problems)
    return typed


def find_header(grid: Grid, sheet: qs.Sheet) -> tuple[int, dict[int, str]] | None:
    """The row, among the first ones, whose cells match the most column labels."""
    keys = {header_key(c.label): c.field for c in sheet.columns}
    keys.update({header_key(c.field): c.field for c in sheet.columns})
    best: tuple[int, dict[int, str]] | None = None
    for i, row in enumerate(grid.frame.head(HEADER_SEARCH_ROWS).iter_rows()):
        mapping: dict[int, str] = {}
        for j, cell in enumerate(row):
            field = keys.get(header_key(cell)) if cell else None
            if field and field not in mapping.values():
                mapping[j] = field
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best[1])):
            best = (i, mapping)
    return best


def _split_total_rows(raw: pl.DataFrame, value_cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A trailing « Total » row is not a fact: set it aside (it is checked against the sum)."""
    is_total = pl.any_horizontal([clean_text(pl.col(c)).str.to_lowercase().str.starts_with("total").fill_null(False) for c in value_cols])
    return raw.filter(~is_total), raw.filter(is_total)


def _blank_is_zero_in_provided_columns(typed: pl.DataFrame, sheet: qs.Sheet) -> pl.DataFrame:
    """In a numeric column that has values, a blank cell means zero (how people fill tables);
    a column left entirely blank means « not provided » and stays null."""
    numeric = [c.field for c in sheet.columns if c.kind in NUMERIC_KINDS and c.field in typed.columns]
    return typed.with_columns(
        [pl.when(pl.col(f).is_not_null().any()).then(pl.col(f).fill_null(0)).otherwise(pl.col(f)).alias(f) for f in numeric]
    )


def _check_totals(typed: pl.DataFrame, totals: pl.DataFrame, sheet: qs.Sheet, letters: dict[str, str], ctx: ParseContext) -> None:
    if not totals.height:
        return
    total_row = totals.row(0, named=True)
    for column in sheet.columns:
        if column.kind not in NUMERIC_KINDS or column.field not in typed.columns or column.field not in total_row:
            continue
        written = pl.select(parse_number(pl.lit(total_row[column.field])))[0, 0]
        if written is None:
            continue
        computed = typed[column.field].sum()
        if abs(written - computed) > max(0.5, 1e-6 * abs(computed)):
            ctx.add(f"{letters[column.field]}{total_row['_i'] + 1}", column, total_row[column.field], "total",
                    f"la ligne Total ({written:,.2f}) ne correspond pas à la somme des lignes ({computed:,.2f}) ; la ligne Total est ignorée."
                    .replace(",", " ").replace(".", ","), AVERTISSEMENT)
