"""The « Carte » sheet: the report's choropleth maps (outputs/maps.py) as images, two per row,
each with its note (what is not computable and why, what is not drawn) and the outlines'
attribution; one A4 portrait page."""

from __future__ import annotations

import io

from xlsxwriter.workbook import Workbook

# The module, not its names: maps imports reports.model, whose package imports this module.
from acterr_cli.outputs import maps
from acterr_cli.outputs.reports.model import ReportData
from acterr_cli.outputs.reports.xlsx import GREY, Formats, fit_row, heading, merged, note, print_setup

SHEET = "Carte"
COLUMNS, COLUMN_WIDTH, COLUMN_PX = 16, 8.43, 64  # Excel's default columns
ROW_PX = 20
PER_ROW = 2
HALF_PX = (COLUMNS // PER_ROW) * COLUMN_PX  # an image fills its half of the sheet


def write(wb: Workbook, data: ReportData, fmt: Formats) -> list[maps.MapImage]:
    """Write the sheet; returns the images drawn."""
    specs = maps.map_specs(data)
    images = maps.report_maps(data, specs)
    ws = wb.add_worksheet(SHEET)
    widths = [COLUMN_WIDTH] * COLUMNS
    for j in range(COLUMNS):
        ws.set_column(j, j, COLUMN_WIDTH)
    row = heading(ws, fmt, data.title, _subtitle(data, images), widths)
    half = COLUMNS // PER_ROW
    for start in range(0, len(images), PER_ROW):
        pair = images[start:start + PER_ROW]
        scale = HALF_PX / max(i.width for i in pair)
        tallest = max(round(i.height * scale) for i in pair)
        for k, image in enumerate(pair):
            ws.insert_image(row, k * half, f"carte_{image.indicator}.png", {
                "image_data": io.BytesIO(image.png), "x_scale": scale, "y_scale": scale, "object_position": 3,
                "description": _alt(image)})
        row += -(-tallest // ROW_PX) + 1
        notes = [i.note for i in pair]
        if any(notes):  # one row for the pair's notes, as high as the longer one
            f = fmt(italic=True, font_color=GREY, text_wrap=True, valign="top")
            for k, text in enumerate(notes):
                merged(ws, row, k * half, k * half + half - 1, text, f)
            fit_row(ws, row, [(text, half * COLUMN_WIDTH, f) for text in notes])
            row += 2
    for text in maps.not_drawn(specs):  # a map no territory can colour: its title and why, not a map all hatched
        row = note(ws, fmt, row, text, 0, COLUMNS - 1, sum(widths))
    note(ws, fmt, row, maps.CREDIT, 0, COLUMNS - 1, sum(widths))
    print_setup(ws, data.title, portrait=True)
    return images


def _subtitle(data: ReportData, images: list[maps.MapImage]) -> str:
    if not images:
        reason = ("au niveau France, le territoire est unique" if data.level == "FRANCE"
                  else "aucun résultat pour les indicateurs cartographiés")
        return f"Pas de carte : {reason}."
    return ("Cartes par classes (quantiles des territoires représentés) ; hachuré : non calculable, le motif est "
            "écrit sous la carte ; gris clair : territoires voisins, hors du périmètre du rapport.")


def _alt(image: maps.MapImage) -> str:
    return f"Carte : {image.title}." + (f" {image.note}" if image.note else "")
