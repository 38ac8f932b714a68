"""Tables — a header row, then one row per line — read from the same sheet of many files at once.

The header row of each file's sheet is found by its labels (not by position), so titles, logos or
help lines above it do no harm; columns are matched by header key, so « Montant HT (€) »,
« montant ht » and « MONTANT HT » are the same column. The tables of all the files are then
stacked (`_f` tells the file, `_i` the row of its sheet) and checked together in a few vectorised
plans; each problem still names its file, sheet and cell. A blank cell in a numeric column that
has values means zero; a column left entirely blank means « not provided » and stays null.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
from acterr_cli.inputs.cells import header_key, parse_number, unit_scale
from acterr_cli.inputs.columns import FILE, NUMERIC_KINDS, ROW, ParseContext, Part, parse_fields
from acterr_cli.inputs.consistency import PARTS, check_rows
from acterr_cli.inputs.excel import NO_VALUE, Grid, column_name
from acterr_cli.inputs.model import ParsedFile, ReadOptions
from acterr_cli.territory.reference import TerritorialReference

HEADER_SEARCH_ROWS = 30
EURO_KINDS = (qs.AMOUNT, qs.SIGNED)

# Optional columns whose absence (or blank cell) makes the engine assume a value: told once per
# file and sheet, with the first blank cell, so that older workbooks still import and say so.
ASSUMED: dict[str, tuple[str, str]] = {
    "energie": ("type_consommation",
                "consommations supposées en énergie primaire (étiquette DPE) : l'électricité est convertie en énergie "
                "finale ; indiquez « Énergie finale » si ce sont des consommations facturées"),
}


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


@functools.lru_cache(maxsize=64)
def sheet_keys(sheet: qs.Sheet) -> dict[str, str]:
    """header key → field, for every label, field name and alias of the sheet's columns."""
    keys: dict[str, str] = {}
    for c in sheet.columns:
        for name in (c.label, c.field, *c.aliases):
            keys.setdefault(header_key(name), c.field)
    return keys


_KEYS: dict[str, str] = {}


def cell_key(text: str) -> str:
    """header_key of a cell, remembered: headers, labels and list values repeat in every file."""
    key = _KEYS.get(text)
    if key is None:
        if len(_KEYS) > 100_000:
            _KEYS.clear()
        key = _KEYS[text] = header_key(text)
    return key


def find_layout(grid: Grid, sheet: qs.Sheet) -> Layout | None:
    """The row, among the first ones, whose cells match the most column labels."""
    keys = sheet_keys(sheet)
    # A cell starting with a digit has a key starting with that digit (data, mostly): none of the
    # sheet's keys does, so such cells are not looked up.
    skip_digits = not any(k[:1].isdigit() for k in keys)
    best: Layout | None = None
    for i, row in enumerate(grid.frame.head(HEADER_SEARCH_ROWS).rows()):
        mapping: dict[int, str] = {}
        for j, cell in enumerate(row):
            if not cell or (skip_digits and "0" <= cell[0] <= "9"):
                continue
            field_name = keys.get(cell_key(cell))
            if field_name and field_name not in mapping.values():
                mapping[j] = field_name
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best.columns)):
            scales = {f: unit_scale(row[j]) for j, f in mapping.items() if sheet.column(f).kind in EURO_KINDS}
            best = Layout(i, mapping, {f: s for f, s in scales.items() if s != 1.0})
            if len(mapping) == len(sheet.columns):  # every column found: no later row can do better
                break
    return best


def missing_header(grid: Grid, sheet: qs.Sheet, parsed: ParsedFile) -> None:
    """No header row found: a sheet with content is told so; an empty one is simply not provided."""
    if grid.frame.height:
        parsed.problems.append(Problem(fichier=parsed.path.name, feuille=grid.sheet or None, regle=rules.ENTETES.code,
                                       message=rules.ENTETES.text(attendu=", ".join(c.label for c in sheet.columns[:4]))))


@dataclass
class Table:
    """One file's table in one sheet, ready to be read with the same sheet of other files."""

    parsed: ParsedFile
    grid: Grid
    layout: Layout
    reference: TerritorialReference

    @functools.cached_property
    def ctx(self) -> ParseContext:
        return ParseContext(self.parsed.path.name, self.grid.sheet or None, self.reference, percent_lookup=self.grid.percent_lookup)

    @functools.cached_property
    def part(self) -> Part:
        letters = {f: self.grid.letter(j) for j, f in self.layout.columns.items()}

        def cell(f: str, i: int) -> str | None:
            return f"{letters[f]}{i + 1}" if f in letters else None

        return Part(self.ctx, cell, frozenset(self.layout.columns.values()))

    @property
    def start(self) -> int:
        return self.layout.header_row + 1

    def error_cells(self) -> dict[str, dict[int, str]]:
        """field -> {row: what Excel shows} for the cells under the header that hold no usable value."""
        found: dict[str, dict[int, str]] = {}
        for (i, j), text in self.grid.errors.items():
            if i >= self.start and j in self.layout.columns:
                found.setdefault(self.layout.columns[j], {})[i] = text
        return found


def read_table(grid: Grid, sheet: qs.Sheet, parsed: ParsedFile, reference: TerritorialReference,
               options: ReadOptions | None = None, layout: Layout | None = None) -> pl.DataFrame | None:
    """Typed facts of one table sheet (column `ligne` = Excel row), or None when there is no table.
    `layout` forces where the table is (mapping files); otherwise the header row is searched."""
    layout = layout or find_layout(grid, sheet)
    if layout is None:
        missing_header(grid, sheet, parsed)
        return None
    return read_tables({0: Table(parsed, grid, layout, reference)}, sheet, options or ReadOptions()).drop(FILE)


def read_tables(tables: dict[int, Table], sheet: qs.Sheet, options: ReadOptions) -> pl.DataFrame:
    """Typed facts of the tables of one sheet in many files: column `_f` (the key of the table in
    `tables`), the sheet's fields, `ligne` (the Excel row). Problems go to each table's file."""
    parts = {f: t.part for f, t in tables.items()}
    for t in tables.values():
        _check_columns(t, sheet)
    fields = [c.field for c in sheet.columns if any(c.field in p.fields for p in parts.values())]
    frame = _stack(tables, fields)
    constants = {c for t in tables.values() for c in t.layout.constants}
    frame = _rows(frame, [f for f in fields if f not in constants])
    frame, totals = _split_total_rows(frame, tables)
    _tell_hidden_rows(frame, tables)
    reference = next(iter(tables.values())).reference
    _tell_assumed_values(frame, tables, sheet)
    typed = parse_fields(frame.select(FILE, ROW, *fields), sheet.columns, parts, reference)
    _report_excel_errors(typed, tables, sheet)
    typed = _blank_is_zero_in_provided_columns(typed, sheet)
    _check_totals(totals, typed, tables, sheet)
    check_rows(typed, sheet, parts)
    typed = _apply_scales(typed, tables, sheet)
    for t in tables.values():
        t.parsed.problems.extend(t.ctx.problems)
    if options.drop_faulty_rows:
        typed = _drop_faulty_rows(typed, tables)
    return typed.select(pl.exclude(ROW), (pl.col(ROW) + 1).alias("ligne"))


def _check_columns(table: Table, sheet: qs.Sheet) -> None:
    grid, layout, ctx = table.grid, table.layout, table.ctx
    found = set(layout.columns.values())
    for column in sheet.columns:
        if column.required and column.field not in found:
            ctx.add(grid.cell(layout.header_row, 0), column, None, rules.COLONNE,
                    rules.COLONNE.text(colonne=column.label, ligne=layout.header_row + 1))
    _tell_unread_columns(table, sheet)
    # « dont » columns without their total cannot be checked, nor read sensibly
    for part, whole in PARTS.get(sheet.dataset, ()):
        if part in found and whole not in found and not sheet.column(whole).required:
            ctx.add(grid.cell(layout.header_row, 0), sheet.column(whole), None, rules.COLONNE,
                    rules.COLONNE.text("sans_total", colonne=sheet.column(part).label, total=sheet.column(whole).label), AVERTISSEMENT)


def _tell_unread_columns(table: Table, sheet: qs.Sheet) -> None:
    """Columns holding values that are not read: a second column with the same header, or a header
    spelt nearly like one of the sheet's missing columns (most likely that column, renamed:
    « Loyers quittancés (€) » for « Loyers annuels quittancés (€) »). A sheet may hold other
    columns of the organisation's own (comments, commune names…): not a word about those. With a
    mapping file, the columns it does not cite are ignored on purpose."""
    grid, layout, ctx = table.grid, table.layout, table.ctx
    if not layout.announce:  # laid out by a mapping file
        return
    headers = grid.frame.row(layout.header_row)
    body = grid.frame.slice(layout.header_row + 1)
    found = set(layout.columns.values())
    missing = {header_key(name): c.label for c in sheet.columns if c.field not in found for name in (c.label, *c.aliases)}
    keys = sheet_keys(sheet)
    for j, header in enumerate(headers):
        if j in layout.columns or not header or not body.height or body.get_column(column_name(j)).null_count() == body.height:
            continue
        where = grid.cell(layout.header_row, j)
        if keys.get(cell_key(header)) in found:
            ctx.add(where, None, header, rules.COLONNE, rules.COLONNE.text("double", colonne=header), AVERTISSEMENT)
        elif close := difflib.get_close_matches(cell_key(header), list(missing), n=1, cutoff=0.75):
            ctx.add(where, None, header, rules.COLONNE, rules.COLONNE.text("proche", colonne=header, attendue=missing[close[0]]),
                    AVERTISSEMENT)


def _tell_assumed_values(frame: pl.DataFrame, tables: dict[int, Table], sheet: qs.Sheet) -> None:
    """A sheet with rows whose optional column is missing, or blank on some rows, gets one warning
    per file: what the engine assumes there, and how to say otherwise. A cell holding another value
    is the list check's business, not this one's."""
    if sheet.dataset not in ASSUMED:
        return
    name, assumption = ASSUMED[sheet.dataset]
    column = sheet.column(name)
    blank = pl.col(name).is_null() | (pl.col(name).str.strip_chars() == "") if name in frame.columns else pl.lit(True)
    rows = frame.group_by(FILE).agg(pl.len().alias("_n"), blank.sum().alias("_blank"),
                                    pl.col(ROW).filter(blank).min().alias("_first"))
    for f, n, blanks, first in rows.sort(FILE).iter_rows():
        t = tables[f]
        if not blanks:
            continue
        if name not in t.part.fields:
            t.ctx.add(None, column, None, rules.HYPOTHESE, rules.HYPOTHESE.text(colonne=column.label, hypothese=assumption))
        else:
            cell = t.part.cell(name, first)
            count = "toutes les lignes" if blanks == n else f"{blanks} ligne(s) sur {n}"
            t.ctx.add(cell, column, None, rules.HYPOTHESE,
                      rules.HYPOTHESE.text("vide", colonne=column.label, combien=count, cellule=cell, hypothese=assumption))


def _stack(tables: dict[int, Table], fields: list[str]) -> pl.LazyFrame:
    """The rows under each header, all files stacked: `_f`, `_i`, one text column per field (each
    file's own column for it; null where a file has not that column). A cell holding an Excel
    error carries what Excel shows (« #DIV/0! »), so that it is not read as blank."""
    bodies = {f: t.grid.frame.slice(t.start) for f, t in tables.items()}
    bodies = {f: b for f, b in bodies.items() if b.height}
    if not bodies:
        return pl.LazyFrame({FILE: [], ROW: [], **{f: [] for f in fields}},
                            schema={FILE: pl.UInt32, ROW: pl.UInt32, **{f: pl.Utf8 for f in fields}})
    stack = pl.concat(list(bodies.values()), how="diagonal")
    ids, starts, heights = list(bodies), [tables[f].start for f in bodies], [b.height for b in bodies.values()]
    where = pl.DataFrame({FILE: ids, "_start": starts, "_n": heights}, schema={FILE: pl.UInt32, "_start": pl.UInt32, "_n": pl.UInt32})
    where = where.select(pl.col(FILE).repeat_by("_n").explode(),
                         pl.int_ranges("_start", pl.col("_start") + pl.col("_n"), dtype=pl.UInt32).explode().alias(ROW))
    stack = pl.concat([where, stack], how="horizontal")
    raw = stack.lazy().select(FILE, ROW, *[_field_column(f, tables, bodies) for f in fields])
    errors = [(f, i, name, text) for f, t in tables.items() for name, cells in t.error_cells().items() for i, text in cells.items()]
    if errors:
        patch = pl.DataFrame(errors, schema={FILE: pl.UInt32, ROW: pl.UInt32, "_field": pl.Utf8, "_text": pl.Utf8}, orient="row")
        patch = patch.pivot("_field", index=[FILE, ROW], values="_text")
        raw = raw.update(patch.select(FILE, ROW, *[pl.col(c).cast(pl.Utf8) for c in patch.columns if c in fields]).lazy(), on=[FILE, ROW])
    return raw


def _field_column(name: str, tables: dict[int, Table], bodies: dict) -> pl.Expr:
    """The text of a field in the stack: in each file, the column its header row gave."""
    by_column: dict[int, list[int]] = {}
    for f in bodies:
        j = next((j for j, n in tables[f].layout.columns.items() if n == name), None)
        if j is not None:
            by_column.setdefault(j, []).append(f)
    if not by_column:
        return pl.lit(None, dtype=pl.Utf8).alias(name)
    if len(by_column) == 1 and sum(map(len, by_column.values())) == len(bodies):
        return pl.col(column_name(next(iter(by_column)))).alias(name)
    expr = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.Utf8))
    for j, files in by_column.items():
        expr = expr.when(pl.col(FILE).is_in(files)).then(pl.col(column_name(j)))
    return expr.otherwise(None).alias(name)


def _rows(raw: pl.LazyFrame, value_fields: list[str]) -> pl.DataFrame:
    """Blank rows left out; `_total` marks the « Total » rows (a value field that starts so)."""
    if not value_fields:
        return raw.with_columns(pl.lit(False).alias("_total")).collect()
    total = pl.any_horizontal([pl.col(f).str.contains(r"^\s*(?i:total)").fill_null(False) for f in value_fields])
    return raw.filter(~pl.all_horizontal([pl.col(f).is_null() for f in value_fields])).with_columns(total.alias("_total")).collect()


def _split_total_rows(frame: pl.DataFrame, tables: dict[int, Table]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A « Total » row ends the table: it is not a fact (it is checked against the sum), and what
    people write below it (notes, sources, a signature) is not either. Returns the data rows and
    the first Total row of each file."""
    if not frame.get_column("_total").any():
        return frame, frame.clear()
    frame = frame.with_columns(pl.col("_total").cum_sum().over(FILE).alias("_after"))
    first = pl.col("_total") & (pl.col("_after") == 1)
    totals = frame.filter(first)
    below = frame.filter((pl.col("_after") >= 1) & ~first)
    for (f,), rows in below.partition_by(FILE, as_dict=True, maintain_order=True).items():
        total_row = totals.filter(pl.col(FILE) == f)[ROW][0]
        tables[f].ctx.add(f"A{rows[ROW][0] + 1}", None, None, rules.SOUS_TOTAL,
                          rules.SOUS_TOTAL.text(lignes=rows.height, ligne_total=total_row + 1))
    return frame.filter(pl.col("_after") == 0), totals


def _tell_hidden_rows(frame: pl.DataFrame, tables: dict[int, Table]) -> None:
    """Data rows (under the header, not blank, above a Total row) hidden in the workbook: told
    once per sheet. Hidden titles, help lines or notes are not data: not a word about them."""
    hidden = [(f, i) for f, t in tables.items() for i in t.grid.hidden_rows if i >= t.start]
    if not hidden:
        return
    pairs = pl.DataFrame(hidden, schema={FILE: pl.UInt32, ROW: pl.UInt32}, orient="row")
    read = frame.select(FILE, ROW).join(pairs, on=[FILE, ROW], how="semi").sort(FILE, ROW)
    for (f,), rows in read.partition_by(FILE, as_dict=True, maintain_order=True).items():
        tell_hidden_rows(tables[f].ctx, tables[f].grid, rows[ROW].to_list())


def tell_hidden_rows(ctx: ParseContext, grid: Grid, rows: list[int]) -> None:
    """Data rows hidden in the workbook (frame indices, in order), by hand or by a filter: they are
    read like the others, yet whoever filled it in may not have seen them."""
    listed = ", ".join(str(i + 1) for i in rows[:10]) + (" …" if len(rows) > 10 else "")
    ctx.add(grid.cell(rows[0], 0), None, listed, rules.LIGNE_MASQUEE, rules.LIGNE_MASQUEE.text(lignes=len(rows), numeros=listed))


def _report_excel_errors(typed: pl.DataFrame, tables: dict[int, Table], sheet: qs.Sheet) -> None:
    """A cell holding an Excel error (or a formula without value) is reported once, as such, not
    also as « nombre attendu »."""
    for f, t in tables.items():
        cells = t.error_cells()
        if not cells:
            continue
        lines = set(typed.filter(pl.col(FILE) == f).get_column(ROW).to_list())
        refs = set()
        for i in sorted({i for rows in cells.values() for i in rows} & lines):
            for name, rows in cells.items():
                if i in rows:
                    ref = t.part.cell(name, i)
                    add_excel_error(t.ctx, ref, sheet.column(name), rows[i], i)
                    refs.add(ref)
        t.ctx.drop_reports_at(refs, rules.ERREUR_EXCEL)


def add_excel_error(ctx: ParseContext, ref: str, column: qs.Column, error: str, position: int | None) -> None:
    message = rules.ERREUR_EXCEL.text("sans_valeur") if error == NO_VALUE else rules.ERREUR_EXCEL.text(erreur=error)
    ctx.add(ref, column, error, rules.ERREUR_EXCEL, message, position=position)


def _blank_is_zero_in_provided_columns(typed: pl.DataFrame, sheet: qs.Sheet) -> pl.DataFrame:
    """In a numeric column that has values in a file, a blank cell means zero (how people fill
    tables); a column left entirely blank means « not provided » and stays null."""
    numeric = [c.field for c in sheet.columns if c.kind in NUMERIC_KINDS and c.field in typed.columns]
    return typed.with_columns(
        [pl.when(pl.col(f).is_not_null().any().over(FILE)).then(pl.col(f).fill_null(0)).otherwise(pl.col(f)).alias(f)
         for f in numeric]
    )


def _check_totals(totals: pl.DataFrame, typed: pl.DataFrame, tables: dict[int, Table], sheet: qs.Sheet) -> None:
    for row in totals.iter_rows(named=True):
        t = tables[row[FILE]]
        facts = typed.filter(pl.col(FILE) == row[FILE])
        for column in sheet.columns:
            if column.kind not in NUMERIC_KINDS or column.field not in t.part.fields or row.get(column.field) is None:
                continue
            written = pl.select(parse_number(pl.lit(row[column.field], dtype=pl.Utf8)))[0, 0]
            if written is None:
                continue
            computed = facts[column.field].sum()
            if abs(written - computed) > max(0.5, 1e-6 * abs(computed)):
                t.ctx.add(t.part.cell(column.field, row[ROW]), column, row[column.field], rules.TOTAL,
                          rules.TOTAL.text(ecrit=_fr(written), calcule=_fr(computed)))


def _fr(value: float) -> str:
    """1234567.5 → « 1 234 567,50 »."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").removesuffix(",00")


def _apply_scales(typed: pl.DataFrame, tables: dict[int, Table], sheet: qs.Sheet) -> pl.DataFrame:
    """Amounts of a column headed in k€ (or M€) are stored in euros, and the user is told so."""
    factors: dict[str, dict[int, float]] = {}
    for f, t in tables.items():
        for name, factor in t.layout.scales.items():
            if name not in typed.columns:
                continue
            factors.setdefault(name, {})[f] = factor
            if t.layout.announce:
                j = next(k for k, n in t.layout.columns.items() if n == name)
                t.ctx.add(t.grid.cell(t.layout.header_row, j), sheet.column(name), t.grid.frame[t.layout.header_row, j], rules.UNITE,
                          f"colonne exprimée en {'k€' if factor == 1000 else 'M€'} : montants multipliés par {factor:,.0f} pour être "
                          "enregistrés en euros.".replace(",", " "), AVERTISSEMENT)
    # Rounded to the micro-unit: 80 746,536 k€ gives 80 746 536 €, not 80 746 536,000 000 01 €.
    return typed.with_columns([
        pl.when(pl.col(FILE).is_in(list(by_file))).then((pl.col(name) * pl.col(FILE).replace_strict(by_file, default=1.0)).round(6))
        .otherwise(pl.col(name)).alias(name)
        for name, by_file in factors.items()
    ])


def _drop_faulty_rows(typed: pl.DataFrame, tables: dict[int, Table]) -> pl.DataFrame:
    """--ignorer-erreurs: rows with an error are left out (their errors stay in the report, no
    longer blocking the file), and each left-out row is named."""
    dropped = []
    for f, t in tables.items():
        for i in sorted(t.ctx.faulty):
            t.parsed.forgiven.extend(t.ctx.faulty[i])
            t.parsed.problems.append(Problem(
                fichier=t.parsed.path.name, feuille=t.grid.sheet or None, cellule=f"A{i + 1}", regle=rules.LIGNE_IGNOREE.code,
                gravite=rules.LIGNE_IGNOREE.severity,
                message=rules.LIGNE_IGNOREE.text(ligne=i + 1, erreurs=len(t.ctx.faulty[i]) or "plusieurs")))
            dropped.append((f, i))
        t.parsed.dropped_rows += len(t.ctx.faulty)
    if not dropped:
        return typed
    gone = pl.DataFrame(dropped, schema={FILE: typed.schema[FILE], ROW: typed.schema[ROW]}, orient="row")
    return typed.join(gone, on=[FILE, ROW], how="anti", maintain_order="left")
