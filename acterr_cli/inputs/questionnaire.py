"""Reader of the questionnaire workbook (DATA.md §1).

Reading is in two steps, so that many workbooks are checked together: `read_questionnaire` loads
one file's sheets (a draft), `check_questionnaires` checks the drafts of a batch with a few
vectorised plans per sheet and gives each file its problems and its facts. The tables' header
rows are found by their labels (see tables.py); the Organisme sheet is read label | value,
wherever the labels stand. A sheet with no data row means « not provided »: the indicators that
need it become non calculable, never zero.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ActerrError, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
from acterr_cli.inputs.cells import MAX_CELL_CHARS
from acterr_cli.inputs.columns import FILE, ROW, ParseContext, Part, parse_fields
from acterr_cli.inputs.consistency import check_exercice, check_rows
from acterr_cli.inputs.excel import Grid, Workbook, overlong_cell, sheet_key
from acterr_cli.inputs.model import QUESTIONNAIRE, ImportUnit, ParsedFile, ReadOptions
from acterr_cli.inputs.tables import (
    HEADER_SEARCH_ROWS,
    Table,
    add_excel_error,
    cell_key,
    find_layout,
    missing_header,
    read_tables,
    sheet_keys,
    tell_hidden_rows,
)
from acterr_cli.territory.reference import TerritorialReference

ORGANISME_SEARCH_ROWS = 200  # labels are near the top; never walk a huge sheet cell by cell
# Sheets of the questionnaire template that hold no data: its notice and its lists of choices.
INFORMATIVE_SHEETS = {sheet_key(name) for name in ("Lisez-moi", "Listes")}
PROVENANCE = ("siren", "exercice", "source_fichier", "source_sha256", "feuille")


@dataclass
class Draft:
    """A questionnaire's sheets as read from its file, before any check."""

    parsed: ParsedFile
    workbook: Workbook
    organisme: Grid | None
    tables: dict[str, Grid] = field(default_factory=dict)  # schema sheet name -> grid

    def restart(self) -> None:
        """Forget what a check that failed half-way told this file (it is checked again, alone)."""
        self.parsed = ParsedFile(path=self.parsed.path, sha256=self.parsed.sha256, kind=self.parsed.kind)


def looks_like_questionnaire(workbook: Workbook) -> bool:
    return workbook.find_sheet(qs.ORGANISME.name) is not None


def read_questionnaire(path: Path, reference: TerritorialReference, workbook: Workbook | None = None,
                       options: ReadOptions | None = None) -> Draft:
    """Load the sheets of one questionnaire (checked later, with the other files of the batch)."""
    workbook = workbook or Workbook(Path(path))
    parsed = ParsedFile(path=Path(path), sha256=workbook.sha256, kind=QUESTIONNAIRE)
    actual = workbook.find_sheet(qs.ORGANISME.name)
    draft = Draft(parsed, workbook, workbook.grid(actual, check_cells=False) if actual else None)
    for sheet in qs.TABLE_SHEETS:
        actual = workbook.find_sheet(sheet.name)
        if actual is not None:
            draft.tables[sheet.name] = workbook.grid(actual, check_cells=False)
    parsed.problems += unknown_sheets(workbook, parsed.path.name)
    return draft


def unknown_sheets(workbook: Workbook, fichier: str) -> list[Problem]:
    """A sheet the questionnaire does not have (renamed « Taxes foncières », misspelt) is not
    read: said by its name, with the closest sheet name of the questionnaire (the closest of
    those missing from the file, if any is), never dropped silently."""
    known = {sheet_key(s.name): s.name for s in qs.ALL_SHEETS}
    present = {sheet_key(name) for name in workbook.sheet_names}
    missing = [name for key, name in known.items() if key not in present]
    problems = []
    for name in workbook.sheet_names:
        key = sheet_key(name)
        if key in known or key in INFORMATIVE_SHEETS:
            continue
        candidates = missing or list(known.values())
        closest = max(candidates, key=lambda c: difflib.SequenceMatcher(None, key, sheet_key(c)).ratio())
        hint = (f"la feuille attendue la plus proche, absente du classeur, est « {closest} » : renommez-la ainsi si c'est elle"
                if missing else f"ce n'est pas une feuille du questionnaire (la plus proche : « {closest} »)")
        problems.append(Problem(
            fichier=fichier, feuille=name, regle=rules.FEUILLE_INCONNUE.code, gravite=AVERTISSEMENT,
            message=rules.FEUILLE_INCONNUE.text(feuille=name, indice=hint)))
    return problems


@dataclass
class Checked:
    """The drafts once checked: each file's ParsedFile (or the error that refuses it whole), and
    the facts of all the units by dataset; each unit's tables are slices of these frames, listed
    in `slices` as (draft, dataset, offset, rows)."""

    files: list[ParsedFile | ActerrError]
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    slices: list[tuple[int, str, int, int]] = field(default_factory=list)


def check_questionnaires(drafts: list[Draft], reference: TerritorialReference, options: ReadOptions) -> Checked:
    """Check the drafts of a batch together; every file gets its full report, even when its
    Organisme sheet is wrong (then nothing of it is kept)."""
    refused = _overlong_cells(drafts)
    kept = {k: d for k, d in enumerate(drafts) if k not in refused}
    identities, organismes = _read_organismes(kept, reference, options)
    facts = {qs.ORGANISME.dataset: _organisme_facts(organismes, identities, kept)}
    for sheet in qs.TABLE_SHEETS:
        tables = {}
        for k, d in kept.items():
            grid = d.tables.get(sheet.name)
            layout = find_layout(grid, sheet) if grid is not None else None
            if layout is not None:
                tables[k] = Table(d.parsed, grid, layout, reference)
            elif grid is not None:
                missing_header(grid, sheet, d.parsed)
        if tables:
            where = {k: (identities[k].siren, identities[k].exercice, tables[k].grid.sheet) for k in tables if k in identities}
            facts[sheet.dataset] = _with_provenance(read_tables(tables, sheet, options), where, kept)
    checked = Checked([refused.get(k) or d.parsed for k, d in enumerate(drafts)], facts)
    _attach_units(checked, identities, kept)
    return checked


def _overlong_cells(drafts: list[Draft]) -> dict[int, ActerrError]:
    """Excel cells hold at most 32 767 characters: a file with a longer one is refused whole. One
    check per sheet for the whole batch; the offending files only are looked at cell by cell."""
    refused: dict[int, ActerrError] = {}
    order = [qs.ORGANISME.name] + [s.name for s in qs.TABLE_SHEETS]
    for name in order:
        grids = {k: (d.organisme if name == qs.ORGANISME.name else d.tables.get(name)) for k, d in enumerate(drafts)}
        grids = {k: g for k, g in grids.items() if g is not None and g.frame.width and k not in refused}
        if not grids:
            continue
        stack = pl.concat([g.frame for g in grids.values()], how="diagonal")
        longest = stack.select(pl.all().str.len_bytes().max()).row(0)
        if all(n is None or n <= MAX_CELL_CHARS for n in longest):  # bytes ≥ characters: confirmed file by file
            continue
        for k, grid in grids.items():
            cell = overlong_cell(grid.frame, grid.col_offset)
            if cell:
                refused[k] = drafts[k].workbook.too_long(grid.sheet, cell)
    return refused


# ─── Organisme: label | value ───

@dataclass
class Identity:
    """Who a file is about, once its Organisme sheet has no error."""

    siren: str
    exercice: int
    sheet: str
    cells: dict[str, tuple[tuple[int, int], str]]  # field -> (frame position, Excel reference) of its value


def _read_organismes(drafts: dict[int, Draft], reference: TerritorialReference,
                     options: ReadOptions) -> tuple[dict[int, Identity], pl.DataFrame]:
    """The identity of each file whose Organisme sheet has no error (without it nothing of the
    file can be stored), and the typed Organisme rows of the batch (one per file, `_f`)."""
    sheet = qs.ORGANISME
    parts: dict[int, Part] = {}
    values: dict[int, dict[str, str | None]] = {}
    cells: dict[int, dict[str, tuple[tuple[int, int], str]]] = {}
    for k, d in drafts.items():
        if d.organisme is None:
            d.parsed.problems.append(Problem(fichier=d.parsed.path.name, regle=rules.FEUILLE.code,
                                             message=rules.FEUILLE.text()))
            continue
        grid = d.organisme
        values[k], cells[k] = _label_values(grid, sheet)
        ctx = ParseContext(d.parsed.path.name, grid.sheet, reference, percent_lookup=grid.percent_lookup)
        hidden = sorted({pos[0] for f, (pos, _) in cells[k].items() if values[k].get(f) is not None} & set(grid.hidden_rows))
        if hidden:
            tell_hidden_rows(ctx, grid, hidden)
        for column in sheet.columns:
            if column.required and column.field not in values[k]:
                ctx.add(None, column, None, rules.OBLIGATOIRE, rules.OBLIGATOIRE.text("ligne", colonne=column.label))
        parts[k] = Part(ctx, lambda f, _i, found=cells[k]: found[f][1], frozenset(values[k]))
    if not parts:
        return {}, pl.DataFrame()
    names = [c.field for c in sheet.columns if any(c.field in v for v in values.values())]
    raw = pl.DataFrame({FILE: list(values), ROW: [0] * len(values), **{f: [v.get(f) for v in values.values()] for f in names}},
                       schema={FILE: pl.UInt32, ROW: pl.UInt32, **{f: pl.Utf8 for f in names}})
    typed = parse_fields(raw, sheet.columns, parts, reference)
    for k, part in parts.items():
        _excel_error_cells(drafts[k].organisme, cells[k], sheet, part.ctx)
    rows = {row[FILE]: row for row in typed.iter_rows(named=True)}
    for k, part in parts.items():
        if "exercice" in typed.columns:
            check_exercice(rows[k]["exercice"], cells[k].get("exercice", (0, None))[1], sheet.column("exercice"), part.ctx, options)
    check_rows(typed, sheet, parts)
    identities = {}
    for k, part in parts.items():
        drafts[k].parsed.problems.extend(part.ctx.problems)
        if not part.ctx.has_errors:
            identities[k] = Identity(rows[k]["siren"], int(rows[k]["exercice"]), drafts[k].organisme.sheet, cells[k])
    return identities, typed


def _label_values(grid: Grid, sheet: qs.Sheet) -> tuple[dict[str, str | None], dict[str, tuple[tuple[int, int], str]]]:
    """Value of each field: the cell of its label's row in the « Valeur » column (or, without such
    a header, the cell right of the label), wherever the label stands. Cells are given both as
    frame position and as Excel reference."""
    by_key = sheet_keys(sheet)
    rows = grid.frame.head(ORGANISME_SEARCH_ROWS).rows()
    value_column = _value_column(rows)
    raw: dict[str, str | None] = {}
    cells: dict[str, tuple[tuple[int, int], str]] = {}
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            field_name = by_key.get(cell_key(cell)) if cell else None
            if field_name and field_name not in raw:
                k = value_column if value_column is not None and value_column > j else _next_filled(row, j)
                raw[field_name] = row[k] if k < len(row) else None
                cells[field_name] = ((i, k), grid.cell(i, k))
                break
        if len(raw) == len(sheet.columns):  # every label found
            break
    return raw, cells


def _next_filled(row: tuple, j: int) -> int:
    """Without a « Valeur » header, the value is the first filled cell right of the label (merged
    label cells leave blanks in between), else the cell right next to it."""
    for k in range(j + 1, min(len(row), j + 4)):
        if row[k] is not None and str(row[k]).strip():
            return k
    return j + 1


def _value_column(rows: list[tuple]) -> int | None:
    for row in rows[:HEADER_SEARCH_ROWS]:
        for j, cell in enumerate(row):
            if cell and cell_key(cell) == "valeur":
                return j
    return None


def _excel_error_cells(grid: Grid, cells: dict, sheet: qs.Sheet, ctx: ParseContext) -> None:
    """Report the value cells holding an Excel error or a formula saved without its value (once,
    as such, not also as « nombre attendu »)."""
    found = set()
    for field_name, ((i, k), ref) in cells.items():
        error = grid.errors.get((i, k))
        if error:
            add_excel_error(ctx, ref, sheet.column(field_name), error, None)
            found.add(ref)
    ctx.drop_reports_at(found, rules.ERREUR_EXCEL)


def _organisme_facts(typed: pl.DataFrame, identities: dict[int, Identity], drafts: dict[int, Draft]) -> pl.DataFrame:
    """One row per organisation: the Organisme fields (null when not given), then provenance."""
    if not identities:
        return pl.DataFrame()
    typed = typed.filter(pl.col(FILE).is_in(list(identities)))
    typed = typed.with_columns([pl.lit(None, dtype=pl.Float64).alias(c.field) for c in qs.ORGANISME.columns
                                if c.field not in typed.columns])
    where = {k: (i.siren, i.exercice, i.sheet) for k, i in identities.items()}
    facts = _with_provenance(typed.drop("siren", "exercice", ROW), where, drafts)
    return facts.with_columns(pl.lit(None, dtype=pl.Int64).alias("ligne"))


def _with_provenance(typed: pl.DataFrame, where: dict[int, tuple[str, int, str]], drafts: dict[int, Draft]) -> pl.DataFrame:
    """Facts carry where they came from: file, checksum, sheet and Excel row (column `ligne`).
    Only the rows of files with an identity are kept; `_f` stays, for the units."""
    if not set(typed.get_column(FILE).unique().to_list()) <= where.keys():
        typed = typed.filter(pl.col(FILE).is_in(list(where)))
    size = max(drafts) + 1  # `_f` indexes these columns directly
    columns = {"siren": ([None] * size, pl.Utf8), "exercice": ([None] * size, pl.Int64), "source_fichier": ([None] * size, pl.Utf8),
               "source_sha256": ([None] * size, pl.Utf8), "feuille": ([None] * size, pl.Utf8)}
    for k, (siren, exercice, sheet) in where.items():
        for name, value in zip(columns, (siren, exercice, drafts[k].parsed.path.name, drafts[k].parsed.sha256, sheet), strict=True):
            columns[name][0][k] = value
    return typed.with_columns(pl.lit(pl.Series(name, values, dtype=dtype)).gather(pl.col(FILE)).alias(name)
                              for name, (values, dtype) in columns.items())


def _attach_units(checked: Checked, identities: dict[int, Identity], drafts: dict[int, Draft]) -> None:
    """One unit per file with an identity; its tables are slices of the batch's frames (no copy)."""
    tables: dict[int, dict[str, pl.DataFrame]] = {k: {} for k in identities}
    frames = {}
    for dataset, frame in checked.frames.items():
        if not frame.height:
            continue
        runs = frame.group_by(FILE, maintain_order=True).len()
        frames[dataset] = data = frame.drop(FILE)
        offset = 0
        for k, n in runs.iter_rows():
            tables[k][dataset] = data.slice(offset, n)
            checked.slices.append((k, dataset, offset, n))
            offset += n
    checked.frames = frames
    for k, who in identities.items():
        raison = tables[k][qs.ORGANISME.dataset]["raison_sociale"][0]
        cells = {f: (who.sheet, ref) for f, (_pos, ref) in who.cells.items()}
        drafts[k].parsed.units.append(ImportUnit(QUESTIONNAIRE, who.siren, who.exercice, raison, tables[k], cells))
