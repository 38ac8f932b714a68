"""Par organisme: every organisation's results on every territory where it is present, as a wide
table — one row per organisation and territory, one column per indicator (central value), the
columns grouped by ledger under a coloured band.

A long table (one row per result, with low and high values, coverage, reason) would hold
hundreds of thousands of rows for an overview of hundreds of organisations: unreadable, and slow
to write. The wide table keeps what traces a figure of the Indicateurs sheet to its
organisations (each one's value, « n.c. » where it is not computable, orange where its coverage
is partial); the long form of the same results is `acterr export --format csv|parquet`, which the
sheet's subtitle names.

Read from the per-organisation frame (never as dicts); any number of rows and any set of
indicators per row (an organisation that only buys or employs somewhere may have a few)."""

from __future__ import annotations

import polars as pl
from xlsxwriter.workbook import Workbook

from acterr_cli.common.formatting import fr_number
from acterr_cli.outputs.nature import TOLERANCE
from acterr_cli.outputs.reports import tables
from acterr_cli.outputs.reports.model import DWELLINGS, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import (
    FULL_COVERAGE,
    LEDGER_COLORS,
    NAVY,
    NOT_COMPUTABLE,
    ORANGE,
    TABLE_STYLE,
    Formats,
    add_table,
    fit_row,
    fit_rows,
    flat_format,
    heading,
    is_money,
    note,
    number_format,
    print_setup,
)
from acterr_cli.referentiel.model import LEDGER_LABELS
from acterr_cli.results import CALCULE

SHEET, TABLE = "Par organisme", "Par_organisme"
SUBTITLE_WIDTH = 150  # the subtitle is wrapped over the first screen's columns, not over every indicator
NAME_WIDTH, MAX_NAME_WIDTH = 28, 46  # name columns (territory, organisation), in characters
PRINT_SCALE = 60  # % : the names and a dozen indicators per A4 landscape page, as small as the other sheets fitted to width


# How a cell of the table is shown (column `<code>|k` of `organisation_table`); null: no result.
NOT_COMPUTED, COMPUTED, COMPUTED_PARTIAL, FLAT, FLAT_PARTIAL = 0, 1, 2, 3, 4


def organisation_table(data: ReportData, codes: list[str]) -> pl.DataFrame:
    """One row per organisation × territory, in the sheet's order (territories in the ranking's
    order, then organisations by dwellings there, largest first, and name): the names, then for
    each indicator its value (`<code>`, null unless computed) and how to show it (`<code>|k`: see
    NOT_COMPUTED…; null where the organisation has no such result there). Built by a pivot of the
    per-organisation frame: an EPCI overview of France has 168 000 such rows."""
    results = data.org_frame.filter(pl.col("indicateur").is_in(codes))
    computed = (pl.col("statut") == CALCULE) & pl.col("valeur").is_not_null()
    partial = pl.col("couverture") < FULL_COVERAGE
    flat = (pl.col("part_forfaitaire") > TOLERANCE) if "part_forfaitaire" in results.columns else pl.lit(False)
    how = (pl.when(~computed).then(NOT_COMPUTED)
           .when(flat & partial).then(FLAT_PARTIAL).when(flat).then(FLAT)
           .when(partial).then(COMPUTED_PARTIAL).otherwise(COMPUTED))
    long = results.select(
        pl.col("code_territoire").fill_null(""), pl.col("siren").fill_null(""),
        pl.coalesce(_text("nom_territoire"), _text("code_territoire"), pl.lit("")).alias("territoire"),
        pl.coalesce(_text("raison_sociale"), _text("siren"), pl.lit("")).alias("organisme"),
        "indicateur", pl.when(computed).then(pl.col("valeur")).alias("v"), how.cast(pl.Int8).alias("k"),
    )
    pair = ["code_territoire", "siren"]
    table = long.select(*pair, "territoire", "organisme").unique(pair, keep="first", maintain_order=True)
    if not long.is_empty():
        wide = long.pivot(on="indicateur", index=pair, values=["v", "k"], aggregate_function="last")
        wide = wide.rename({f"{v}_{c}": (c if v == "v" else f"{c}|k") for v in ("v", "k") for c in long["indicateur"].unique()})
        table = table.join(wide, on=pair, how="left", maintain_order="left")
    table = table.with_columns(  # indicators without any result here: blank columns
        [pl.lit(None, pl.Float64).alias(c) for c in codes if c not in table.columns]
        + [pl.lit(None, pl.Int8).alias(f"{c}|k") for c in codes if f"{c}|k" not in table.columns])
    order = {t.code: i for i, t in enumerate(data.territories)}
    largest_first = [-pl.col(DWELLINGS).fill_null(0.0)] if DWELLINGS in codes else []
    return table.sort(
        pl.col("code_territoire").replace_strict(order, default=len(order), return_dtype=pl.Int64),
        pl.col("territoire").str.to_lowercase(), *largest_first, pl.col("organisme").str.to_lowercase(), "siren",
        maintain_order=True,
    )


def _text(column: str) -> pl.Expr:
    """A name, null when blank: the next one in line is shown instead."""
    return pl.when(pl.col(column) != "").then(pl.col(column))


def indicator_codes(data: ReportData) -> list[str]:
    """Indicators with at least one per-organisation result, in the référentiel's order."""
    present = set(data.org_frame["indicateur"].unique().to_list())
    return [c for c in data.labels if c in present]


def _name_width(narrowest: int, longest: int) -> int:
    """A name column as wide as its longest name (EPCI names run to 59 characters), within
    bounds: the names and a dozen indicators still fit an A4 landscape page."""
    return min(MAX_NAME_WIDTH, max(narrowest, longest + 2))


# Up to this many organisation × territory pairs, they are the columns and the indicators the rows
# (a regional overview prints on four pages, not eleven); beyond, one row per pair, one column per indicator.
MAX_COLUMNS = 32


def write(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    codes = indicator_codes(data)
    if data.org_frame.select("code_territoire", "siren").n_unique() <= MAX_COLUMNS:
        _by_indicator(wb, data, fmt, codes)
        return
    ws = wb.add_worksheet(SHEET)
    per_territory = data.kind != TERRITOIRE
    # the first two columns name the line: frozen on screen, repeated on every printed page
    fixed = ([("Territoire", NAME_WIDTH, "territoire"), ("Organisme", NAME_WIDTH, "organisme"),
              ("Code territoire", 10, "code_territoire")] if per_territory
             else [("Organisme", 30, "organisme")]) + [("SIREN", 10, "siren")]
    units = [data.labels[c]["unite"] or "" for c in codes]
    ledgers = [data.labels[c]["registre"] for c in codes]
    band_row, header_row = 3, 4
    table = organisation_table(data, codes)
    rows, cut = fit_rows(range(table.height), header_row, tables.EXCEL_MAX_ROWS - 2)  # room for the legend
    table = table.head(len(rows))
    widths = [_name_width(w, table[column].str.len_chars().max() or 0) if column in ("territoire", "organisme") else w
              for _, w, column in fixed]
    widths += [14 if is_money(u) else 12 for u in units]
    shown = [w for i, w in enumerate(widths) if sum(widths[: i + 1]) <= SUBTITLE_WIDTH] or widths[:1]
    legend = _legend(data)  # scans every organisation's results: once
    heading(ws, fmt, data.title, f"{_subtitle(data, len(rows))} {legend}" + (f" {cut}" if cut else ""), shown)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)

    # ledger bands over the indicator columns, then the headers, coloured alike
    first = len(fixed)
    start = 0
    for k in range(1, len(codes) + 1):
        if k == len(codes) or ledgers[k] != ledgers[start]:
            color = _color(ledgers[start])
            label = LEDGER_LABELS.get(ledgers[start], ledgers[start] or "")
            if k - 1 > start:
                ws.merge_range(band_row, first + start, band_row, first + k - 1, label, fmt.band(color))
            else:
                ws.write_string(band_row, first + start, label, fmt.band(color))
            start = k
    ws.set_row(band_row, 20)
    headers = [name for name, _, _ in fixed] + [f"{data.labels[c]['libelle'] or c}{f' ({u})' if u else ''}\n{c}"
                                                 for c, u in zip(codes, units, strict=True)]
    header_fmts = [fmt.header()] * len(fixed) + [fmt.header(_color(ledger)) for ledger in ledgers]
    fit_row(ws, header_row, zip(headers, widths, header_fmts, strict=True))

    text = fmt()
    plain = [fmt.number(u) for u in units]
    orange = [fmt.number(u, font_color=ORANGE) for u in units]
    by_kind = {COMPUTED: plain, COMPUTED_PARTIAL: orange,
               FLAT: [fmt.flat(num_format=flat_format(number_format(u))) for u in units],
               FLAT_PARTIAL: [fmt.flat(num_format=flat_format(number_format(u)), font_color=ORANGE) for u in units]}
    missing = fmt.missing()
    scales = [f.scale for f in plain]  # a percentage is stored as a fraction under its percent format
    columns = [column for _, _, column in fixed] + [c for code in codes for c in (code, f"{code}|k")]
    for i, row in enumerate(table.select(columns).iter_rows()):
        r = header_row + 1 + i
        for j in range(first):
            ws.write_string(r, j, row[j], text)
        for k in range(len(codes)):
            value, how = row[first + 2 * k], row[first + 2 * k + 1]
            if how is None:
                continue  # no result for this organisation here: a blank cell in the table
            if how == NOT_COMPUTED:
                ws.write_string(r, first + k, NOT_COMPUTABLE, missing)
            else:
                ws.write_number(r, first + k, value / scales[k] if scales[k] != 1 else value, by_kind[how][k])
    if not rows:
        ws.write_string(header_row + 1, 0, "(aucun)", fmt.note())
    last = header_row + max(1, len(rows))
    add_table(ws, header_row, 0, last, len(headers) - 1, {
        "name": TABLE, "style": TABLE_STYLE, "autofilter": True,
        "columns": [{"header": h, "header_format": f} for h, f in zip(headers, header_fmts, strict=True)],
    })
    ws.freeze_panes(header_row + 1, 2)
    # Printed from the ledger bands down (the page header names the report and the sheet): the two
    # name columns and the header rows repeated on every page, the indicators across pages, the
    # legend under the name columns so that no page shows it cut.
    end = note(ws, fmt, last + 2, legend, 0, 1, widths[0] + widths[1])
    print_setup(ws, data.title, (band_row, header_row), fit_width=False)
    ws.set_print_scale(PRINT_SCALE)
    ws.repeat_columns(0, 1)
    ws.print_area(band_row, 0, end - 1, len(headers) - 1)


def _by_indicator(wb: Workbook, data: ReportData, fmt: Formats, codes: list[str]) -> None:
    """Few organisations × territories: indicators down, one column per organisation on a
    territory, in the order of `organisation_table` (the ranking's, then the largest first)."""
    ws = wb.add_worksheet(SHEET)
    results: dict[tuple[str, str], dict[str, dict]] = {}
    for r in data.org_rows:
        results.setdefault((r["code_territoire"] or "", r["siren"] or ""), {})[r["indicateur"]] = r
    order = organisation_table(data, codes).select("code_territoire", "siren", "territoire", "organisme").rows()
    per_territory = data.kind != TERRITOIRE
    columns = [tables.MatrixColumn(f"{territory}\n{organisation}" if per_territory else organisation, siren,
                                   results.get((code, siren), {}), {})
               for code, siren, territory, organisation in order]
    tables.matrix_by_indicator(ws, data, fmt, columns, codes, f"{_subtitle(data, len(columns), across=True)} {_legend(data)}",
                               TABLE, pages_wide=2, pages_tall=1)  # as small as the Indicateurs matrix


def _color(ledger: str | None) -> str:
    return LEDGER_COLORS.get(ledger or "", (NAVY,))[0]


def _subtitle(data: ReportData, count: int, across: bool = False) -> str:
    where, line = ((f"sur {data.subject}", "organisme") if data.kind == TERRITOIRE
                   else ("sur chaque territoire où il est présent", "organisme et territoire"))
    if across:
        return (f"Résultats de chaque organisme {where} : une colonne par {line} ({fr_number(count)} colonnes, dans l'ordre "
                "du classement), une ligne par indicateur (valeur centrale), les indicateurs groupés par registre.")
    return (f"Résultats de chaque organisme {where} : une ligne par {line} ({fr_number(count)} lignes), une colonne "
            "par indicateur (valeur centrale), les indicateurs groupés par registre.")


def _legend(data: ReportData) -> str:
    command = (f"acterr export --territoire {data.level}" + (f" --code {data.scope.code}" if data.kind == TERRITOIRE else "")
               + (f" --exercice {data.year}" if data.year is not None else ""))
    flat = data.org_frame.height and "part_forfaitaire" in data.org_frame.columns and \
        data.org_frame.select((pl.col("part_forfaitaire") > TOLERANCE).any()).item()
    return ("En orange : couverture partielle ; "
            + ("sur fond jaune, « ≈ » : estimation forfaitaire (moyenne nationale à la place d'une donnée locale absente, pas une "
               "mesure ; ce qui la remplacerait : feuille « Qualité des données ») ; " if flat else "")
            + "n.c. : non calculable ; case vide : pas de résultat pour cet organisme sur "
            "ce territoire (par exemple un indicateur de patrimoine là où il n'a que des salariés ou des fournisseurs). "
            f"Fourchette basse – haute, couverture, motif et exercice précédent de chaque résultat : « {command} --format csv » "
            "(ou parquet), une ligne par résultat.")


__all__ = ["SHEET", "TABLE", "organisation_table", "indicator_codes", "write"]
