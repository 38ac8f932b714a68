"""Reader of the questionnaire workbook (DATA.md §1).

The header row of each sheet is found by its labels (not by position), so titles, logos or help
lines above it do no harm; columns are matched by header key, so « Montant HT (€) », « montant ht »
and « MONTANT HT » are the same column. A sheet with no data row means « not provided »: the
indicators that need it become non calculable, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.cells import clean_text, header_key, parse_number, unit_scale
from acterr_cli.inputs.columns import NUMERIC_KINDS, ParseContext, parse_fields
from acterr_cli.inputs.consistency import PARTS, check_exercice, check_rows
from acterr_cli.inputs.excel import NO_VALUE, Grid, Workbook
from acterr_cli.inputs.model import (
    QUESTIONNAIRE,
    ImportUnit,
    ParsedFile,
    ReadOptions,
    sha256_of,
    with_provenance,
)
from acterr_cli.territory.reference import TerritorialReference

HEADER_SEARCH_ROWS = 30
ORGANISME_SEARCH_ROWS = 200  # labels are near the top; never walk a huge sheet cell by cell
EURO_KINDS = (qs.AMOUNT, qs.SIGNED)


@dataclass
class Layout:
    """Where a table is in its sheet: header row (frame index), column index → field, and the
    factor each field's unit implies (« k€ » → 1000)."""

    header_row: int
    columns: dict[int, str]
    scales: dict[str, float] = field(default_factory=dict)
    announce: bool = True  # tell the user about unit conversions read from headers (not those a mapping declares)
    constants: frozenset[str] = frozenset()  # fields a mapping fills for every row: never make a row « filled »

    @property
    def value_fields(self) -> list[str]:
        return [f for f in self.columns.values() if f not in self.constants]


def looks_like_questionnaire(workbook: Workbook) -> bool:
    return workbook.find_sheet(qs.ORGANISME.name) is not None


def read_questionnaire(path: Path, reference: TerritorialReference, workbook: Workbook | None = None,
                       options: ReadOptions | None = None) -> ParsedFile:
    path, options = Path(path), options or ReadOptions()
    workbook = workbook or Workbook(path)
    parsed = ParsedFile(path=path, sha256=sha256_of(path), kind=QUESTIONNAIRE)
    read = _read_organisme(workbook, parsed, reference, options)
    tables = _read_tables(workbook, parsed, reference, options)  # even when Organisme failed: the full report
    if read is None:
        return parsed
    organisme, cells = read
    siren, exercice = organisme["siren"][0], organisme["exercice"][0]
    tables = {qs.ORGANISME.dataset: organisme} | {
        dataset: with_provenance(facts, siren=siren, exercice=exercice, fichier=path.name, sha256=parsed.sha256, feuille=sheet)
        for dataset, (sheet, facts) in tables.items()
    }
    parsed.units.append(ImportUnit(QUESTIONNAIRE, siren, int(exercice), organisme["raison_sociale"][0], tables, cells))
    return parsed


def _read_tables(workbook: Workbook, parsed: ParsedFile, reference: TerritorialReference,
                 options: ReadOptions) -> dict[str, tuple[str, pl.DataFrame]]:
    """dataset -> (sheet name as written, facts) for every table sheet with at least one row."""
    tables = {}
    for sheet in qs.TABLE_SHEETS:
        actual = workbook.find_sheet(sheet.name)
        if actual is None:
            continue
        facts = read_table(workbook.grid(actual), sheet, parsed, reference, options)
        if facts is not None and facts.height:
            tables[sheet.dataset] = (actual, facts)
    return tables


# ─── Organisme: label | value ───

def _read_organisme(workbook: Workbook, parsed: ParsedFile, reference: TerritorialReference,
                    options: ReadOptions) -> tuple[pl.DataFrame, dict] | None:
    sheet = qs.ORGANISME
    actual = workbook.find_sheet(sheet.name)
    if actual is None:
        parsed.problems.append(Problem(fichier=parsed.path.name, regle="feuille",
                                       message="feuille « Organisme » introuvable : ce classeur n'est pas un questionnaire acterr."))
        return None
    grid = workbook.grid(actual)
    raw, cells = _label_values(grid, sheet)
    ctx = ParseContext(parsed.path.name, actual, reference, percent_lookup=grid.percent_lookup)
    for column in sheet.columns:
        if column.required and column.field not in raw:
            ctx.add(None, column, None, "obligatoire", f"ligne « {column.label} » introuvable dans la feuille Organisme.")
    frame = pl.DataFrame({f: [v] for f, v in raw.items()}, schema={f: pl.Utf8 for f in raw})
    typed = parse_fields(frame, sheet.columns, lambda f, _pos: cells[f][1], ctx)
    _drop_duplicate_reports(ctx, _excel_error_cells(grid, cells, sheet, ctx))
    if "exercice" in typed.columns:
        check_exercice(typed["exercice"][0], cells.get("exercice", (0, None))[1], sheet.column("exercice"), ctx, options)
    check_rows(typed, sheet, lambda f, _pos: cells[f][1], ctx)
    parsed.problems.extend(ctx.problems)
    if ctx.has_errors:
        return None  # without a sure identity nothing of the file can be stored
    typed = typed.with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(c.field) for c in sheet.columns if c.field not in typed.columns]
    )
    facts = with_provenance(
        typed.drop("siren", "exercice"), siren=typed["siren"][0], exercice=int(typed["exercice"][0]),
        fichier=parsed.path.name, sha256=parsed.sha256, feuille=actual,
    ).with_columns(pl.lit(None, dtype=pl.Int64).alias("ligne"))
    return facts, {f: (actual, cell) for f, (_pos, cell) in cells.items()}


def _label_values(grid: Grid, sheet: qs.Sheet) -> tuple[dict[str, str | None], dict[str, tuple[tuple[int, int], str]]]:
    """Value of each field: the cell of its label's row in the « Valeur » column (or, without such
    a header, the cell right of the label), wherever the label stands. Cells are given both as
    frame position and as Excel reference."""
    by_key = _keys(sheet)
    value_column = _value_column(grid)
    raw: dict[str, str | None] = {}
    cells: dict[str, tuple[tuple[int, int], str]] = {}
    for i, row in enumerate(grid.frame.head(ORGANISME_SEARCH_ROWS).iter_rows()):
        for j, cell in enumerate(row):
            field_name = by_key.get(header_key(cell)) if cell else None
            if field_name and field_name not in raw:
                k = value_column if value_column is not None and value_column > j else _next_filled(row, j)
                raw[field_name] = row[k] if k < len(row) else None
                cells[field_name] = ((i, k), grid.cell(i, k))
                break
    return raw, cells


def _next_filled(row: tuple, j: int) -> int:
    """Without a « Valeur » header, the value is the first filled cell right of the label (merged
    label cells leave blanks in between), else the cell right next to it."""
    for k in range(j + 1, min(len(row), j + 4)):
        if row[k] is not None and str(row[k]).strip():
            return k
    return j + 1


def _keys(sheet: qs.Sheet) -> dict[str, str]:
    keys: dict[str, str] = {}
    for c in sheet.columns:
        for name in (c.label, c.field, *c.aliases):
            keys.setdefault(header_key(name), c.field)
    return keys


def _value_column(grid: Grid) -> int | None:
    for row in grid.frame.head(HEADER_SEARCH_ROWS).iter_rows():
        for j, cell in enumerate(row):
            if cell and header_key(cell) == "valeur":
                return j
    return None


def _excel_error_cells(grid: Grid, cells: dict, sheet: qs.Sheet, ctx: ParseContext) -> set[str]:
    """Report the value cells holding an Excel error or a formula saved without its value."""
    found = set()
    for field_name, ((i, k), ref) in cells.items():
        error = grid.errors.get((i, k))
        if error:
            _add_excel_error(ctx, ref, sheet.column(field_name), error, None)
            found.add(ref)
    return found


def _add_excel_error(ctx: ParseContext, ref: str, column: qs.Column, error: str, position: int | None) -> None:
    if error == NO_VALUE:
        message = ("formule enregistrée sans sa valeur calculée (classeur produit par un programme et jamais ouvert dans un "
                   "tableur) : ouvrez-le dans Excel ou LibreOffice, enregistrez-le, puis recommencez.")
    else:
        message = f"la cellule affiche l'erreur Excel {error} : corrigez la formule ou saisissez la valeur."
    ctx.add(ref, column, error, "erreur_excel", message, position=position)


def _drop_duplicate_reports(ctx: ParseContext, error_cells: set[str]) -> None:
    """An Excel error cell is reported once, as such, not also as « nombre attendu »."""
    if not error_cells:
        return
    ctx.problems[:] = [p for p in ctx.problems if p.cellule not in error_cells or p.regle == "erreur_excel"]
    for problems in ctx.faulty.values():
        problems[:] = [p for p in problems if p.cellule not in error_cells or p.regle == "erreur_excel"]


# ─── Table sheets: header row + one row per line ───

def read_table(grid: Grid, sheet: qs.Sheet, parsed: ParsedFile, reference: TerritorialReference,
               options: ReadOptions | None = None, layout: Layout | None = None) -> pl.DataFrame | None:
    """Typed facts of a table sheet (column `ligne` = Excel row), or None when there is no table.
    `layout` forces where the table is (mapping files); otherwise the header row is searched."""
    options = options or ReadOptions()
    ctx = ParseContext(parsed.path.name, grid.sheet or None, reference, percent_lookup=grid.percent_lookup)
    layout = layout or find_layout(grid, sheet)
    if layout is None:
        if grid.frame.height:
            ctx.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle="entetes",
                                        message=f"ligne d'en-têtes introuvable (attendu : {', '.join(c.label for c in sheet.columns[:4])}…)."))
        parsed.problems.extend(ctx.problems)
        return None
    _check_columns(grid, sheet, layout, ctx)
    raw, error_cells = _body(grid, layout, sheet, ctx)
    raw, totals = _split_total_rows(raw, layout.value_fields, ctx)
    letters = {field_name: grid.letter(j) for j, field_name in layout.columns.items()}
    rows = raw["_i"]

    def cell_of(f: str, pos: int) -> str:
        return f"{letters[f]}{rows[pos] + 1}"

    typed = parse_fields(raw.drop("_i", "_erreurs"), sheet.columns, cell_of, ctx)
    if not typed.width:
        parsed.problems.extend(ctx.problems)
        return None
    _report_excel_errors(raw, sheet, cell_of, ctx, error_cells)
    typed = _blank_is_zero_in_provided_columns(typed, sheet).with_columns((rows + 1).alias("ligne"))
    _check_totals(typed, totals, sheet, letters, ctx)
    check_rows(typed, sheet, cell_of, ctx)
    typed = _apply_scales(typed, layout, sheet, grid, ctx)
    parsed.problems.extend(ctx.problems)
    return _drop_faulty_rows(typed, ctx, parsed, grid.sheet) if options.drop_faulty_rows else typed


def find_layout(grid: Grid, sheet: qs.Sheet) -> Layout | None:
    """The row, among the first ones, whose cells match the most column labels."""
    keys = _keys(sheet)
    best: Layout | None = None
    for i, row in enumerate(grid.frame.head(HEADER_SEARCH_ROWS).iter_rows()):
        mapping: dict[int, str] = {}
        for j, cell in enumerate(row):
            field_name = keys.get(header_key(cell)) if cell else None
            if field_name and field_name not in mapping.values():
                mapping[j] = field_name
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best.columns)):
            scales = {f: unit_scale(row[j]) for j, f in mapping.items() if sheet.column(f).kind in EURO_KINDS}
            best = Layout(i, mapping, {f: s for f, s in scales.items() if s != 1.0})
    return best


def _check_columns(grid: Grid, sheet: qs.Sheet, layout: Layout, ctx: ParseContext) -> None:
    found = set(layout.columns.values())
    for column in sheet.columns:
        if column.required and column.field not in found:
            ctx.add(grid.cell(layout.header_row, 0), column, None, "colonne",
                    f"colonne « {column.label} » introuvable sur la ligne d'en-têtes (ligne {layout.header_row + 1}).")
    # « dont » columns without their total cannot be checked, nor read sensibly
    for part, whole in PARTS.get(sheet.dataset, ()):
        if part in found and whole not in found and not sheet.column(whole).required:
            ctx.add(grid.cell(layout.header_row, 0), sheet.column(whole), None, "colonne",
                    f"colonne « {sheet.column(part).label} » présente sans la colonne « {sheet.column(whole).label} ».",
                    AVERTISSEMENT)


def _body(grid: Grid, layout: Layout, sheet: qs.Sheet, ctx: ParseContext) -> tuple[pl.DataFrame, dict[str, set[int]]]:
    """The rows under the header, one text column per field, without blank rows. A cell holding an
    Excel error is not blank: it carries the error text (column `_erreurs` lists them)."""
    start = layout.header_row + 1
    body = grid.frame.slice(start).with_row_index("_i", offset=start)
    raw = body.select("_i", *[pl.col(f"c{j}").alias(f) for j, f in layout.columns.items()])
    errors: dict[str, dict[int, str]] = {}
    for (i, j), text in grid.errors.items():
        if i >= start and j in layout.columns:
            errors.setdefault(layout.columns[j], {})[i] = text
    raw = raw.with_columns(
        [pl.col("_i").replace_strict(found, default=pl.col(f), return_dtype=pl.Utf8).alias(f) for f, found in errors.items()]
    )
    flagged = pl.lit(False)
    for found in errors.values():
        flagged = flagged | pl.col("_i").is_in(list(found))
    raw = raw.with_columns(flagged.alias("_erreurs"))
    raw = raw.filter(~pl.all_horizontal([clean_text(pl.col(c)).is_null() for c in layout.value_fields]))
    return raw, {f: set(found) for f, found in errors.items()}


def _report_excel_errors(raw: pl.DataFrame, sheet: qs.Sheet, cell_of, ctx: ParseContext, error_cells: dict[str, set[int]]) -> None:
    if not error_cells:
        return
    refs = set()
    for pos, (row, flagged) in enumerate(zip(raw["_i"], raw["_erreurs"], strict=True)):
        if not flagged:
            continue
        for f, rows in error_cells.items():
            if row in rows:
                ref = cell_of(f, pos)
                _add_excel_error(ctx, ref, sheet.column(f), raw[f][pos], pos)
                refs.add(ref)
    _drop_duplicate_reports(ctx, refs)


def _split_total_rows(raw: pl.DataFrame, value_cols: list[str], ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A « Total » row ends the table: it is not a fact (it is checked against the sum), and what
    people write below it (notes, sources, a signature) is not either."""
    is_total = pl.any_horizontal([clean_text(pl.col(c)).str.to_lowercase().str.starts_with("total").fill_null(False) for c in value_cols])
    flags = raw.select(is_total.alias("t"))["t"]
    if not flags.any():
        return raw, raw.clear()
    first = int(flags.arg_true()[0])
    below = raw.slice(first + 1)
    if below.height:
        ctx.add(f"A{below['_i'][0] + 1}", None, None, "sous_total",
                f"{below.height} ligne(s) sous la ligne Total (ligne {raw['_i'][first] + 1}) ignorée(s) : "
                "elles ne sont pas lues comme des données.", AVERTISSEMENT)
    return raw.head(first), raw.slice(first, 1)


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
                    f"la ligne Total ({_fr(written)}) ne correspond pas à la somme des lignes ({_fr(computed)}) ; la ligne Total "
                    "est ignorée (une formule SOMME ne compte pas les nombres saisis comme du texte).", AVERTISSEMENT)


def _fr(value: float) -> str:
    """1234567.5 → « 1 234 567,50 »."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").removesuffix(",00")


def _apply_scales(typed: pl.DataFrame, layout: Layout, sheet: qs.Sheet, grid: Grid, ctx: ParseContext) -> pl.DataFrame:
    """Amounts of a column headed in k€ (or M€) are stored in euros, and the user is told so."""
    scales = {f: s for f, s in layout.scales.items() if f in typed.columns}
    for f, factor in scales.items():
        if not layout.announce:
            continue
        j = next(k for k, name in layout.columns.items() if name == f)
        ctx.add(grid.cell(layout.header_row, j), sheet.column(f), grid.frame[layout.header_row, j], "unite",
                f"colonne exprimée en {'k€' if factor == 1000 else 'M€'} : montants multipliés par {factor:,.0f} pour être "
                "enregistrés en euros.".replace(",", " "), AVERTISSEMENT)
    # Rounded to the micro-unit: 80 746,536 k€ gives 80 746 536 €, not 80 746 536,000 000 01 €.
    return typed.with_columns([(pl.col(f) * factor).round(6).alias(f) for f, factor in scales.items()])


def _drop_faulty_rows(typed: pl.DataFrame, ctx: ParseContext, parsed: ParsedFile, sheet: str) -> pl.DataFrame:
    """--ignorer-erreurs: rows with an error are left out (their errors stay in the report, no
    longer blocking the file), and each left-out row is named."""
    if not ctx.faulty:
        return typed
    positions = sorted(ctx.faulty)
    for pos in positions:
        parsed.forgiven.extend(ctx.faulty[pos])
        row = typed["ligne"][pos]
        parsed.problems.append(Problem(
            fichier=parsed.path.name, feuille=sheet or None, cellule=f"A{row}", regle="ligne_ignoree", gravite=AVERTISSEMENT,
            message=f"ligne {row} non importée (--ignorer-erreurs) : {len(ctx.faulty[pos]) or 'plusieurs'} erreur(s) sur cette ligne."))
    parsed.dropped_rows += len(positions)
    return typed.with_row_index("_pos").filter(~pl.col("_pos").is_in(positions)).drop("_pos")
