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

from acterr_cli.outputs.html.markup import computed, esc, figure_text
from acterr_cli.outputs.nature import is_flat
from acterr_cli.outputs.reports.model import TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import short_text

MAPPED = ("ECO-01", "TER-00")  # the first of these computed somewhere in the scope colours the map
# Sequential blues (light to dark), told apart by lightness; the legend names each class.
CLASSES = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C")
CONTEXT_FILL = "#F0F0F0"  # territories drawn for context only (a territory's neighbours)
GRID = 1000.0  # width of the drawing, in SVG units


@dataclass
class DrawnMap:
    html: str
    shapes: int


Ring = list[tuple[float, float]]


def _outlines(level: str, codes: list[str]) -> tuple[dict[str, list[Ring]], str] | str:
    """code → rings (projected x, y; y pointing north), and the outlines' attribution; or why
    there are none (a French sentence)."""
    try:
        from acterr_cli.territory import outlines
    except ImportError:
        return "les contours des territoires ne sont pas encore livrés avec acterr"
    shapes = outlines.shapes(level, codes)
    if not shapes:
        return f"aucun contour n'est disponible pour le niveau {level}"
    return shapes, outlines.ATTRIBUTION


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


def class_of(value: float, bounds: list[float]) -> int:
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds) - 1


def map_section(data: ReportData) -> DrawnMap | None:
    code = mapped_code(data)
    if code is None:
        return None
    figures = data.by_territory(code)
    scope_codes = [t.code for t in data.territories]
    context = _context_codes(data) if data.kind == TERRITOIRE else []
    found = _outlines(data.level, scope_codes + context)
    name = data.labels[code]["libelle"]
    head = f'<section id="carte" aria-labelledby="carte-titre"><h2 id="carte-titre">Carte : {esc(name)}</h2>'
    if isinstance(found, str):
        return DrawnMap(head + f"<p class=\"missing\">Carte non dessinée : {esc(found)}. Les chiffres de chaque territoire sont "
                               "dans le tableau qui suit.</p></section>", 0)
    shapes, attribution = found
    unit = data.labels[code]["unite"]
    values = [r["valeur"] for c, r in figures.items() if c in scope_codes and computed(r)]
    bounds = classes(values)
    box = _bounds([ring for rings in shapes.values() for ring in rings])
    if box is None:
        return None
    scale = GRID / max(box[2] - box[0], 1e-9)
    height = round((box[3] - box[1]) * scale)
    names = {t.code: t.nom for t in data.territories}
    paths, drawn = [], 0
    for t_code in context:
        if t_code in shapes:
            paths.append(f'<path class="context" d="{_path(shapes[t_code], box, scale)}"><title>{esc(t_code)}</title></path>')
    for t_code in scope_codes:
        if t_code not in shapes:
            continue
        r = figures.get(t_code)
        if computed(r):
            fill = f' fill="{CLASSES[class_of(r["valeur"], bounds)]}"'
            css = "shape flat" if is_flat(r) else "shape"
        else:
            fill, css = ' fill="url(#nc)"', "shape nc"
        title = f"{names.get(t_code, t_code)} : {figure_text(r, unit) if r else 'aucun résultat'}"
        paths.append(f'<path class="{css}"{fill} d="{_path(shapes[t_code], box, scale)}"><title>{esc(title)}</title></path>')
        drawn += 1
    missing = [names.get(c, c) for c in scope_codes if c not in shapes]
    desc = (f"Carte de {drawn} territoire(s) ({data.level_noun}) colorés selon « {name} » ({unit}), en {len(bounds)} classe(s) "
            f"du plus clair au plus foncé ; les territoires hachurés sont non calculables. Les mêmes chiffres sont dans le tableau "
            "« Classement ».")
    svg = (f'<svg class="map" viewBox="0 0 {GRID:.0f} {height}" role="img" aria-labelledby="carte-svg-titre carte-svg-desc">'
           f'<title id="carte-svg-titre">{esc(name)} par territoire</title><desc id="carte-svg-desc">{esc(desc)}</desc>'
           '<defs><pattern id="nc" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="8" height="8" fill="#FFFFFF"/><line x1="0" y1="0" x2="0" y2="8" stroke="#767676" stroke-width="3"/>'
           f'</pattern></defs>{"".join(paths)}</svg>')
    legend = _legend(bounds, unit, any(not computed(figures.get(c)) for c in scope_codes if c in shapes))
    notes = [f"Survolez (ou touchez) un territoire pour lire son nom et son chiffre. Contours : {attribution}."]
    if missing:
        notes.append(f"Sans contour connu, donc absents de la carte : {', '.join(missing[:10])}" + (" …" if len(missing) > 10 else "") + ".")
    if any(is_flat(figures.get(c)) for c in scope_codes):
        notes.append("Un chiffre précédé de « ≈ » est une estimation forfaitaire (moyenne nationale), pas une mesure.")
    return DrawnMap(head + f'<figure class="map-figure">{svg}<figcaption>{legend}'
                    f'<p class="map-focus" id="carte-choix" aria-live="polite"></p>'
                    + "".join(f"<p>{esc(n)}</p>" for n in notes) + "</figcaption></figure></section>", drawn)


def _context_codes(data: ReportData) -> list[str]:
    """For one territory's page: the level's other territories with results, drawn in grey around it."""
    results = data.inputs.computation.results
    codes = results["code_territoire"].drop_nulls().unique().to_list() if results.height else []
    return sorted(str(c) for c in codes if str(c) != data.scope.code and not str(c).startswith("NON"))


def _legend(bounds: list[float], unit: str, with_nc: bool) -> str:
    items, low = [], None
    for i, high in enumerate(bounds):
        text = f"jusqu'à {short_text(high, unit)}" if low is None else f"de {short_text(low, unit)} à {short_text(high, unit)}"
        items.append(f'<li><svg width="18" height="14" aria-hidden="true" focusable="false"><rect width="18" height="14" '
                     f'fill="{CLASSES[i]}" stroke="#595959"/></svg> {esc(text)}</li>')
        low = high
    if with_nc:
        items.append('<li><svg width="18" height="14" aria-hidden="true" focusable="false"><rect width="18" height="14" '
                     'fill="url(#nc)" stroke="#595959"/></svg> non calculable (hachuré)</li>')
    return f'<ul class="legend" aria-label="Légende de la carte">{"".join(items)}</ul>'


def _bounds(rings: list[Ring]) -> tuple[float, float, float, float] | None:
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _path(rings: list[Ring], box: tuple[float, float, float, float], scale: float) -> str:
    """Rings as relative SVG commands on the integer grid (y flipped: north up), repeated points dropped."""
    out = []
    for ring in rings:
        points = []
        for x, y in ring:
            p = (round((x - box[0]) * scale), round((box[3] - y) * scale))
            if not points or p != points[-1]:
                points.append(p)
        if len(points) < 3:
            continue
        (x0, y0), rest = points[0], points[1:]
        steps, (px, py) = [], (x0, y0)
        for x, y in rest:
            steps.append(f"{x - px} {y - py}")
            px, py = x, y
        out.append(f"M{x0} {y0}l" + " ".join(steps) + "z")
    return "".join(out)
