"""The page's maps: the report's maps (outputs/maps.py: same indicators, figures, classes, colours
and notes as the workbook's Carte sheet) drawn as inline SVG. Each territory's outline is written
once, in <defs>, and each map places it (<use>) with its class colour and a title (name and
figure, shown on hover); a legend names every class in words, non-computable territories are
hatched (never told by colour alone), the outlines' attribution is under the maps. The ranking
table holds the same territories' figures: it is the maps' text alternative.

Outlines come from the embedded territorial outlines (territory/outlines.py), already projected
and simplified; this module rounds them to a 1 000-unit grid and writes them as relative path
commands, so that a regional overview by EPCI stays far below 2 MB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acterr_cli.common.formatting import fr_count
from acterr_cli.outputs.html.markup import computed, esc, figure_text
from acterr_cli.outputs.nature import is_flat
from acterr_cli.outputs.reports.model import LEVEL_NOUNS, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import short_text

GRID = 1000.0  # width of the drawing, in SVG units
MARGIN = 0.15  # context drawn around a territory, as a share of its size
PATTERNS = ('<pattern id="nc" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="8" height="8" fill="#FFFFFF"/><line x1="0" y1="0" x2="0" y2="8" stroke="#767676" stroke-width="3"/>'
            "</pattern>")
CONTEXT_FILL = "#F7F7F7"


@dataclass
class DrawnMap:
    html: str
    shapes: int  # territories of the scope drawn (on the first map)


Ring = np.ndarray  # (n, 2) projected x, y in metres (Lambert-93, y north)


def map_section(data: ReportData) -> DrawnMap | None:
    head = '<section id="carte" aria-labelledby="carte-titre"><h2 id="carte-titre">Cartes</h2>'
    try:
        from acterr_cli.outputs import maps
        from acterr_cli.territory import outlines
    except ImportError:
        return DrawnMap(head + '<p class="missing">Cartes non dessinées : les contours des territoires ne sont pas livrés avec '
                               "cette version d'acterr. Les chiffres de chaque territoire sont dans le tableau qui suit.</p></section>", 0)
    if data.level not in outlines.LEVELS:
        return DrawnMap(head + f'<p class="missing">Pas de carte au niveau {esc(LEVEL_NOUNS.get(data.level, data.level))} : '
                               "un seul territoire.</p></section>", 0)
    specs = maps.map_specs(data)
    if not specs:
        return None
    codes = sorted({c for s in specs for c in (*s.codes, *s.context)})
    shapes = {code: [ring for polygon in polygons for ring in polygon] for code, polygons in outlines.outlines(data.level, codes).items()}
    scope = [c for c in specs[0].codes if c in shapes]
    box = _bounds([ring for c in scope for ring in shapes[c]])
    if box is None:
        return DrawnMap(head + '<p class="missing">Cartes non dessinées : aucun territoire du rapport n\'a de contour connu.</p></section>', 0)
    if data.kind == TERRITOIRE:  # a territory among its neighbours: a margin of them around it
        pad = MARGIN * max(box[2] - box[0], box[3] - box[1])
        box = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    scale = GRID / max(box[2] - box[0], 1e-9)
    height = round((box[3] - box[1]) * scale)
    ids, defs = {}, []
    for code in codes:
        d = _path(shapes.get(code, []), box, scale)
        if d:
            ids[code] = f"t{len(ids)}"
            defs.append(f'<path id="{ids[code]}" d="{d}"/>')
    figures = []
    for n, spec in enumerate(specs):
        figures.append(_map(data, maps, spec, n, ids, height))
    drawn = sum(1 for c in specs[0].codes if c in ids)
    intro = ("Chaque carte colore les territoires selon un indicateur rapporté à leur taille (par habitant, par ménage, en "
             "part) : un total peindrait en foncé les grands territoires quoi qu'ils reçoivent. Survolez (ou touchez) un "
             "territoire pour lire son nom et son chiffre ; le tableau qui suit donne les chiffres de chaque territoire.")
    return DrawnMap(head + f"<p>{esc(intro)}</p>"
                    f'<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>{PATTERNS}{"".join(defs)}</defs></svg>'
                    f'<div class="maps">{"".join(figures)}</div>'
                    f'<p class="map-focus" id="carte-choix" aria-live="polite"></p>'
                    f'<p class="credit">{esc(maps.CREDIT)}</p></section>', drawn)


def _map(data: ReportData, maps, spec, n: int, ids: dict[str, str], height: int) -> str:
    """One map: its title, the SVG (neighbours in grey, then the territories in their class), its legend and note;
    only its title and why when no territory has the figure (a map all hatched would say nothing more)."""
    ident = f"carte-{n}"
    title = (f'<figcaption><h3 id="{ident}-titre">{esc(spec.title)} <span class="unit">{esc(spec.unit)}</span></h3></figcaption>')
    if not spec.values:
        return f'<figure class="map-figure">{title}<p class="missing">Carte non dessinée. {esc(maps.map_note(spec, ids))}</p></figure>'
    rows = data.by_territory(spec.indicator)
    breaks = maps.class_breaks(list(spec.values.values()))
    count = max(1, len(breaks) - 1)
    colours = maps.class_colours(spec.palette, count)
    uses = [f'<use href="#{ids[c]}" class="context"><title>{esc(spec.names.get(c, c))}</title></use>'
            for c in spec.context if c in ids]
    for code in spec.codes:
        if code not in ids:
            continue
        name = spec.names.get(code, code)
        if code in spec.values:
            r = rows.get(code)
            text = figure_text(r, spec.unit) if computed(r) else short_text(spec.values[code], spec.unit)
            fill = colours[min(maps.class_of(spec.values[code], breaks), count - 1)]
            css = "shape" + (" flat" if is_flat(r) else "") + (" scope" if code in spec.highlight else "")
        else:
            text, fill, css = "n.c.", "url(#nc)", "shape nc" + (" scope" if code in spec.highlight else "")
        uses.append(f'<use href="#{ids[code]}" class="{css}" fill="{fill}"><title>{esc(name)} : {esc(text)}</title></use>')
    desc = (f"{spec.title} ({spec.unit}) par {LEVEL_NOUNS.get(spec.level, spec.level)}, {fr_count(len(spec.values), 'territoire')} colorés en "
            f"{fr_count(count, 'classe')} du plus clair au plus foncé" + (", les autres hachurés : non calculable" if spec.missing else "")
            + ". Les chiffres sont dans le tableau qui suit les cartes.")
    legend = [f"<li>{_swatch(colour)} {esc(label)}</li>" for colour, label in zip(colours, maps.legend_labels(breaks, spec.unit), strict=False)]
    if spec.missing:
        legend.append(f"<li>{_swatch('url(#nc)')} hachuré : non calculable</li>")
    if spec.context:
        legend.append(f"<li>{_swatch(CONTEXT_FILL)} territoires voisins, hors du rapport</li>")
    if spec.highlight:
        legend.append(f"<li>{_swatch('#FFFFFF', '#000000')} contour épais : {esc(data.subject)}</li>")
    note = maps.map_note(spec, ids)
    return (f'<figure class="map-figure">{title}'
            f'<svg class="map" viewBox="0 0 {GRID:.0f} {height}" role="img" aria-labelledby="{ident}-titre {ident}-desc">'
            f'<desc id="{ident}-desc">{esc(desc)}</desc>{"".join(uses)}</svg>'
            f'<ul class="legend" aria-label="Légende : {esc(spec.title)}">{"".join(legend)}</ul>'
            + (f'<p class="note">{esc(note)}</p>' if note else "") + "</figure>")


def _swatch(fill: str, stroke: str = "#595959") -> str:
    return (f'<svg width="18" height="14" aria-hidden="true" focusable="false"><rect width="18" height="14" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2 if stroke == "#000000" else 1}"/></svg>')


def _bounds(rings: list[Ring]) -> tuple[float, float, float, float] | None:
    if not rings:
        return None
    low = np.min([ring.min(axis=0) for ring in rings], axis=0)
    high = np.max([ring.max(axis=0) for ring in rings], axis=0)
    return float(low[0]), float(low[1]), float(high[0]), float(high[1])


def _path(rings: list[Ring], box: tuple[float, float, float, float], scale: float) -> str:
    """Rings as relative SVG commands on the integer grid (y flipped: north up), points that
    round to the one before dropped, rings that shrink below a triangle left out."""
    out = []
    for ring in rings:
        points = np.empty((len(ring), 2), dtype=np.int64)
        points[:, 0] = np.rint((ring[:, 0] - box[0]) * scale)
        points[:, 1] = np.rint((box[3] - ring[:, 1]) * scale)
        keep = np.ones(len(points), dtype=bool)
        keep[1:] = (points[1:] != points[:-1]).any(axis=1)
        points = points[keep]
        if len(points) < 3:
            continue
        steps = " ".join(f"{a} {b}" for a, b in np.diff(points, axis=0).tolist()).replace(" -", "-")
        out.append(f"M{points[0, 0]} {points[0, 1]}l{steps}z")
    return "".join(out)
