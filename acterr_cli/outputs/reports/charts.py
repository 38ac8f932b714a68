"""Native Excel charts: their data blocks (sheet « Données graphiques », one named table per
chart, so every bar can be traced to a cell) and the charts of the Synthèse and Graphiques sheets.

Charts show the territories where the organisations have dwellings (or, for a territory report,
the organisations present there), largest first; the others are counted in the data sheet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from acterr_cli.outputs.nature import FLAT, MARK, is_flat, replaced_by, wholly_flat
from acterr_cli.outputs.reports.model import ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import (
    FLAT_FILL,
    FR,
    GREY,
    LEDGER_COLORS,
    MILLION,
    PERCENT,
    Formats,
    fit_row,
    heading,
    is_money,
    number_format,
    print_setup,
    put,
)
from acterr_cli.outputs.wording import count, short_reason
from acterr_cli.results import CALCULE

DATA_SHEET = "Données graphiques"
TOP = 12  # bars per chart on the Graphiques sheet
TOP_SYNTHESE = 8
BLUE, PURPLE, GREEN = LEDGER_COLORS["valeur_locale"][0], LEDGER_COLORS["plus_value_sociale"][0], LEDGER_COLORS["environnement"][0]
DPE_COLORS = ("#4E9A06", "#F2C200", "#C00000")
DPE_INKS = ("#FFFFFF", "#262626", "#FFFFFF")  # labels inside the bars: dark on the yellow, where white does not read
NATURE_COLORS = ("#1F4E79", "#5B9BD5", "#9DC3E6")
# A4 landscape with our margins prints about 1 046 × 673 sheet pixels at 100 %; the Graphiques sheet
# is 1 050 pixels wide, so two charts of at most CHART_MAX_PX stack on one page (the first below the title).
PAGE_PX = 670
CHART_MAX_PX = 270  # two charts and the title rows on the first page too
CHART_WIDTH = 1000
DPE_MAX_PX = 340  # the DPE chart (the whole and 12 territories), beside a shorter one on its page


# ─── data blocks ───

@dataclass
class Block:
    title: str
    header: list[str]
    rows: list[tuple[str, list[float | None]]]
    units: list[str]
    name: str
    first_row: int  # the header row; data starts below
    notes: list[str] = field(default_factory=list)

    def categories(self, n: int | None = None) -> list:
        last = self.first_row + (n or len(self.rows))
        return [DATA_SHEET, self.first_row + 1, 0, last, 0]

    def values(self, j: int, n: int | None = None) -> list:
        last = self.first_row + (n or len(self.rows))
        return [DATA_SHEET, self.first_row + 1, j + 1, last, j + 1]

    def series_name(self, j: int) -> list:
        return [DATA_SHEET, self.first_row, j + 1]


class ChartData:
    """Collects the chart data blocks while the sheets are written; the data sheet itself is
    written last (xlsxwriter orders sheets by creation; charts may refer to a later sheet)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.next_row = 3

    def add(self, title: str, header: list[str], rows: list[tuple[str, list[float | None]]], units: list[str],
            notes: list[str] | None = None) -> Block:
        block = Block(title, header, rows, units, f"Graphique_{len(self.blocks) + 1}", self.next_row + 1, notes or [])
        self.blocks.append(block)
        self.next_row = block.first_row + len(rows) + 2 + len(block.notes) + 1
        return block

    def write(self, wb: Workbook, fmt: Formats, title: str) -> None:
        ws = wb.add_worksheet(DATA_SHEET)
        widths = [42] + [16] * max([len(b.header) for b in self.blocks] + [1])
        heading(ws, fmt, title, "Données représentées par les graphiques des feuilles Synthèse et Graphiques (une table par "
                                "graphique). Feuille masquée, pour qu'elle ne s'imprime pas avec le rapport : les graphiques la "
                                "lisent ; « Afficher » (clic droit sur un onglet) la montre.", widths)
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        for b in self.blocks:
            ws.write_string(b.first_row - 1, 0, b.title, fmt.section())
            fit_row(ws, b.first_row, [(h, 16, fmt.header()) for h in b.header])
            for i, (label, values) in enumerate(b.rows):
                ws.write_string(b.first_row + 1 + i, 0, label)
                for j, v in enumerate(values):
                    put(ws, b.first_row + 1 + i, j + 1, v, fmt.number(b.units[j]))
            ws.add_table(b.first_row, 0, b.first_row + max(1, len(b.rows)), len(b.header), {
                "name": b.name, "style": "Table Style Light 1", "autofilter": False,
                "columns": [{"header": h, "header_format": fmt.header()} for h in ["Libellé", *b.header]],
            })
            for k, text in enumerate(b.notes):
                ws.write_string(b.first_row + max(1, len(b.rows)) + 1 + k, 0, text, fmt.note())
        print_setup(ws, title, portrait=True)
        # Hidden: the figures are on the charts (and in Indicateurs), three printed pages of them
        # said nothing more; a hidden sheet still feeds its charts in Excel and LibreOffice.
        ws.hide()


# ─── what the bars are ───

Getter = Callable[[str], dict | None]


def entities(data: ReportData) -> list[tuple[str, Getter]]:
    """Bars of the charts: the organisations present (territory report), else the territories
    where they have dwellings, largest first."""
    if data.kind == TERRITOIRE:
        per_org = {}
        for r in data.org_rows:
            per_org.setdefault(r["siren"], {})[r["indicateur"]] = r
        order = sorted(per_org, key=lambda s: -(_value(per_org[s].get("TER-00")) or 0))
        names = dict(data.organisations)
        return [(short_label(names.get(s, s)), per_org[s].get) for s in order if (_value(per_org[s].get("TER-00")) or 0) > 0]
    per_t: dict[str, dict[str, dict]] = {}
    for r in data.rows:
        per_t.setdefault(r["code_territoire"], {})[r["indicateur"]] = r
    names = [t.nom for t in data.housed]
    twins = {n for n in names if names.count(n) > 1}
    return [(short_label(f"{t.nom} ({t.code})" if t.nom in twins else t.nom), per_t.get(t.code, {}).get) for t in data.housed]


LABEL_CHARS = 36


def short_label(name: str) -> str:
    """A category label on one line: a wrapped label makes the chart skip every other category."""
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip(" ,") + "…"


def _value(r: dict | None) -> float | None:
    return r["valeur"] if r is not None and r["statut"] == CALCULE else None


def _rows(items: list[tuple[str, Getter]], codes: list[str], limit: int | None = None) -> list[tuple[str, list[float | None]]]:
    """(label, value of each code) for the items with at least one value, largest first (first code)."""
    out = [(label, [_value(get(c)) for c in codes]) for label, get in items]
    out = [r for r in out if any(v is not None for v in r[1])]
    out.sort(key=lambda r: -(r[1][0] if r[1][0] is not None else -math.inf))
    return out[:limit] if limit else out


def missing_note(data: ReportData, items: list[tuple[str, Getter]], code: str,
                 noun: tuple[str, str] | None = None, reason_chars: int = 70) -> str:
    """What a chart leaves out, said under it: « 11 territoires sur 12 : CU Perpignan Méditerranée
    Métropole non calculable (non fourni : …) »; empty when every bar is there. `noun`: what the
    bars are (singular, plural), organisations on a territory's report, territories otherwise."""
    absent = [(label, get(code)) for label, get in items if _value(get(code)) is None]
    if not absent:
        return ""
    noun = noun or (("organisme", "organismes") if data.kind == TERRITOIRE else ("territoire", "territoires"))
    names = ", ".join(label for label, _ in absent[:2]) + (f" et {len(absent) - 2} autres" if len(absent) > 2 else "")
    reasons = {short_reason(r.get("motif") if r else None, reason_chars) for _, r in absent}
    reason = f" ({reasons.pop()})" if len(reasons) == 1 else " (motifs : feuille « Qualité des données »)"
    return (f"{count(len(items) - len(absent), *noun)} sur {len(items)} : {names} "
            f"{'non calculable' if len(absent) == 1 else 'non calculables'}{reason}")


def flat_title(items: list[tuple[str, Getter]], code: str) -> str:
    """What a chart's title adds when its bars are estimations forfaitaires: they never look measured."""
    shown = [get(code) for _, get in items if _value(get(code)) is not None]
    flat = [r for r in shown if is_flat(r)]
    if not flat:
        return ""
    if len(flat) == len(shown) and all(wholly_flat(r) for r in flat):
        return f" — {MARK} {FLAT} (moyenne nationale)"
    return f" — {MARK} en partie {FLAT}"


def flat_note(data: ReportData, flat: str, code: str) -> list[str]:
    """The data block's note for a chart of estimations forfaitaires (`flat`: its flat_title):
    what would replace them."""
    if not flat:
        return []
    replace = replaced_by(data.referentiel, code)
    return [f"{MARK} {FLAT} : moyenne nationale à la place d'une donnée locale absente, pas une mesure"
            + (f" ; pour la remplacer : {replace}" if replace else ".")]


def _axis_format(unit: str, values: list[float | None]) -> str:
    if is_money(unit) and any(v is not None and abs(v) >= MILLION for v in values):
        return FR + '#,##0,, "M€"'
    return FR + ('0" "%' if unit == "%" else "#,##0")  # a percentage's cells hold fractions


def _label_format(unit: str, values: list[float | None]) -> str:
    if is_money(unit) and any(v is not None and abs(v) >= MILLION for v in values):
        return FR + '#,##0.0,, "M€"'
    return number_format(unit)


# ─── chart builders ───

def bar_chart(wb: Workbook, block: Block, title: str, colors: list[str], size: tuple[int, int],
              subtype: str | None = None, labels: bool = True, n: int | None = None, flat: bool = False,
              inks: list[str] | None = None, foot: str = ""):
    """Horizontal bars over the first n rows of the block (all by default), first category on
    top; one series per column of the block. `flat`: bars of an estimation forfaitaire, drawn
    hollow (light fill, dashed outline) so that they never look like measured figures. `inks`:
    the colour of each series' labels inside stacked bars; `foot`: what the chart leaves out,
    written under it."""
    chart = wb.add_chart({"type": "bar", **({"subtype": subtype} if subtype else {})})
    all_values = [v for _, vs in block.rows[:n] for v in vs]
    for j, color in enumerate(colors):
        unit = block.units[j]
        label_fmt = (FR + ('0" "%' if unit == "%" else '0 "%"') if subtype == "percent_stacked"  # % cells hold fractions
                     else _label_format(unit, all_values))
        chart.add_series({
            "name": block.series_name(j), "categories": block.categories(n), "values": block.values(j, n),
            **({"fill": {"color": FLAT_FILL}, "border": {"color": color, "dash_type": "dash"}} if flat
               else {"fill": {"color": color}, "border": {"none": True}}), "gap": 50,
            **({"overlap": 100} if subtype else {}),
            **({"data_labels": {"value": True, "num_format": label_fmt, "font": {"size": 8,
                                **({"color": (inks or ["#FFFFFF"] * len(colors))[j]} if subtype else {})}}} if labels else {}),
        })
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    unit = block.units[0]
    # a 100 % stacked axis runs from 0 to 1: a true percent format, not the « 31,2 % » of the values
    positive = all(v is None or v >= 0 for v in all_values)
    chart.set_x_axis({**({"name": foot, "name_font": {"size": 8, "bold": False, "italic": True, "color": GREY}} if foot else {}),
                      "num_format": FR + "0%" if subtype == "percent_stacked" else _axis_format(unit, all_values),
                      **({"min": 0} if positive else {}),  # bars start at zero: an automatic minimum would distort them
                      "num_font": {"size": 8}, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    # first category on top; "crossing: max" keeps the value axis at the bottom once reversed; every label shown
    chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1, "num_font": {"size": 8},
                      "line": {"color": "#BFBFBF"}})
    chart.set_legend({"position": "bottom", "font": {"size": 9}} if len(colors) > 1 else {"none": True})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_size({"width": size[0], "height": size[1]})
    return chart


def bars_height(n: int, series: int = 1, legend: bool = False) -> int:
    """Pixels for n bars: enough for a 9-point label per bar, two charts on a printed page."""
    return max(170, min(CHART_MAX_PX, 70 + (15 + 6 * series) * n + (25 if legend else 0)))


# ─── the charts of each sheet ───

@dataclass
class Plan:
    chart: object  # None: no chart, `text` says why where it would have been
    height: int
    text: str = ""


def synthese_charts(wb: Workbook, data: ReportData, cd: ChartData, width: int) -> list:
    """Two charts under the two ledgers' panels, by territory (or organisation), never on the same
    axis: the first indicator of each ledger charted on the Synthèse (`graphique` in the catalogue)."""
    items = entities(data)
    what = "par organisme" if data.kind == TERRITOIRE else "par territoire"
    charts = []
    for ledger, color in (("valeur_locale", BLUE), ("plus_value_sociale", PURPLE)):
        chosen = [i for i in data.referentiel.charted("synthese", ledger) if i.code in data.labels][:1]
        every = _rows(items, [chosen[0].code]) if chosen else []
        rows = every[:TOP_SYNTHESE]
        if len(rows) < 2:  # no chart of one bar: the place of the chart says why
            charts.append(_no_chart(data, items, chosen[0], what) if chosen else None)
            continue
        code, label = chosen[0].code, chosen[0].libelle
        unit = data.labels[code]["unite"]
        shown = f", les {len(rows)} premiers sur {len(every)}" if len(rows) < len(every) else ""  # never a cut without a word
        flat = flat_title(items, code)
        foot = missing_note(data, items, code)
        block = cd.add(f"Synthèse — {label} ({code}), {what}{shown}{flat}", [f"{label} ({unit})"], rows, [unit],
                       flat_note(data, flat, code) + ([foot] if foot else []))
        charts.append(bar_chart(wb, block, f"{label} {what}{shown}{flat}", [color], (width, bars_height(len(rows)) + (20 if foot else 0)),
                                flat=bool(flat), foot=foot))
    return charts


def _no_chart(data: ReportData, items: list[tuple[str, Getter]], ind, what: str) -> str:
    """Why a chart has no bars, or one only (a one-bar chart compares nothing)."""
    known = len(items) - sum(_value(get(ind.code)) is None for _, get in items)
    noun = ("organisme", "organismes") if data.kind == TERRITOIRE else ("territoire", "territoires")
    if len(items) < 2:
        return f"Pas de graphique « {ind.libelle} {what} » : {'un seul' if items else 'aucun'} {noun[0]}."
    foot = missing_note(data, items, ind.code)
    return f"Pas de graphique « {ind.libelle} {what} » : chiffre connu pour {count(known, *noun)} — {foot}."


def graphiques(wb: Workbook, data: ReportData, fmt: Formats, cd: ChartData) -> None:
    ws = wb.add_worksheet("Graphiques")
    ws.hide_gridlines(2)
    ws.set_column(0, 13, 10)
    subtitle = ("Organismes présents sur le territoire, par nombre de logements." if data.kind == TERRITOIRE else
                f"Territoires où {'l’organisme a' if data.kind == ORGANISME else 'les organismes ont'} des logements, "
                f"les {TOP} premiers par nombre de logements ; chiffres détaillés : feuille masquée « {DATA_SHEET} » (clic droit sur un onglet › Afficher).")
    heading(ws, fmt, data.title, subtitle, [10] * 14)
    singles = [_single(wb, data, cd, ind.code, ind.libelle, LEDGER_COLORS.get(ind.registre, (BLUE,))[0])
               for ind in data.referentiel.charted("graphiques")]
    parts = [_parts(wb, data, cd, ind.code) for ind in data.referentiel.charted("parties")]
    # the first single chart (investment) first, then the parts of the local spending, then the others
    plans = [p for p in (*singles[:1], *parts, *singles[1:], _dpe(wb, data, cd), _evolution(wb, data, cd), _peers(wb, data, cd))
             if p is not None]
    if not plans:
        ws.write_string(3, 0, "Pas de données à représenter pour cet exercice.", fmt.note())
    row, used, breaks = 3, 80, []  # the title rows take about 80 pixels of the first page
    for plan in plans:
        rows_needed = math.ceil((plan.height + 10) / 20)  # default rows are 20 pixels high
        if row > 3 and used + rows_needed * 20 > PAGE_PX:  # the chart would be cut: next page
            breaks.append(row)
            used = 0
        if plan.chart is None:
            ws.write_string(row, 0, plan.text, fmt.note())
        else:
            ws.insert_chart(row, 0, plan.chart, {"x_offset": 4, "y_offset": 4})
        row += rows_needed
        used += rows_needed * 20
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, max(row, 4), 13)
    print_setup(ws, data.title)


def _single(wb: Workbook, data: ReportData, cd: ChartData, code: str, title: str, color: str) -> Plan | None:
    if code not in data.labels:
        return None
    items = entities(data)
    rows = _rows(items, [code])
    if not rows:
        return Plan(None, 20, f"Pas de graphique « {title} » : " + (missing_note(data, items, code) or "aucun chiffre") + ".") \
            if items else None
    unit = data.labels[code]["unite"]
    shown = rows[:TOP]
    foot = missing_note(data, items, code)
    notes = [f"{count(len(rows) - TOP, 'autre non représenté', 'autres non représentés')} sur le graphique."] if len(rows) > TOP else []
    flat = flat_title(items, code)
    block = cd.add(f"{title} ({code}){flat}", [f"{data.labels[code]['libelle']} ({unit})"],
                   rows, [unit], notes + flat_note(data, flat, code) + ([foot] if foot else []))
    height = bars_height(len(shown)) + (20 if foot else 0)
    name = title + (f" — les {TOP} premiers" if len(rows) > TOP else "") + flat
    return Plan(bar_chart(wb, block, name, [color], (CHART_WIDTH, height), n=len(shown), flat=bool(flat), foot=foot), height)


def _parts(wb, data, cd, total: str) -> Plan | None:
    """An indicator that is the sum of its parts (the local spending: purchases, salaries, local
    tax), its parts stacked: they are disjoint flows and the indicator is their sum."""
    ref = data.referentiel
    formula = ref.by_code[total].formule
    names = [n for n in ref.dependencies(ref.by_code[total]) if n in ref.by_ident]
    parts = sorted((ref.by_ident[n].code for n in names), key=lambda c: formula.find(c.replace("-", "_")))
    codes = [c for c in parts if c in data.labels]
    if len(codes) < 2:
        return None
    items = entities(data)
    rows = [(label, [_value(get(c)) for c in codes]) for label, get in items]
    rows = [(label + ("*" if None in vs else ""), vs) for label, vs in rows if sum(v is not None for v in vs) >= 2]
    rows.sort(key=lambda r: -sum(v or 0 for v in r[1]))
    if not rows:
        return None
    shown = rows[:TOP]
    label = ref.by_code[total].libelle
    block = cd.add(f"{label}, par nature ({', '.join(codes)})",
                   [f"{ref.short_label(c)} ({data.labels[c]['unite']})" for c in codes], shown, [data.labels[c]["unite"] for c in codes],
                   ["* : une composante non calculable (donnée absente), non représentée."] if any("*" in r[0] for r in shown) else [])
    height = bars_height(len(shown), 1, legend=True)
    title = f"{label}, par nature" + (" (* : une composante non calculable)" if block.notes else "")
    colors = [NATURE_COLORS[k % len(NATURE_COLORS)] for k in range(len(codes))]
    chart = bar_chart(wb, block, title, colors, (CHART_WIDTH, height), subtype="stacked", labels=False)
    return Plan(chart, height)


def _dpe(wb, data, cd) -> Plan | None:
    """Energy labels A–C, D–E, F–G over the dwellings with a known label; D–E is the complement
    of the two computed shares (same denominator: both are computed on the same organisations)."""
    items = [("Ensemble" if data.kind != TERRITOIRE else data.subject, data.figure)] if data.figure("ENV-01") else []
    items += entities(data)[:TOP]
    rows = []
    for label, get in items:
        ac, fg = _value(get("ENV-01")), _value(get("ENV-01b"))
        if ac is None or fg is None:
            continue
        rows.append((label, [ac, max(0.0, 100 - ac - fg), fg]))
    if not rows:
        return None
    block = cd.add("Étiquettes DPE énergie (ENV-01, ENV-01b ; D–E : complément)", ["A à C (%)", "D ou E (%)", "F ou G (%)"],
                   rows, ["%", "%", "%"], ["Parts des logements dont l'étiquette est connue ; la part sans étiquette figure "
                                            "dans la feuille Indicateurs (ENV-01c)."])
    # taller than the other charts when need be: LibreOffice drops every other name of a crowded axis
    height = max(bars_height(len(rows), 1, legend=True), min(DPE_MAX_PX, 75 + 19 * len(rows) + 25))
    chart = bar_chart(wb, block, "Étiquettes DPE énergie (logements à étiquette connue)", list(DPE_COLORS), (CHART_WIDTH, height),
                      subtype="percent_stacked", inks=list(DPE_INKS))
    return Plan(chart, height)


def _evolution(wb, data, cd) -> Plan | None:
    """Change vs the previous exercice of the headline amounts, in % (units differ: one axis of
    relative changes, never the amounts side by side)."""
    rows = []
    for ind in data.referentiel.charted("evolution"):
        r = data.figure(ind.code)
        if r is not None and r["statut"] == CALCULE and r.get("variation_pct") is not None:
            rows.append((data.referentiel.short_label(ind.code) + (f" {MARK}" if is_flat(r) else ""), [r["variation_pct"]]))
    if not rows:
        return None
    year = data.year
    block = cd.add(f"Évolution {year - 1} → {year}", [f"Évolution {year - 1} → {year} (%)"], rows, ["%"])
    height = bars_height(len(rows))
    chart = bar_chart(wb, block, f"Évolution de {year - 1} à {year} ({data.subject})", [GREEN], (CHART_WIDTH, height))
    # the cells hold fractions (12,5 % is 0.125): a true percent format, not « +0 % » for every tick
    chart.set_x_axis({"num_format": f"{FR}+0{PERCENT};-0{PERCENT};0{PERCENT}", "num_font": {"size": 8},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    # the names at the left edge: at the zero line, a falling figure's bar ran over its name
    chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1, "num_font": {"size": 8},
                      "line": {"color": "#BFBFBF"}, "label_position": "low"})
    return Plan(chart, height)


def _peers(wb, data, cd) -> Plan | None:
    """The organisation among its peers: each indicator as an index (peers' median = 100); the
    grey band spans the 1st to 3rd quartile, the diamond is the organisation."""
    if data.kind != ORGANISME:
        return None
    rows = []
    for p in data.peers:
        med = p["mediane"]
        if med is None or med <= 0 or min(p["q1"], p["valeur"]) < 0:
            continue
        q1, q3, mine = (100 * p[k] / med for k in ("q1", "q3", "valeur"))
        arrow = {"hausse": " ↑", "baisse": " ↓"}.get(p.get("sens") or "", "")  # which way is better (↑ mieux si plus haut)
        rows.append((data.referentiel.short_label(p["indicateur"], p.get("libelle")) + arrow, [q1, q3 - q1, mine, 100.0]))
    if not rows:
        return None
    low = min(min(r[1][0], r[1][2]) for r in rows)
    high = max(max(r[1][0] + r[1][1], r[1][2]) for r in rows)
    block = cd.add("Position parmi les pairs (indice : médiane des pairs = 100)",
                   ["1er quartile (indice)", "Écart interquartile (indice)", "Organisme (indice)", "Médiane (indice)"],
                   rows, ["", "", "", ""], [f"Groupe de comparaison : {data.peers[0]['groupe']} ; voir la feuille « Pairs ».",
                    "↑ : mieux si plus haut ; ↓ : mieux si plus bas ; sans flèche : ni mieux ni moins bien en soi."])
    height = CHART_MAX_PX
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    chart.add_series({"name": block.series_name(0), "categories": block.categories(), "values": block.values(0),
                      "fill": {"none": True}, "border": {"none": True}, "gap": 80})
    chart.add_series({"name": "Du 1er au 3e quartile des pairs", "categories": block.categories(), "values": block.values(1),
                      "fill": {"color": "#D9D9D9"}, "border": {"none": True}})
    marks = wb.add_chart({"type": "line"})
    for j, (name, color, kind) in enumerate((("Organisme", "#C55A11", "diamond"), ("Médiane des pairs", GREY, "dash")), start=2):
        marks.add_series({"name": name, "categories": block.categories(), "values": block.values(j),
                          "line": {"none": True}, "marker": {"type": kind, "size": 11 if j == 2 else 14,
                                                               "fill": {"color": color}, "border": {"color": color}}})
    chart.combine(marks)
    chart.set_title({"name": f"Position parmi les pairs ({data.peers[0]['groupe']})", "name_font": {"size": 11, "bold": True}})
    # zoom on the values (the hidden base column starts at 0, below the axis minimum)
    chart.set_y_axis({"name": "indice (médiane des pairs = 100)", "num_font": {"size": 8}, "name_font": {"size": 9},
                      "min": max(0, 10 * math.floor(low / 10) - 10), "max": 10 * math.ceil(high / 10) + 10,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_font": {"size": 8}})
    chart.set_legend({"position": "bottom", "delete_series": [0], "font": {"size": 9}})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_size({"width": CHART_WIDTH, "height": height})
    return Plan(chart, height)


def chart_count(ws: Worksheet) -> int:
    return len(ws.charts)
