"""The Sensibilité sheet: for each headline figure of the Synthèse that parameters move, the
parameters that move it most, one at a time (engine/sensitivity.py), as a table and a tornado
chart (one bar per parameter: the figure's change when it takes its low value, and its high value,
the others central). Organisation figures carry no sensitivity: the sheet then says so.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from acterr_cli.engine import sensitivity
from acterr_cli.outputs.reports.model import ReportData
from acterr_cli.outputs.reports.synthese import panels
from acterr_cli.outputs.reports.xlsx import Formats, heading, note, number_format, print_setup, put, short_text
from acterr_cli.results import CALCULE

SHEET = "Sensibilité"
WIDTHS = [30, 52, 16, 16, 16]
LOW, HIGH = "#2E75B6", "#C55A11"
CHART_ROWS = 9  # rows a tornado takes beside its table
CHART_PX = 175  # its height: nine default rows of 20 pixels, less a margin
BLOCKS_PER_PAGE = 4  # figures (table and tornado) on a printed page; a page break between two, never through a chart


def figures(data: ReportData) -> list[dict]:
    """The Synthèse's headline figures that have drivers, in the Synthèse's order."""
    codes = [c for _, _, codes in panels(data.referentiel) for c in codes]
    return [r for c in codes if (r := data.headline.get(c)) and r.get("statut") == CALCULE and r.get("moteur_1")]


def write(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet(SHEET)
    for i, w in enumerate(WIDTHS):
        ws.set_column(i, i, w)
    print_setup(ws, f"{data.title} — sensibilité")
    row = heading(ws, fmt, "Sensibilité des chiffres de la synthèse aux paramètres",
                  "Chaque paramètre prend seul sa valeur basse puis sa valeur haute, les autres restant à leur valeur centrale : "
                  "l'écart est la variation du chiffre, dans son unité. Les barres les plus longues désignent les hypothèses "
                  "à documenter en priorité. Les facteurs du loyer de marché (correction des loyers d'annonce, charges, vacance "
                  "par défaut, intervalle de la carte des loyers) s'appliquent à chaque logement avant l'agrégation.", WIDTHS)
    shown = figures(data)
    if not shown:
        note(ws, fmt, row, "Aucun chiffre de la synthèse ne dépend d'un paramètre dont les valeurs basse et haute diffèrent "
             "(ou la sensibilité n'est calculée que pour les chiffres consolidés des territoires, pas pour un organisme).",
             0, len(WIDTHS) - 1, sum(WIDTHS))
        return
    breaks = []
    for i, r in enumerate(shown):
        if i and i % BLOCKS_PER_PAGE == 0:
            breaks.append(row)
        row = _block(wb, ws, data, fmt, row, r)
    ws.set_h_pagebreaks(breaks)


def _block(wb: Workbook, ws, data: ReportData, fmt: Formats, row: int, r: dict) -> int:
    unit = r["unite"]
    ws.write_string(row, 0, f"{r['indicateur']} — {r['libelle']}", fmt.section())
    ws.write_string(row, 2, f"valeur centrale : {short_text(r['valeur'], unit)}", fmt.note())
    row += 1
    headers = ["Paramètre", "Libellé", "Écart, paramètre bas", "Écart, paramètre haut", "Étendue"]
    ws.set_row(row, 28)
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, fmt.header())
    first = row + 1
    ranks = [k for k in range(1, sensitivity.TOP + 1) if r.get(f"moteur_{k}")]
    number = fmt(num_format=number_format(unit), border=1, border_color="#BFBFBF")
    for k in ranks:
        row += 1
        ws.set_row(row, 27)  # a label on two lines
        driver = r[f"moteur_{k}"]
        low, high = r[f"moteur_{k}_basse"], r[f"moteur_{k}_haute"]
        put(ws, row, 0, driver, fmt(border=1, border_color="#BFBFBF"))
        put(ws, row, 1, sensitivity.label(data.referentiel, driver), fmt.wrap(border=1, border_color="#BFBFBF"))
        put(ws, row, 2, low, number)
        put(ws, row, 3, high, number)
        put(ws, row, 4, None if low is None or high is None else abs(high - low), number)
    last = row
    _tornado(wb, ws, fmt, r, first, last, row + 2)
    return max(row + 2, first + CHART_ROWS) + 1


def _tornado(wb: Workbook, ws, fmt: Formats, r: dict, first: int, last: int, anchor_row: int) -> None:
    """Horizontal bars from the central value: low end in blue, high end in orange, widest on top."""
    chart = wb.add_chart({"type": "bar"})
    for col, name, color in ((2, "Paramètre à sa valeur basse", LOW), (3, "Paramètre à sa valeur haute", HIGH)):
        chart.add_series({"name": name, "categories": [SHEET, first, 0, last, 0], "values": [SHEET, first, col, last, col],
                          "fill": {"color": color}, "border": {"none": True}, "gap": 40, "overlap": 100})
    chart.set_title({"name": f"{r['indicateur']} : écart à la valeur centrale ({r['unite']})", "name_font": {"size": 10, "bold": True}})
    chart.set_x_axis({"num_format": number_format(r["unite"]), "num_font": {"size": 8},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    # widest swing on top; the value axis stays at the bottom once reversed; labels beside the chart
    chart.set_y_axis({"reverse": True, "crossing": "max", "label_position": "low", "num_font": {"size": 8}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_size({"width": 460, "height": CHART_PX})
    ws.insert_chart(first - 1, 5, chart, {"x_offset": 10})
