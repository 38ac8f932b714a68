"""The « Évolution » sheet: why the headline amounts moved from N-1 to N (engine/bridge.py), as a
table of components and one waterfall chart per figure.

A waterfall is a stacked column chart: an invisible base carries each step's bar up to where
the previous step ended; rises and falls in their own colours; the two years as full columns.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from acterr_cli.outputs.reports.charts import ChartData, _axis_format, _label_format
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, ReportData
from acterr_cli.outputs.reports.xlsx import FR, GREY, LEDGER_COLORS, Formats, fit_row, heading, note, print_setup, put

SHEET = "Évolution"
STEPS = {"sortie": "Organismes sortis", "donnees": "Données des organismes", "entree": "Organismes entrés",
         "referentiel": "Méthode (référentiel)", "reste": "Reste"}
RISE, FALL, TOTAL = "#548235", "#C00000", LEDGER_COLORS["valeur_locale"][0]
WIDTHS = [40, 14, 14, 14, 14, 14, 14, 14, 10]
CHART_SIZE = (520, 300)


def scope_of(data: ReportData) -> tuple[str, str, str | None]:
    """(level, territory code, siren) whose figures the Synthèse shows as headline figures."""
    if data.kind == ENSEMBLE:
        return "FRANCE", "FR", None
    if data.kind == ORGANISME:
        return "FRANCE", "FR", data.scope.siren
    return data.level, data.scope.code or "", None


def attach(data: ReportData) -> None:
    """The bridge of the headline amounts, from the workspace through the callable the API gave
    (`ReportInputs.bridge`): nothing without it, without an exercice, or without N-1."""
    if data.inputs.bridge is not None and data.year is not None and not data.evolution:
        level, code, siren = scope_of(data)
        data.evolution = data.inputs.bridge(_codes(data), level, code, data.year, siren)


def _codes(data: ReportData) -> list[str]:
    """The amounts whose change is taken apart: the catalogue's `graphique = { cascade = rang }`
    (additive figures only, checked when the catalogue is read: their steps read as amounts)."""
    return [i.code for i in data.referentiel.charted("cascade")]


def write(wb: Workbook, data: ReportData, fmt: Formats, cd: ChartData) -> None:
    shown = [c for c in _codes(data) if c in data.evolution]
    if not shown:
        return
    ws = wb.add_worksheet(SHEET)
    ws.hide_gridlines(2)
    for j, w in enumerate(WIDTHS):
        ws.set_column(j, j, w)
    first = data.evolution[shown[0]]
    previous, year = first["exercice_precedent"], first["exercice"]
    row = heading(ws, fmt, f"Évolution de {previous} à {year} — {data.subject}",
                  f"Pourquoi les chiffres clés ont changé depuis {previous} : chaque étape recalcule le chiffre en ne changeant "
                  "qu'une chose, dans cet ordre — les organismes sortis, les données des organismes présents les deux années, "
                  "les organismes entrés, puis la méthode (l'exercice recalculé avec le référentiel de l'an dernier, puis avec "
                  "celui de cette année). Les composantes s'additionnent exactement à l'évolution.", WIDTHS)
    header = ["Chiffre clé", f"{previous}", *STEPS.values(), f"{year}", "Unité"]
    for j, h in enumerate(header):
        ws.write_string(row, j, h, fmt.header())
    fit_row(ws, row, [(h, w, fmt.header()) for h, w in zip(header, WIDTHS, strict=True)])
    ws.freeze_panes(row + 1, 1)
    row += 1
    for code in shown:
        doc, unit = data.evolution[code], data.labels[code]["unite"]
        parts = {c["cause"]: c["montant"] for c in doc["composantes"]}
        ws.write_string(row, 0, f"{data.labels[code]['libelle']} ({code})", fmt.wrap())
        for j, value in enumerate([doc["valeur_precedente"], *(parts[c] for c in STEPS), doc["valeur"]], start=1):
            put(ws, row, j, value, fmt(num_format=_label_format(unit, [value]) if j in (1, len(STEPS) + 2) else _signed(unit, value)))
        ws.write_string(row, len(header) - 1, unit)
        row += 1
    row += 1
    methods = {code: next(c["libelle"] for c in data.evolution[code]["composantes"] if c["cause"] == "referentiel") for code in shown}
    for text in dict.fromkeys(methods.values()):  # one note per distinct text, naming its figures when they differ
        codes = [c for c, t in methods.items() if t == text]
        row = note(ws, fmt, row, (f"{', '.join(codes)} — " if len(set(methods.values())) > 1 else "") + f"{text}.",
                   0, len(WIDTHS) - 1, sum(WIDTHS))
    entering = next(c["libelle"] for c in first["composantes"] if c["cause"] == "entree")
    leaving = next(c["libelle"] for c in first["composantes"] if c["cause"] == "sortie")
    row = note(ws, fmt, row, f"{leaving}. {entering}.", 0, len(WIDTHS) - 1, sum(WIDTHS))
    row += 1
    for k, code in enumerate(shown):
        chart = _waterfall(wb, data, cd, code)
        ws.insert_chart(row + (k // 2) * 16, 0 if k % 2 == 0 else 4, chart, {"x_offset": 5, "y_offset": 5})
    print_setup(ws, data.title)


def _signed(unit: str, value: float | None) -> str:
    """A change in the figure's unit, with its sign (« +1,2 M€ », « −3 »)."""
    base = _label_format(unit, [value]).removeprefix(FR)
    return FR + f"+{base};-{base};0"


def _waterfall(wb: Workbook, data: ReportData, cd: ChartData, code: str):
    """Stacked columns: invisible base, rise, fall, total (the two years)."""
    doc, unit = data.evolution[code], data.labels[code]["unite"]
    previous, year = doc["exercice_precedent"], doc["exercice"]
    rows = [(str(previous), [0.0, None, None, doc["valeur_precedente"]])]
    level = doc["valeur_precedente"]
    for c in doc["composantes"]:
        after = level + c["montant"]
        rise, fall = max(c["montant"], 0.0), max(-c["montant"], 0.0)
        rows.append((STEPS[c["cause"]], [min(level, after), rise or None, fall or None, None]))
        level = after
    rows.append((str(year), [0.0, None, None, doc["valeur"]]))
    block = cd.add(f"Évolution {previous} → {year} : {data.labels[code]['libelle']} ({code})",
                   ["Base (invisible)", "Hausse", "Baisse", "Total"], rows, ["", unit, unit, unit])
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    values = [v for _, vs in rows for v in vs[1:] if v is not None]
    label = _label_format(unit, values)
    for j, color in enumerate((None, RISE, FALL, TOTAL)):  # base, rise, fall, total
        chart.add_series({
            "name": block.series_name(j), "categories": block.categories(), "values": block.values(j),
            **({"fill": {"none": True}, "border": {"none": True}} if color is None
               else {"fill": {"color": color}, "border": {"none": True},
                     "data_labels": {"value": True, "num_format": label, "font": {"size": 8}}}),
            "gap": 60,
        })
    chart.set_title({"name": data.referentiel.short_label(code, data.labels[code]["libelle"]), "name_font": {"size": 10, "bold": True}})
    chart.set_y_axis({"num_format": _axis_format(unit, values), "num_font": {"size": 8}, "min": 0,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_font": {"size": 8, "color": GREY}})
    chart.set_legend({"none": True})
    chart.set_chartarea({"border": {"none": True}})
    chart.set_size({"width": CHART_SIZE[0], "height": CHART_SIZE[1]})
    return chart
