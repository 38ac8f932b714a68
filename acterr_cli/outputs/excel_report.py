"""The board workbook (« rapport ») in French, written with xlsxwriter.

Sheets: Synthèse (headline figures per ledger, per territory and per organisation), Indicateurs
(every consolidated result), Par organisme, Graphiques (native charts over data blocks written on
the same sheet), Qualité des données (coverage, non-computable results and why) and Méthodologie
(référentiel, formulas, parameters and their sources, inputs with their sha256).

Rules kept here:
- the two ledgers (valeur locale, plus-value sociale) are shown side by side, never added;
- a « Total » sums additive units only, and only when the level partitions the scope; ratios are
  never summed nor averaged (the engine recomputes them per territory from summed measures);
- no user string can become a formula: strings go through `write_string`, numbers through
  `write_number`, missing values are blank cells; the workbook refuses string conversions too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from acterr_cli import __version__
from acterr_cli.engine.compute import CALCULE
from acterr_cli.engine.run import Computation
from acterr_cli.errors import UsageError
from acterr_cli.outputs.atomic import atomic_output
from acterr_cli.outputs.formatting import decimals_for, fr_number
from acterr_cli.outputs.terminal import HEADLINES
from acterr_cli.referentiel.model import LEDGER_LABELS, STAKEHOLDERS, Referentiel, load_referentiel


@dataclass
class WrittenReport:
    path: Path
    exercice: int | None
    sheets: list[str]


SHEETS = ("Synthèse", "Indicateurs", "Par organisme", "Graphiques", "Qualité des données", "Méthodologie")
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}

# Units whose values add up across territories and organisations; everything else (%, ‰, €/m²/mois,
# €/logt, €/mois, €/hab, ratio, unknown units) is a ratio: never summed, never averaged.
ADDITIVE_UNITS = frozenset({"€", "€/an", "ETP", "ETP-année", "logements", "ménages", "h", "MWh/an", "tCO2e/an"})
# Levels whose territories partition what they contain: each dwelling lies in exactly one of them.
PARTITIONING_LEVELS = frozenset({"COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "FRANCE"})
LEVEL_TITLES = {"COMMUNE": "par commune", "EPCI": "par EPCI", "DEPARTEMENT": "par département",
                "REGION": "par région", "FRANCE": "France entière"}
LEVEL_NOUNS = {"COMMUNE": "Commune", "EPCI": "EPCI", "DEPARTEMENT": "Département", "REGION": "Région", "FRANCE": "France"}
STAGES = {"PROD": "Production", "ACC": "Accès au logement", "GL": "Gestion locative", "GP": "Gestion de proximité",
          "GS": "Gestion sociale", "PV": "Politique de la ville", "SUP": "Fonctions support"}
STATUS_LABELS = {"calcule": "calculé", "non_calculable": "non calculable"}
FLAGGED_STATUSES = ("à vérifier", "hypothèse")
# Synthèse blocks: the terminal's headline figures, plus the unknown-label share beside ENV-01.
SYNTHESE_CODES = {ledger: list(dict.fromkeys(codes + (["ENV-01c"] if ledger == "environnement" else [])))
                  for ledger, codes in HEADLINES.items()}
LEDGER_SUBTITLES = {
    "valeur_locale": "investissement, emplois et fiscalité qui restent sur le territoire",
    "plus_value_sociale": "gains des locataires, accès au logement, politique de la ville",
    "environnement": "performance énergétique du parc",
}
LEDGER_COLORS = {"valeur_locale": ("#1F4E79", "#DDEBF7"), "plus_value_sociale": ("#6A1B5F", "#F3E1EF"),
                 "environnement": ("#375623", "#E2EFDA")}
NAVY, GREY, ORANGE = "#1F3864", "#7F7F7F", "#C55A11"
TABLE_STYLE = "Table Style Medium 2"
DECIMALS = {"ETP": 1, "‰": 2}  # beyond formatting.decimals_for: ETP counts halves, ‰ values are small
CHART_MAX_BARS = 30  # bars in one chart (categories × series); the data block keeps every territory
PAGE_HEIGHT_PX = 620  # printable height of an A4 landscape page, in sheet pixels (at most: fit to width shrinks)
CHART_MAX_HEIGHT_PX = 540
NOT_COMPUTABLE = "n.c."
EXCEL_MAX_ROWS = 1_048_576
LEDGER_SENTENCE = ("Valeur locale et plus-value sociale sont deux registres distincts : ils se lisent côte à côte "
                   "et ne s'additionnent jamais.")


# ─── entry point ───

def write_report(path: Path, computation: Computation, exercice: int | None = None) -> WrittenReport:
    """Board workbook in French, written atomically with xlsxwriter. exercice None → the latest in the results."""
    path = Path(path)
    report = _Report.build(computation, exercice)
    with atomic_output(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        report.fmt = _Formats(wb)
        _properties(wb, report)
        for write_sheet in (_synthese, _indicateurs, _par_organisme, _graphiques, _qualite, _methodologie):
            write_sheet(wb, report)
        wb.close()
    return WrittenReport(path, report.year, list(SHEETS))


@dataclass
class _Report:
    """What every sheet needs: the results of one exercice, split, and the référentiel."""

    computation: Computation
    year: int | None
    cons: list[dict]  # consolidated results (siren null)
    orgs: list[dict]  # per-organisation results
    referentiel: Referentiel
    fmt: _Formats | None = None
    labels: dict[str, dict] = field(default_factory=dict)  # indicator code → {libelle, unite, registre}

    @classmethod
    def build(cls, computation: Computation, exercice: int | None) -> _Report:
        results = computation.results
        years = sorted(y for y in results["exercice"].unique().to_list() if y is not None) if results.height else []
        if exercice is not None and exercice not in years:
            available = ", ".join(map(str, years)) or "aucun"
            raise UsageError(f"aucun résultat pour l'exercice {exercice} (exercices disponibles : {available}).")
        year = exercice if exercice is not None else (years[-1] if years else None)
        rows = results.filter(pl.col("exercice") == year) if year is not None else results.clear()
        referentiel = load_referentiel()
        report = cls(computation, year, rows.filter(pl.col("siren").is_null()).to_dicts(),
                     rows.filter(pl.col("siren").is_not_null()).to_dicts(), referentiel)
        for ind in referentiel.indicators:
            report.labels[ind.code] = {"libelle": ind.libelle, "unite": ind.unite, "registre": ind.registre}
        for r in report.cons + report.orgs:
            report.labels.setdefault(r["indicateur"], {"libelle": r["libelle"], "unite": r["unite"], "registre": r["registre"]})
        return report

    @property
    def level(self) -> str:
        return self.computation.level

    @property
    def meta(self) -> dict:
        return self.computation.meta or {}

    @property
    def title(self) -> str:
        year = f", exercice {self.year}" if self.year is not None else ""
        return f"Valeur créée par les organismes Hlm — {LEVEL_TITLES.get(self.level, self.level)}{year}"

    @cached_property
    def territories(self) -> list[tuple[str, str]]:
        """(code, nom) of every territory of the exercice, in alphabetical order of names."""
        seen = {(r["code_territoire"] or "", r["nom_territoire"] or r["code_territoire"] or "") for r in self.cons + self.orgs}
        return sorted(seen, key=lambda t: (t[1].casefold(), t[0] or ""))

    @cached_property
    def organisations(self) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for r in self.orgs:
            if r["raison_sociale"] or r["siren"] not in seen:
                seen[r["siren"]] = r["raison_sociale"] or ""
        return sorted(seen.items())

    def totals_allowed(self) -> bool:
        return self.level in PARTITIONING_LEVELS and len(self.territories) > 1

    def by_territory(self, code: str) -> dict[str, dict]:
        return {r["code_territoire"]: r for r in self.cons if r["indicateur"] == code}


# ─── formats ───

class _Formats:
    """One cached xlsxwriter Format per distinct set of properties, all on the same base font."""

    BASE = {"font_name": "Calibri", "font_size": 10, "valign": "top"}

    def __init__(self, wb: Workbook):
        self.wb = wb
        self._cache: dict[tuple, Format] = {}

    def __call__(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({**self.BASE, **props})
        return self._cache[key]

    def title(self) -> Format:
        return self(bold=True, font_size=16, font_color=NAVY, valign="vcenter")

    def section(self, color: str = NAVY) -> Format:
        return self(bold=True, font_size=12, font_color=color, bottom=2, bottom_color=color)

    def header(self, color: str = NAVY) -> Format:
        return self(bold=True, font_color="#FFFFFF", bg_color=color, text_wrap=True, valign="vcenter", border=1,
                    border_color="#BFBFBF")

    def subheader(self, fill: str) -> Format:
        return self(bold=True, bg_color=fill, text_wrap=True, align="center", valign="vcenter", border=1,
                    border_color="#BFBFBF")

    def band(self, ledger: str) -> Format:
        return self(bold=True, font_size=12, font_color="#FFFFFF", bg_color=LEDGER_COLORS[ledger][0], valign="vcenter")

    def text(self, **extra: Any) -> Format:
        return self(**extra)

    def wrap(self, **extra: Any) -> Format:
        return self(text_wrap=True, **extra)

    def note(self) -> Format:
        return self(italic=True, font_color=GREY, text_wrap=False)

    def missing(self) -> Format:
        return self(italic=True, font_color=GREY, align="right")

    def integer(self, **extra: Any) -> Format:
        return self(num_format="#,##0", **extra)

    def number(self, unit: str | None, **extra: Any) -> Format:
        return self(num_format=number_format(unit), **extra)

    def coverage(self, value: float | None, **extra: Any) -> Format:
        partial = value is not None and value < 100 - 1e-9
        return self(num_format='0.0 "%"', **({"font_color": ORANGE} if partial else {}), **extra)


def unit_decimals(unit: str | None) -> int:
    return DECIMALS.get(unit or "", decimals_for(unit or ""))


def number_format(unit: str | None) -> str:
    """Excel number format for a unit: `#,##0 "€"`, `#,##0.0 "%"`, `#,##0.00 "€"`… (Excel and
    LibreOffice show the separators of the reader's locale)."""
    unit = unit or ""
    decimals = unit_decimals(unit)
    base = "#,##0" + ("." + "0" * decimals if decimals else "")
    symbol = "€" if unit.startswith("€") else unit if unit in ("%", "‰") else ""
    return f'{base} "{symbol}"' if symbol else base


def is_additive(unit: str | None) -> bool:
    return (unit or "") in ADDITIVE_UNITS


# ─── cell helpers ───

def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """Numbers as numbers, everything else as text (never a formula), None as a blank cell."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _merged(ws: Worksheet, row: int, first_col: int, last_col: int, text: str, fmt: Format, last_row: int | None = None) -> None:
    last_row = row if last_row is None else last_row
    if last_col > first_col or last_row > row:
        ws.merge_range(row, first_col, last_row, last_col, "", fmt)
    ws.write_string(row, first_col, text, fmt)


def _range_text(low: float | None, high: float | None, unit: str | None) -> str:
    if low is None or high is None or abs(high - low) < 1e-9:
        return ""
    d = unit_decimals(unit)
    return f"{fr_number(low, d)} – {fr_number(high, d)}"


def _status(value: str | None) -> str:
    return STATUS_LABELS.get(value or "", value or "")


def _remark(r: dict) -> str | None:
    parts = [p for p in (r.get("motif"), r.get("note")) if p]
    return " — ".join(parts) if parts else None


def _fr_datetime(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(value)


def _print_setup(ws: Worksheet, report: _Report, repeat: tuple[int, int] | None) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    title = report.title.replace("&", "&&")
    ws.set_header(f"&L&8{title}&R&8&A")
    ws.set_footer("&L&8acterr&C&8Page &P / &N&R&8&D")
    if repeat is not None:
        ws.repeat_rows(*repeat)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column of `width` characters (an estimate: neither
    Excel nor LibreOffice grows rows written by xlsxwriter)."""
    per_line = max(1, int(width * 1.2))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _fit_row(ws: Worksheet, row: int, cells: Iterable[tuple[Any, float, Format | None]], minimum: float = 15) -> None:
    """Set the height of a row from its wrapped text cells: (value, column width, format)."""
    height = minimum
    for value, width, f in cells:
        if isinstance(value, str) and f is not None and getattr(f, "text_wrap", 0):
            height = max(height, _lines(value, width) * (f.font_size or 10) * 1.25 + 3)
    if height > minimum:
        ws.set_row(row, min(height, 409))


@dataclass
class _Col:
    """A column of a data table: header, width, value getter, format (fixed or per row)."""

    header: str
    width: float
    value: Callable[[dict], Any]
    fmt: Callable[[dict], Format] | None = None


def _table(ws: Worksheet, report: _Report, row: int, cols: list[_Col], rows: list[dict], name: str,
           color: str = NAVY, widths: Iterable[float] | None = None) -> int:
    """Write rows cell by cell (typed), then declare them as a named Excel table. Column widths are
    the columns' own, or the sheet's shared `widths`. Returns the first free row after the table."""
    fmt = report.fmt
    widths = list(widths) if widths is not None else [c.width for c in cols]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    header = fmt.header(color)
    _fit_row(ws, row, [(c.header, widths[j], header) for j, c in enumerate(cols)])
    for i, r in enumerate(rows):
        cells = [(c.value(r), widths[j], c.fmt(r) if c.fmt else fmt.text()) for j, c in enumerate(cols)]
        for j, (value, _, f) in enumerate(cells):
            _put(ws, row + 1 + i, j, value, f)
        _fit_row(ws, row + 1 + i, cells)
    if not rows:
        ws.write_string(row + 1, 0, "(aucun)", fmt.note())
    last = row + max(1, len(rows))
    ws.add_table(row, 0, last, len(cols) - 1, {
        "name": name, "style": TABLE_STYLE, "autofilter": True,
        "columns": [{"header": c.header, "header_format": header} for c in cols],
    })
    return last + 1


def _note(ws: Worksheet, report: _Report, row: int, text: str, widths: list[float], fmt: Format | None = None) -> int:
    """A wrapped note over the sheet's columns (merged, so it is never cut at the print area)."""
    fmt = fmt or report.fmt(italic=True, font_color=GREY, text_wrap=True)
    _merged(ws, row, 0, len(widths) - 1, text, fmt)
    _fit_row(ws, row, [(text, sum(widths), fmt)])
    return row + 1


def _fit_sheet(rows: list[dict], header_row: int) -> tuple[list[dict], str | None]:
    """Rows that fit below `header_row` in a worksheet (Excel's limit), and a note when some do not."""
    room = EXCEL_MAX_ROWS - header_row - 1
    if len(rows) <= room:
        return rows, None
    return rows[:room], (f"Tableau tronqué à {fr_number(room)} lignes sur {fr_number(len(rows))} (limite d'Excel) : "
                         "choisissez un niveau plus agrégé, un exercice, ou la sortie JSON de « acterr compute ».")


def _heading(ws: Worksheet, report: _Report, subtitle: str) -> int:
    ws.set_row(0, 24)
    ws.write_string(0, 0, report.title, report.fmt.title())
    ws.write_string(1, 0, subtitle, report.fmt.note())
    return 3


# ─── properties ───

def _properties(wb: Workbook, report: _Report) -> None:
    wb.set_properties({
        "title": report.title,
        "subject": "Valeur locale, plus-value sociale et environnement des organismes Hlm, par territoire",
        "author": "acterr",
        "manager": "",
        "company": "",
        "category": "Rapport",
        "keywords": "Hlm, valeur locale, plus-value sociale, territoire, acterr",
        "comments": f"Produit par acterr {report.meta.get('acterr', __version__)} — référentiel "
                    f"{(report.meta.get('referentiel') or {}).get('version', report.referentiel.version)}",
    })


# ─── Synthèse ───

def _synthese(wb: Workbook, report: _Report) -> None:
    ws = wb.add_worksheet("Synthèse")
    ws.hide_gridlines(2)
    widths = _synthese_widths(report)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    row = _synthese_heading(ws, report)
    if not report.cons:
        ws.write_string(row, 0, "Aucun résultat calculé pour cet exercice.", report.fmt.note())
    for ledger, codes in SYNTHESE_CODES.items():
        row = _territory_block(ws, report, ledger, codes, row)
    row = _synthese_notes(ws, report, row, widths)
    for ledger, codes in SYNTHESE_CODES.items():
        row = _organisation_block(ws, report, ledger, codes, row, widths)
    _print_setup(ws, report, (0, 0))


def _synthese_heading(ws: Worksheet, report: _Report) -> int:
    fmt, meta = report.fmt, report.meta
    ws.set_row(0, 26)
    ws.write_string(0, 0, report.title, fmt.title())
    ws.write_string(1, 0, f"Rapport produit le {datetime.now():%d/%m/%Y} — calcul du {_fr_datetime(meta.get('calcule_le'))}, "
                          f"acterr {meta.get('acterr', __version__)}, référentiel "
                          f"{(meta.get('referentiel') or {}).get('version', report.referentiel.version)}", fmt.note())
    orgs, territories = len(report.organisations), len(report.territories)
    ws.write_string(2, 0, f"{orgs} organisme(s) Hlm, {territories} territoire(s) "
                          f"({LEVEL_NOUNS.get(report.level, report.level)})", fmt.text(bold=True, font_size=11))
    ws.set_row(3, 20)
    ws.write_string(3, 0, LEDGER_SENTENCE, fmt.text(bold=True, font_size=11, font_color="#C00000", valign="vcenter"))
    return 5


def _present(report: _Report, codes: Iterable[str]) -> list[str]:
    present = {r["indicateur"] for r in report.cons}
    return [c for c in codes if c in present]


def _block_header(ws: Worksheet, report: _Report, row: int, ledger: str, codes: list[str],
                  first_cols: tuple[str, str, str], third: str) -> int:
    """Ledger band, indicator headers (each over three sub-columns), sub-headers. Returns the first data row."""
    fmt = report.fmt
    dark, light = LEDGER_COLORS[ledger]
    ws.set_row(row, 20)
    _merged(ws, row, 0, 2 + 3 * len(codes), f"{LEDGER_LABELS[ledger]} — {LEDGER_SUBTITLES[ledger]}", fmt.band(ledger))
    ws.set_row(row + 1, 42)
    ws.set_row(row + 2, 15 if len(third) <= 10 else 27)
    for j, label in enumerate(first_cols):
        _merged(ws, row + 1, j, j, label, fmt.header(dark), last_row=row + 2)
    for k, code in enumerate(codes):
        info = report.labels[code]
        _merged(ws, row + 1, 3 + 3 * k, 5 + 3 * k, f"{code} — {info['libelle']} ({info['unite']})", fmt.subheader(light))
        for j, sub in enumerate(("Valeur", "Basse – haute", third)):
            ws.write_string(row + 2, 3 + 3 * k + j, sub, fmt.subheader(light))
    return row + 3


def _figure(ws: Worksheet, report: _Report, row: int, col: int, unit: str, value: float | None,
            low: float | None, high: float | None, third: Any, third_fmt: Format | None = None, bold: bool = False) -> None:
    fmt = report.fmt
    extra = {"bold": True, "top": 1} if bold else {}
    if value is None:
        ws.write_string(row, col, NOT_COMPUTABLE, fmt(italic=True, font_color=GREY, align="right", **extra))
    else:
        ws.write_number(row, col, value, fmt.number(unit, shrink=True, **extra))
    _put(ws, row, col + 1, _range_text(low, high, unit) or None, fmt(font_color=GREY, align="center", shrink=True, **extra))
    _put(ws, row, col + 2, third, third_fmt or fmt(align="right", **extra))


def _territory_block(ws: Worksheet, report: _Report, ledger: str, codes: list[str], row: int) -> int:
    codes = _present(report, codes)
    if not codes:
        return row
    fmt = report.fmt
    row = _block_header(ws, report, row, ledger, codes, (LEVEL_NOUNS.get(report.level, "Territoire"), "Code", "Organismes"),
                        "Couverture")
    values = {code: report.by_territory(code) for code in codes}
    for code_t, nom in report.territories:
        ws.write_string(row, 0, nom, fmt.text())
        ws.write_string(row, 1, code_t or "", fmt.text())
        first = next((values[c][code_t] for c in codes if code_t in values[c]), None)
        _put(ws, row, 2, first["nb_organismes"] if first else None, fmt.integer(align="right"))
        for k, code in enumerate(codes):
            r = values[code].get(code_t)
            if r is None:
                continue
            ok = r["statut"] == CALCULE
            _figure(ws, report, row, 3 + 3 * k, r["unite"], r["valeur"] if ok else None, r["valeur_basse"],
                    r["valeur_haute"], r["couverture"] if ok else None, fmt.coverage(r["couverture"]))
        row += 1
    if report.totals_allowed() and any(is_additive(report.labels[c]["unite"]) for c in codes):
        row = _total_row(ws, report, row, codes, values)
    return row + 1


def _total_row(ws: Worksheet, report: _Report, row: int, codes: list[str], values: dict[str, dict[str, dict]]) -> int:
    """Sum of the territories for additive units; ratio cells stay blank (never summed, never averaged)."""
    fmt = report.fmt
    total = fmt(bold=True, top=1)
    ws.write_string(row, 0, "Total (ensemble des territoires)", total)
    ws.write_blank(row, 1, None, total)
    ws.write_number(row, 2, len(report.organisations), fmt.integer(bold=True, top=1, align="right"))
    for k, code in enumerate(codes):
        col, unit = 3 + 3 * k, report.labels[code]["unite"]
        if not is_additive(unit):
            ws.write_blank(row, col, None, total)
            ws.write_string(row, col + 1, "ratio : non totalisé", fmt(italic=True, font_color=GREY, align="center", top=1))
            ws.write_blank(row, col + 2, None, total)
            continue
        t = _sum(values[code].values())
        third = ("100 %" if t.complete else "partiel") if t.value is not None else ""
        _figure(ws, report, row, col, unit, t.value, t.low, t.high, third,
                fmt(bold=True, top=1, align="right", **({} if t.complete else {"font_color": ORANGE})), bold=True)
    return row + 1


@dataclass
class _Sum:
    value: float | None
    low: float | None
    high: float | None
    computed: int
    count: int
    complete: bool


def _sum(rows: Iterable[dict]) -> _Sum:
    """Sum of additive results; incomplete when a part is non computable or partially covered."""
    rows = list(rows)
    ok = [r for r in rows if r["statut"] == CALCULE and r["valeur"] is not None]
    if not ok:
        return _Sum(None, None, None, 0, len(rows), False)

    def total(key: str) -> float:
        return sum(r[key] if r[key] is not None else r["valeur"] for r in ok)

    complete = len(ok) == len(rows) and all((r["couverture"] or 0) >= 100 - 1e-9 for r in ok)
    return _Sum(total("valeur"), total("valeur_basse"), total("valeur_haute"), len(ok), len(rows), complete)


def _synthese_notes(ws: Worksheet, report: _Report, row: int, widths: list[float]) -> int:
    notes = [
        "Couverture : part des logements des organismes présents dont les données nécessaires ont été fournies "
        "(en orange quand elle est incomplète). n.c. : non calculable — le motif figure dans la feuille « Qualité des données ».",
        "Basse – haute : fourchette issue des valeurs basses et hautes des paramètres (feuille « Méthodologie »).",
    ]
    if report.totals_allowed():
        notes.append("Total : somme des territoires, chaque logement n'appartenant qu'à un seul territoire de ce niveau ; "
                     "« partiel » quand un territoire est non calculable ou incomplet. Les ratios (%, ‰, €/m², par logement, "
                     "par habitant…) ne s'additionnent pas : ils sont recalculés sur chaque territoire à partir des sommes "
                     "et ne sont pas totalisés.")
    for text in notes:
        row = _note(ws, report, row, text, widths)
    return row + 1


def _organisation_block(ws: Worksheet, report: _Report, ledger: str, codes: list[str], row: int,
                        widths: list[float]) -> int:
    """Each organisation's additive headline figures summed over its territories (ratios are not summed)."""
    codes = [c for c in _present(report, codes) if is_additive(report.labels[c]["unite"])]
    orgs = report.organisations
    if not codes or not orgs:
        return row
    fmt = report.fmt
    ws.write_string(row, 0, f"Par organisme — {LEDGER_LABELS[ledger]}", fmt.section(LEDGER_COLORS[ledger][0]))
    row = _block_header(ws, report, row + 1, ledger, codes, ("Organisme", "SIREN", "Territoires"), "Territoires calculés")
    per_org: dict[tuple[str, str], list[dict]] = {}
    territories: dict[str, set[str]] = {}
    for r in report.orgs:
        per_org.setdefault((r["siren"], r["indicateur"]), []).append(r)
        territories.setdefault(r["siren"], set()).add(r["code_territoire"])
    for siren, name in orgs:
        ws.write_string(row, 0, name, fmt.text())
        ws.write_string(row, 1, siren, fmt.text())
        ws.write_number(row, 2, len(territories.get(siren, ())), fmt.integer(align="right"))
        for k, code in enumerate(codes):
            rows = per_org.get((siren, code), [])
            if not rows:
                continue
            t = _sum(rows)
            _figure(ws, report, row, 3 + 3 * k, report.labels[code]["unite"], t.value, t.low, t.high,
                    f"{t.computed} / {t.count}", fmt(align="right", **({} if t.complete else {"font_color": ORANGE})))
        row += 1
    _note(ws, report, row, "Somme des territoires de l'organisme ; les ratios ne sont pas totalisés (voir la feuille "
                           "« Par organisme »). Les données de niveau organisme (effectif, logements au 1er janvier…) ne "
                           "comptent sur un territoire que si tout le patrimoine de l'organisme s'y trouve : le niveau FRANCE "
                           "donne leur total.", widths)
    return row + 2


def _synthese_widths(report: _Report) -> list[float]:
    names = max((len(n) for _, n in report.territories + report.organisations), default=20)
    blocks = max((len(_present(report, codes)) for codes in SYNTHESE_CODES.values()), default=0)
    return [min(max(names, 24), 42), 11, 11] + [15, 21, 10] * max(blocks, 1)


# ─── Indicateurs, Par organisme ───

def _result_columns(report: _Report, per_organisation: bool) -> list[_Col]:
    fmt = report.fmt

    def number(key: str) -> _Col:
        label = {"valeur": "Valeur", "valeur_basse": "Basse", "valeur_haute": "Haute"}[key]
        return _Col(label, 16, lambda r: r[key] if r["statut"] == CALCULE else None,
                    lambda r: fmt.number(r["unite"], bold=key == "valeur", shrink=True))

    cols = [
        _Col("Code territoire", 11, lambda r: r["code_territoire"]),
        _Col("Territoire", 30, lambda r: r["nom_territoire"]),
    ]
    if per_organisation:
        cols += [_Col("SIREN", 11, lambda r: r["siren"]), _Col("Raison sociale", 28, lambda r: r["raison_sociale"])]
    cols += [
        _Col("Code indicateur", 10, lambda r: r["indicateur"]),
        _Col("Indicateur", 40, lambda r: r["libelle"], lambda r: fmt.wrap()),
        _Col("Registre", 17, lambda r: LEDGER_LABELS.get(r["registre"], r["registre"])),
        number("valeur"), number("valeur_basse"), number("valeur_haute"),
        _Col("Unité", 12, lambda r: r["unite"], lambda r: fmt.text(align="center")),
        _Col("Couverture (%)", 11, lambda r: r["couverture"], lambda r: fmt.coverage(r["couverture"])),
    ]
    if not per_organisation:
        cols.append(_Col("Organismes", 10, lambda r: r["nb_organismes"], lambda r: fmt.integer()))
    cols += [
        _Col("Statut", 13, lambda r: _status(r["statut"]),
             lambda r: fmt.text() if r["statut"] == CALCULE else fmt.text(font_color=ORANGE)),
        _Col("Motif / note", 65, _remark, lambda r: fmt.wrap(font_color=GREY, indent=1)),
    ]
    return cols


def _results_sheet(wb: Workbook, report: _Report, name: str, table: str, rows: list[dict], per_organisation: bool,
                   subtitle: str) -> None:
    ws = wb.add_worksheet(name)
    rows, cut = _fit_sheet(rows, 3)
    row = _heading(ws, report, subtitle + (f" {cut}" if cut else ""))
    cols = _result_columns(report, per_organisation)
    _table(ws, report, row, cols, rows, table)
    ws.freeze_panes(row + 1, 2)
    _print_setup(ws, report, (row, row))


def _indicateurs(wb: Workbook, report: _Report) -> None:
    _results_sheet(wb, report, "Indicateurs", "Indicateurs", report.cons, False,
                   "Tous les résultats consolidés (ensemble des organismes) par territoire. " + LEDGER_SENTENCE)


def _par_organisme(wb: Workbook, report: _Report) -> None:
    _results_sheet(wb, report, "Par organisme", "Par_organisme", report.orgs, True,
                   "Résultats de chaque organisme sur chaque territoire où il est présent.")


# ─── Graphiques ───

@dataclass
class _ChartSpec:
    title: str
    series: list[tuple[str, str, str]]  # (indicator code, series name, colour)
    sort_by: str  # indicator code whose value orders the bars (descending)
    unit: str

    @property
    def limit(self) -> int:
        """Territories shown in the chart."""
        return max(1, CHART_MAX_BARS // len(self.series))


def _chart_specs(report: _Report) -> list[_ChartSpec]:
    present = set(_present(report, ["ECO-01", "PV-01", "ENV-01", "ENV-01b", "SOC-01"]))
    specs = []
    if "ECO-01" in present:
        specs.append(_ChartSpec("Investissement injecté (ECO-01)", [("ECO-01", "Investissement (€)", "#1F4E79")], "ECO-01", "€"))
    if "PV-01" in present:
        specs.append(_ChartSpec("Part du parc en QPV (PV-01)", [("PV-01", "Part du parc en QPV (%)", "#6A1B5F")], "PV-01", "%"))
    if {"ENV-01", "ENV-01b"} <= present:
        specs.append(_ChartSpec("Étiquettes DPE énergie : A–C et F–G (ENV-01, ENV-01b)",
                                [("ENV-01", "DPE A–C (%)", "#4E9A06"), ("ENV-01b", "DPE F–G (%)", "#C00000")], "ENV-01b", "%"))
    elif "ENV-01" in present:
        specs.append(_ChartSpec("Parc en DPE énergie A–C (ENV-01)", [("ENV-01", "DPE A–C (%)", "#4E9A06")], "ENV-01", "%"))
    if "SOC-01" in present and len(specs) < 2:
        specs.append(_ChartSpec("Gain de pouvoir d'achat des locataires (SOC-01)",
                                [("SOC-01", "Gain (€/an)", "#6A1B5F")], "SOC-01", "€"))
    return specs


def _graphiques(wb: Workbook, report: _Report) -> None:
    ws = wb.add_worksheet("Graphiques")
    ws.hide_gridlines(2)
    fmt = report.fmt
    _heading(ws, report, "Graphiques par territoire ; les données représentées sont écrites sous les graphiques.")
    plans = [(spec, rows) for spec in _chart_specs(report) if (rows := _chart_rows(report, spec))]
    if not plans:
        ws.write_string(3, 0, "Pas de données à représenter pour cet exercice.", fmt.note())
    breaks, at, page_top, places = [], 3, 0, []
    for spec, rows in plans:
        height = _chart_height(min(spec.limit, len(rows)) * len(spec.series)) // 20 + 2
        if (at + height - page_top) * 20 > PAGE_HEIGHT_PX and at > 3:
            page_top = at  # the chart would be cut by a page break: start a new page
            breaks.append(at)
        places.append(at)
        at += height
    data_row = at + 1
    ws.set_h_pagebreaks(breaks + [data_row - 1])
    ws.write_string(data_row - 1, 0, "Données des graphiques", fmt.section())
    ws.set_row(data_row, 30)
    col = 0
    for (spec, rows), place in zip(plans, places, strict=True):
        chart = _chart_block(wb, ws, report, spec, rows, data_row, col)
        ws.insert_chart(place, 0, chart, {"x_offset": 5, "y_offset": 5})
        col += len(spec.series) + 2
    _print_setup(ws, report, (0, 0))


def _chart_rows(report: _Report, spec: _ChartSpec) -> list[tuple[str, list[float | None]]]:
    """(territory name, value of each series), computed territories only, largest first."""
    values = {code: report.by_territory(code) for code, _, _ in spec.series}
    names = [nom for _, nom in report.territories]
    twins = {nom for nom in names if names.count(nom) > 1} if len(set(names)) < len(names) else set()
    out = []
    for code_t, nom in report.territories:
        cells = [values[code].get(code_t) for code, _, _ in spec.series]
        nums = [r["valeur"] if r and r["statut"] == CALCULE else None for r in cells]
        if any(v is not None for v in nums):
            out.append((f"{nom} ({code_t})" if nom in twins else nom, nums))
    key = [c for c, _, _ in spec.series].index(spec.sort_by)
    return sorted(out, key=lambda t: -(t[1][key] if t[1][key] is not None else -math.inf))


def _chart_height(n: int) -> int:
    return max(260, min(CHART_MAX_HEIGHT_PX, 110 + 26 * n))


def _chart_block(wb: Workbook, ws: Worksheet, report: _Report, spec: _ChartSpec, rows: list, row: int, col: int):
    """Write the data block of one chart at (row, col), then return the chart referencing it."""
    fmt = report.fmt
    ws.write_string(row, col, "Territoire", fmt.header())
    for j, (_, name, _) in enumerate(spec.series):
        ws.write_string(row, col + 1 + j, name, fmt.header())
    for i, (nom, nums) in enumerate(rows):
        ws.write_string(row + 1 + i, col, nom, fmt.text())
        for j, v in enumerate(nums):
            _put(ws, row + 1 + i, col + 1 + j, v, fmt.number(spec.unit))
    not_shown = len(report.territories) - len(rows)
    notes = []
    if not_shown:
        notes.append(f"{not_shown} territoire(s) non calculable(s), non représenté(s).")
    if len(rows) > spec.limit:
        sort_name = next(name for code, name, _ in spec.series if code == spec.sort_by)
        notes.append(f"Graphique : les {spec.limit} premiers territoires par « {sort_name} ».")
    for k, text in enumerate(notes):
        ws.write_string(row + 2 + len(rows) + k, col, text, fmt.note())
    ws.set_column(col, col, min(42, max([24] + [len(nom) + 2 for nom, _ in rows])))
    ws.set_column(col + 1, col + len(spec.series), 14)
    ws.set_column(col + len(spec.series) + 1, col + len(spec.series) + 1, 3)
    return _bar_chart(wb, spec, row, col, min(len(rows), spec.limit))


def _bar_chart(wb: Workbook, spec: _ChartSpec, row: int, col: int, n: int):
    chart = wb.add_chart({"type": "bar"})
    for j, (_, _, color) in enumerate(spec.series):
        chart.add_series({
            "name": ["Graphiques", row, col + 1 + j],
            "categories": ["Graphiques", row + 1, col, row + n, col],
            "values": ["Graphiques", row + 1, col + 1 + j, row + n, col + 1 + j],
            "fill": {"color": color},
            "border": {"none": True},
            "gap": 60,
            "data_labels": {"value": True, "num_format": _label_format(spec.unit), "font": {"size": 8}},
        })
    chart.set_title({"name": spec.title, "name_font": {"size": 12, "bold": True}})
    chart.set_x_axis({"num_format": _axis_format(spec.unit), "num_font": {"size": 8},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1, "num_font": {"size": 9}})
    chart.set_legend({"position": "bottom"} if len(spec.series) > 1 else {"none": True})
    chart.set_size({"width": 900, "height": _chart_height(n * len(spec.series))})
    return chart


def _axis_format(unit: str) -> str:
    return '#,##0 "€"' if unit == "€" else '0 "%"' if unit == "%" else "#,##0"


def _label_format(unit: str) -> str:
    return '#,##0 "€"' if unit == "€" else '0.0 "%"' if unit == "%" else "#,##0"


# ─── Qualité des données ───

QUALITY_WIDTHS = (12, 40, 14, 28, 12, 12, 80)  # shared by the two tables of the sheet


def _qualite(wb: Workbook, report: _Report) -> None:
    ws = wb.add_worksheet("Qualité des données")
    fmt = report.fmt
    row = _heading(ws, report, "Couverture des résultats consolidés et résultats non calculables (donnée absente ≠ zéro).")
    ws.write_string(row, 0, "Couverture par indicateur (sur l'ensemble des territoires)", fmt.section())
    row = _table(ws, report, row + 1, _coverage_columns(report), _coverage_rows(report), "Qualite_indicateurs", widths=QUALITY_WIDTHS)
    missing, cut = _fit_sheet([r for r in report.cons if r["statut"] != CALCULE], row + 2)
    ws.write_string(row + 1, 0, "Résultats non calculables" + (f" — {cut}" if cut else ""), fmt.section())
    cols = [
        _Col("Code", 0, lambda r: r["indicateur"], lambda r: fmt.text(bold=True)),
        _Col("Indicateur", 0, lambda r: r["libelle"], lambda r: fmt.wrap()),
        _Col("Code territoire", 0, lambda r: r["code_territoire"]),
        _Col("Territoire", 0, lambda r: r["nom_territoire"], lambda r: fmt.wrap()),
        _Col("Organismes présents", 0, lambda r: r["nb_organismes"], lambda r: fmt.integer()),
        _Col("Organismes complets", 0, lambda r: r["nb_organismes_calcules"], lambda r: fmt.integer()),
        _Col("Motif", 0, lambda r: r["motif"], lambda r: fmt.wrap(indent=1)),
    ]
    _table(ws, report, row + 2, cols, missing, "Non_calculables", widths=QUALITY_WIDTHS)
    _print_setup(ws, report, (0, 0))


def _coverage_columns(report: _Report) -> list[_Col]:
    fmt = report.fmt
    return [
        _Col("Code", 0, lambda r: r["code"], lambda r: fmt.text(bold=True)),
        _Col("Indicateur", 0, lambda r: f"{r['libelle']} ({r['unite']})", lambda r: fmt.wrap()),
        _Col("Territoires", 0, lambda r: r["territoires"], lambda r: fmt.integer()),
        _Col("Non calculables", 0, lambda r: r["nc"], lambda r: fmt.integer(**({"font_color": ORANGE} if r["nc"] else {}))),
        _Col("Couverture min. (%)", 0, lambda r: r["min"], lambda r: fmt.coverage(r["min"])),
        _Col("Couverture max. (%)", 0, lambda r: r["max"], lambda r: fmt.coverage(r["max"])),
        _Col("Motifs de non-calcul", 0, lambda r: r["motifs"], lambda r: fmt.wrap(font_color=GREY, indent=1)),
    ]


def _coverage_rows(report: _Report) -> list[dict]:
    by_code: dict[str, list[dict]] = {}
    for r in report.cons:
        by_code.setdefault(r["indicateur"], []).append(r)
    out = []
    for code, rows in by_code.items():
        coverages = [r["couverture"] for r in rows if r["couverture"] is not None]
        motifs = list(dict.fromkeys(r["motif"] for r in rows if r["statut"] != CALCULE and r["motif"]))
        out.append({
            "code": code, "libelle": report.labels[code]["libelle"], "unite": report.labels[code]["unite"],
            "territoires": len(rows),
            "min": min(coverages, default=None), "max": max(coverages, default=None),
            "nc": sum(r["statut"] != CALCULE for r in rows), "motifs": "\n".join(f"• {m}" for m in motifs) or None,
        })
    return out


# ─── Méthodologie ───

# Column widths shared by the stacked tables of the sheet (see each table's columns).
METHOD_WIDTHS = (30, 40, 48, 16, 12, 12, 16, 24, 52)


def _methodologie(wb: Workbook, report: _Report) -> None:
    ws = wb.add_worksheet("Méthodologie")
    fmt = report.fmt
    row = _heading(ws, report, "Méthode : référentiel d'indicateurs, paramètres et sources, provenance des données.")
    row = _method_meta(ws, report, row)
    for title, cols, rows, name in (
        ("Indicateurs du référentiel", _indicator_columns(report), _indicator_rows(report), "Referentiel_indicateurs"),
        ("Paramètres (valeurs basse / centrale / haute)", _parameter_columns(report), _parameter_rows(report), "Parametres"),
        ("Mesures dérivées", _measure_columns(report), [m.__dict__ for m in report.referentiel.measures], "Mesures_derivees"),
        ("Fichiers d'entrée", _input_columns(report), list(report.meta.get("entrees") or []), "Fichiers_entree"),
    ):
        ws.write_string(row, 0, title, fmt.section())
        row = _table(ws, report, row + 1, cols, rows, name, widths=METHOD_WIDTHS) + 1
    _print_setup(ws, report, (0, 0))


def _method_meta(ws: Worksheet, report: _Report, row: int) -> int:
    fmt, meta = report.fmt, report.meta
    ref = meta.get("referentiel") or {}
    files = ref.get("fichiers") or report.referentiel.sources
    lines = [
        ("Référentiel", f"{ref.get('nom') or report.referentiel.meta.get('nom', '')} — version "
                        f"{ref.get('version', report.referentiel.version)}"),
        ("Fichiers du référentiel", " ; ".join(f"{f.get('fichier')} (sha256 {f.get('sha256')})" for f in files)),
        ("Référentiel territorial", str(meta.get("territoires") or "")),
        ("Niveau territorial", LEVEL_NOUNS.get(report.level, report.level)),
        ("Exercice", "" if report.year is None else str(report.year)),
        ("Calculé le", _fr_datetime(meta.get("calcule_le"))),
        ("Version d'acterr", str(meta.get("acterr", __version__))),
        ("Rapport produit le", f"{datetime.now():%d/%m/%Y %H:%M}"),
    ]
    used = {f.get("sha256") for f in files}
    if used and used != {s["sha256"] for s in report.referentiel.sources}:
        lines.append(("Attention", "le référentiel installé diffère de celui du calcul : les valeurs des paramètres "
                                   "ci-dessous sont celles du calcul, les formules celles du référentiel installé."))
    for label, value in lines:
        ws.write_string(row, 0, label, fmt.text(bold=True))
        _merged(ws, row, 1, len(METHOD_WIDTHS) - 1, value, fmt.wrap())
        _fit_row(ws, row, [(value, sum(METHOD_WIDTHS[1:]), fmt.wrap())])
        row += 1
    ws.write_string(row, 0, "Les paramètres au statut « à vérifier » ou « hypothèse » sont surlignés : ce sont des choix de "
                            "méthode ou des chiffres à confirmer.", fmt.note())
    return row + 2


def _indicator_columns(report: _Report) -> list[_Col]:
    fmt = report.fmt
    return [
        _Col("Code", 0, lambda r: r["code"], lambda r: fmt.text(bold=True)),
        _Col("Libellé", 0, lambda r: r["libelle"], lambda r: fmt.wrap()),
        _Col("Formule (centrale ; basse et haute si différentes)", 0, lambda r: r["formules"], lambda r: fmt.wrap(font_name="Consolas", font_size=9)),
        _Col("Registre", 0, lambda r: r["registre"], lambda r: fmt.wrap()),
        _Col("Unité", 0, lambda r: r["unite"]),
        _Col("Niveau", 0, lambda r: r["niveau"]),
        _Col("Étape", 0, lambda r: r["etape"], lambda r: fmt.wrap()),
        _Col("Parties prenantes", 0, lambda r: r["parties"], lambda r: fmt.wrap()),
        _Col("Description", 0, lambda r: r["description"], lambda r: fmt.wrap()),
    ]


def _indicator_rows(report: _Report) -> list[dict]:
    out = []
    for ind in report.referentiel.indicators:
        formulas = [ind.formule]
        for label, variant in (("basse", ind.formule_basse), ("haute", ind.formule_haute)):
            if variant and variant != ind.formule:
                formulas.append(f"{label} : {variant}")
        out.append({
            "code": ind.code, "libelle": ind.libelle, "formules": "\n".join(formulas),
            "registre": LEDGER_LABELS.get(ind.registre, ind.registre),
            "unite": ind.unite, "niveau": ind.niveau, "etape": STAGES.get(ind.etape, ind.etape),
            "parties": ", ".join(STAKEHOLDERS.get(p, p) for p in ind.parties_prenantes),
            "description": " ".join(p for p in (ind.description, ind.note and f"Note : {ind.note}", ind.source and f"Source : {ind.source}") if p),
        })
    return out


def _flagged(r: dict) -> bool:
    return any(s in (r.get("statut") or "") for s in FLAGGED_STATUSES)


def _parameter_columns(report: _Report) -> list[_Col]:
    fmt = report.fmt

    def style(**extra: Any) -> Callable[[dict], Format]:
        return lambda r: fmt(**extra, **({"bg_color": "#FFF2CC"} if _flagged(r) else {}))

    return [
        _Col("Paramètre", 0, lambda r: r["nom"], style(bold=True)),
        _Col("Libellé", 0, lambda r: r["libelle"], style(text_wrap=True)),
        _Col("Source", 0, lambda r: r["source"], style(text_wrap=True)),
        _Col("Statut", 0, lambda r: r["statut"], style(text_wrap=True, bold=True)),
        _Col("Basse", 0, lambda r: r["basse"], style(num_format="#,##0.###")),
        _Col("Centrale", 0, lambda r: r["centrale"], style(num_format="#,##0.###", bold=True)),
        _Col("Haute", 0, lambda r: r["haute"], style(num_format="#,##0.###")),
        _Col("Année", 0, lambda r: r["annee"], style(num_format="0", align="center")),
        _Col("Unité", 0, lambda r: r["unite"], style(text_wrap=True, indent=1)),
    ]


def _parameter_rows(report: _Report) -> list[dict]:
    """Parameters as used by the computation (meta), completed by the installed référentiel."""
    used = report.meta.get("parametres") or {}
    out = []
    for nom in list(report.referentiel.parameters) + [n for n in used if n not in report.referentiel.parameters]:
        p = report.referentiel.parameters.get(nom)
        base = {"nom": nom, "libelle": p.libelle if p else nom, "annee": p.annee if p else None}
        values = {k: getattr(p, k) for k in ("basse", "centrale", "haute", "unite", "source", "statut")} if p else {}
        out.append({**base, **values, **{k: v for k, v in (used.get(nom) or {}).items() if k in values or not p}})
    return out


def _measure_columns(report: _Report) -> list[_Col]:
    fmt = report.fmt
    return [
        _Col("Mesure", 0, lambda r: r["nom"], lambda r: fmt.text(bold=True)),
        _Col("Description", 0, lambda r: r["description"], lambda r: fmt.wrap()),
        _Col("Formule", 0, lambda r: r["formule"], lambda r: fmt.wrap(font_name="Consolas", font_size=9)),
    ]


def _input_columns(report: _Report) -> list[_Col]:
    fmt = report.fmt
    return [
        _Col("Fichier", 0, lambda r: r.get("fichier"), lambda r: fmt.wrap()),
        _Col("Raison sociale", 0, lambda r: r.get("raison_sociale"), lambda r: fmt.wrap()),
        _Col("SHA-256", 0, lambda r: r.get("sha256"), lambda r: fmt.wrap(font_name="Consolas", font_size=8)),
        _Col("SIREN", 0, lambda r: r.get("siren")),
        _Col("Type", 0, lambda r: r.get("type")),
        _Col("Exercice", 0, lambda r: r.get("exercice"), lambda r: fmt(num_format="0", align="center")),
        _Col("Importé le", 0, lambda r: _fr_datetime(r.get("importe_le")), lambda r: fmt.wrap()),
    ]


__all__ = ["WrittenReport", "write_report", "number_format", "is_additive", "ADDITIVE_UNITS", "SHEETS"]
