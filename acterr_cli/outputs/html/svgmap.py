"""The page's map: the scope's territories as inline SVG shapes, coloured by one figure in five
classes, each shape with a title (name and figure, shown on hover), a legend that names every
class in words, non-computable territories hatched (never told by colour alone), and the
attribution of the outlines. The ranking table is the map's text alternative: it holds the same
figures.

Outlines come from the embedded territorial outlines (territory/outlines.py), already projected
and simplified; this module only rounds them to a 1 000-unit grid and writes them as relative
path commands, so that a regional overview by EPCI stays far below 2 MB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from acterr_cli.outputs.html.markup import computed, esc, figure_text
from acterr_cli.outputs.nature import is_flat
from acterr_cli.outputs.reports.model import LEVEL_NOUNS, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import short_text

MAPPED = ("ECO-01", "TER-00")  # the first of these computed somewhere in the scope colours the map
# Sequential blues (light to dark), told apart by lightness; the legend names each class.
CLASSES = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C")
CONTEXT_FILL = "#F0F0F0"  # territories drawn for context only (a territory's neighbours)
OTHER_FILL = "#E6E6E6"  # territories where the organisations have no dwelling and the figure is not computed
SCOPE_FILL = "#1F4E79"  # the territory of a territory's page
MARGIN = 0.15  # context drawn around a territory, as a share of its size
GRID = 1000.0  # width of the drawing, in SVG units


@dataclass
class DrawnMap:
    html: str
    shapes: int


Ring = np.ndarray  # (n, 2) projected x, y in metres (Lambert-93, y north)


def _outlines(level: str, codes: list[str]) -> tuple[dict[str, list[Ring]], str] | str:
    """code → rings (exteriors and holes: drawn with the even-odd rule) and the outlines'
    attribution; or why there are none (a French sentence)."""
    try:
        from acterr_cli.territory import outlines
    except ImportError:
        return "les contours des territoires ne sont pas livrés avec cette version d'acterr"
    if level not in outlines.LEVELS:
        return f"pas de contours au niveau {LEVEL_NOUNS.get(level, level)} (contours : {', '.join(outlines.LEVELS)})"
    shapes = outlines.outlines(level, codes)
    if not shapes:
        return "aucun des territoires n'a de contour connu"
    rings = {code: [ring for polygon in polygons for ring in polygon] for code, polygons in shapes.items()}
    return rings, f"{outlines.ATTRIBUTION} ({outlines.LICENCE})"


def _neighbours(level: str, code: str) -> list[str]:
    from acterr_cli.territory import outlines

    return outlines.neighbours(level, [code]) if level in outlines.LEVELS else []


def mapped_code(data: ReportData) -> str | None:
    for code in MAPPED:
        if code in data.labels and any(computed(r) for r in data.by_territory(code).values()):
            return code
    return None


def classes(values: list[float]) -> list[float]:
    """Upper bounds of up to five classes holding about as many territories each (quantiles of the
    distinct values), the last one the maximum."""
    distinct = sorted(set(values))
    if not distinct:
        return []
    n = min(len(CLASSES), len(distinct))
    return [distinct[min(len(distinct) - 1, round((i + 1) * len(distinct) / n) - 1)] for i in range(n)]


def colour(i: int, n: int) -> str:
    """The colour of class i of n: spread over the whole scale, the highest class always the darkest."""
    return CLASSES[round(i * (len(CLASSES) - 1) / (n - 1))] if n > 1 else CLASSES[-1]


def class_of(value: float, bounds: list[float]) -> int:
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds) - 1


def map_section(data: ReportData) -> DrawnMap | None:
    code = mapped_code(data)
    if code is None:
        return None
    name, unit = data.labels[code]["libelle"], data.labels[code]["unite"]
    head = f'<section id="carte" aria-labelledby="carte-titre"><h2 id="carte-titre">Carte : {esc(name)}</h2>'
    scope_codes = [t.code for t in data.territories]
    context = _context_codes(data) if data.kind == TERRITOIRE else []
    found = _outlines(data.level, scope_codes + context)
    if isinstance(found, str):
        return DrawnMap(head + f'<p class="missing">Carte non dessinée : {esc(found)}. Les chiffres de chaque territoire sont '
                               "dans le tableau qui suit.</p></section>", 0)
    shapes, attribution = found
    box = _bounds([ring for c in scope_codes if c in shapes for ring in shapes[c]])
    if box is None:
        return DrawnMap(head + '<p class="missing">Carte non dessinée : aucun territoire du rapport n\'a de contour connu.</p></section>', 0)
    if context:  # a territory among its neighbours: a margin of them around it
        pad = MARGIN * max(box[2] - box[0], box[3] - box[1])
        box = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    figures = data.by_territory(code)
    values = [r["valeur"] for c, r in figures.items() if c in scope_codes and computed(r)]
    bounds = classes(values) if data.kind != TERRITOIRE else []
    scale = GRID / max(box[2] - box[0], 1e-9)
    height = round((box[3] - box[1]) * scale)
    housed = {t.code for t in data.housed}
    names = {t.code: t.nom for t in data.territories} | _names(data, context)
    paths, drawn, kinds = [], 0, set()
    for t_code in context:
        d = _path(shapes.get(t_code, []), box, scale)
        if d:
            paths.append(f'<path class="context" d="{d}"><title>{esc(names.get(t_code, t_code))}</title></path>')
            kinds.add("context")
    for t_code in scope_codes:
        d = _path(shapes.get(t_code, []), box, scale)
        if not d:
            continue
        r = figures.get(t_code)
        if not computed(r):
            kind = "nc" if t_code in housed else "other"
            fill = ' fill="url(#nc)"' if kind == "nc" else ' fill="url(#other)"'
        else:
            kind = "scope" if data.kind == TERRITOIRE else "class"
            fill = f' fill="{SCOPE_FILL if kind == "scope" else colour(class_of(r["valeur"], bounds), len(bounds))}"'
        kinds.add(kind)
        title = f"{names.get(t_code, t_code)} : {figure_text(r, unit) if r else 'aucun résultat'}"
        css = "shape" + (" flat" if is_flat(r) else "") + (f" {kind}" if kind in ("nc", "other", "scope") else "")
        paths.append(f'<path class="{css}"{fill} d="{d}"><title>{esc(title)}</title></path>')
        drawn += 1
    missing = [names.get(c, c) for c in scope_codes if c not in shapes or not _path(shapes[c], box, scale)]
    desc = (f"Carte de {drawn} territoire(s) ({data.level_noun}) selon « {name} » ({unit})"
            + (f", en {len(bounds)} classe(s) du plus clair au plus foncé" if bounds else "")
            + ("" if "nc" not in kinds else " ; hachurés : non calculable")
            + ". Les mêmes chiffres sont dans le tableau qui suit la carte.")
    svg = (f'<svg class="map" viewBox="0 0 {GRID:.0f} {height}" role="img" aria-labelledby="carte-svg-titre carte-svg-desc">'
           f'<title id="carte-svg-titre">{esc(name)} par territoire</title><desc id="carte-svg-desc">{esc(desc)}</desc>'
           '<defs><pattern id="nc" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="8" height="8" fill="#FFFFFF"/><line x1="0" y1="0" x2="0" y2="8" stroke="#767676" stroke-width="3"/>'
           '</pattern><pattern id="other" width="6" height="6" patternUnits="userSpaceOnUse">'
           f'<rect width="6" height="6" fill="{OTHER_FILL}"/><circle cx="3" cy="3" r="1" fill="#767676"/></pattern>'
           f'</defs>{"".join(paths)}</svg>')
    scope_figure = figure_text(figures.get(data.scope.code), unit) if data.kind == TERRITOIRE else ""
    legend = _legend(bounds, unit, kinds, f"{data.subject} : {scope_figure}")
    notes = [f"Survolez (ou touchez) un territoire pour lire son nom et son chiffre. Contours : {attribution}."]
    if missing:
        notes.append(f"Sans contour connu, donc absents de la carte : {', '.join(missing[:10])}" + (" …" if len(missing) > 10 else "") + ".")
    if any(is_flat(figures.get(c)) for c in scope_codes):
        notes.append("Un chiffre précédé de « ≈ » est une estimation forfaitaire (moyenne nationale), pas une mesure.")
    return DrawnMap(head + f'<figure class="map-figure">{svg}<figcaption>{legend}'
                    '<p class="map-focus" id="carte-choix" aria-live="polite"></p>'
                    + "".join(f"<p>{esc(n)}</p>" for n in notes) + "</figcaption></figure></section>", drawn)


def _context_codes(data: ReportData) -> list[str]:
    """For one territory's page: the territories of the level around it, drawn in grey."""
    try:
        return _neighbours(data.level, data.scope.code)
    except ImportError:
        return []


def _names(data: ReportData, codes: list[str]) -> dict[str, str]:
    """Names of territories outside the scope (a territory's neighbours), from the level's results."""
    results = data.inputs.computation.results
    if not codes or not results.height:
        return {}
    found = (results.lazy().select(pl.col("code_territoire").cast(pl.Utf8), pl.col("nom_territoire").cast(pl.Utf8))
             .filter(pl.col("code_territoire").is_in(codes)).unique("code_territoire").collect())
    return dict(found.iter_rows())


def _swatch(fill: str) -> str:
    return (f'<svg width="18" height="14" aria-hidden="true" focusable="false"><rect width="18" height="14" fill="{fill}" '
            'stroke="#595959"/></svg>')


def _legend(bounds: list[float], unit: str, kinds: set[str], scope_text: str) -> str:
    """Every colour and pattern of the map named in words."""
    items, low = [], None
    for i, high in enumerate(bounds):
        text = f"jusqu'à {short_text(high, unit)}" if low is None else f"de {short_text(low, unit)} à {short_text(high, unit)}"
        items.append(f"<li>{_swatch(colour(i, len(bounds)))} {esc(text)}</li>")
        low = high
    if "scope" in kinds:
        items.append(f"<li>{_swatch(SCOPE_FILL)} {esc(scope_text)}</li>")
    if "nc" in kinds:
        items.append(f"<li>{_swatch('url(#nc)')} non calculable (hachuré)</li>")
    if "other" in kinds:
        items.append(f"<li>{_swatch('url(#other)')} pointillé : sans logement des organismes (salariés, fournisseurs) : non calculable</li>")
    if "context" in kinds:
        items.append(f"<li>{_swatch(CONTEXT_FILL)} territoires voisins (hors du rapport)</li>")
    return f'<ul class="legend" aria-label="Légende de la carte">{"".join(items)}</ul>'


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
