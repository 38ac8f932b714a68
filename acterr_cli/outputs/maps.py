"""Choropleth maps of a report's territories (commune, EPCI, département, région), drawn offline
with Pillow on the embedded outlines (territory/outlines.py): a map is filled polygons, lines and
a few words, and a report's export does not pay for importing a plotting library (the fiche and
the slide, drawn with matplotlib, place the map's image).

What a map shows, per scope of the report:
- overview: every territory of the level with results, coloured by class; the territories around
  them in light grey for context;
- one territory: that territory (thick outline) among its neighbours of the same level, each
  with its own figure when the organisations have results there;
- one organisation: the territories where it has results.

Nothing is silent: a territory of the scope whose figure is not computable is hatched and named
« non calculable » in the legend, with the reasons in the map's note; a territory without outline
(collectivités d'outre-mer, communes created since 2018) is named in the note. The attribution of
the outlines is printed under every map. Outlines are cached per territory, so a report's
maps share the work.

Another drawing of the same maps (the web page's SVG) gets the same figures and classes without
matplotlib: ``map_specs(data)`` (values, reasons, names, neighbours per indicator),
``class_breaks`` / ``class_of`` / ``legend_labels`` (French), ``class_colours`` (hex),
``map_note`` (the missing, in words), ``CREDIT``; outlines from ``territory/outlines.py``.
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from acterr_cli.common.formatting import decimals_for, fr_number
from acterr_cli.outputs.reports.model import ORGANISME, TERRITOIRE, ReportData
from acterr_cli.results import CALCULE
from acterr_cli.territory import outlines as geo

# The indicators mapped are the catalogue's (`graphique = { carte = rang }`, rates only: a choropleth
# of totals would paint big territories dark whatever they receive): the first MAPS_SHOWN that at
# least one territory can colour, each skipped one said on the page. Cool scales in turn; a warm
# one where higher is worse (`sens = "baisse"`, the DPE F–G share).
MAPS_SHOWN = 4
TITLE_CHARS = 48  # a map's title, bold, with its unit, on the image's width
COOL_PALETTES = ("Blues", "Purples", "Greens")
WORSE_PALETTE = "Oranges"
CLASSES = 5
NON_CALCULABLE = "non calculable"
HORS_PERIMETRE = "hors périmètre"
NA_FACE, CONTEXT_FACE, EDGE = "#E7E6E6", "#F7F7F7", "#FFFFFF"
INK, GREY = "#262626", "#595959"
LABELS_MAX = 12  # territory names written on the map up to this many territories
# 520 × 416 px, shown at about that size on the Carte sheet (two maps side by side on an A4 page);
# a modest resolution keeps the four maps of a report cheap to draw. The fonts are sized for
# 4 inches wide and grow with the width asked (a slide's map).
MAP_SIZE_IN, MAP_DPI = (4.0, 3.2), 130
CREDIT = f"Contours : {geo.ATTRIBUTION} ({geo.LICENCE}), simplifiés, communes au COG 2026."


@dataclass
class MapSpec:
    """What one map draws: values by territory code of one level."""

    level: str
    indicator: str
    title: str
    unit: str
    values: dict[str, float]  # computed figures
    missing: dict[str, str]  # territory code → reason it is not computable
    names: dict[str, str]
    palette: str = "Blues"
    highlight: tuple[str, ...] = ()  # territories outlined (the report's territory)
    context: list[str] = field(default_factory=list)  # neighbours drawn in grey

    @property
    def codes(self) -> list[str]:
        return [*self.values, *self.missing]


@dataclass
class MapImage:
    indicator: str
    title: str
    png: bytes
    note: str  # what is missing or not drawn, in words (also printed on the image)
    width: int
    height: int


# ─── what a report maps ───

def mapped_codes(data: ReportData) -> list[str]:
    return [i.code for i in data.referentiel.charted("carte")]


def map_specs(data: ReportData) -> list[MapSpec]:
    """The report's maps (none at FRANCE level: one territory): the catalogue's mapped indicators
    in their order, the first MAPS_SHOWN that at least one territory can colour, then those
    skipped before them for want of any figure (no values: their missing say why)."""
    if data.level not in geo.LEVELS or data.year is None:
        return []
    rows = _scope_rows(data)
    drawn, skipped = [], []
    for code in mapped_codes(data):
        ind = data.referentiel.by_code[code]
        mine = [r for r in rows if r["indicateur"] == code]
        if not mine or len(drawn) == MAPS_SHOWN:
            continue
        values = {r["code_territoire"]: r["valeur"] for r in mine if r["statut"] == CALCULE and r["valeur"] is not None}
        missing = {r["code_territoire"]: (r.get("motif") or NON_CALCULABLE) for r in mine if r["code_territoire"] not in values}
        names = {r["code_territoire"]: r["nom_territoire"] or r["code_territoire"] for r in mine}
        highlight = (data.scope.code,) if data.kind == TERRITOIRE else ()
        cool = sum(s.palette != WORSE_PALETTE for s in drawn)
        palette = WORSE_PALETTE if ind.sens == "baisse" else COOL_PALETTES[cool % len(COOL_PALETTES)]
        # the libellé when it fits the map's width in its title font, else the short label
        title = ind.libelle if len(ind.libelle) <= TITLE_CHARS else ind.short_label
        (drawn if values else skipped).append(MapSpec(data.level, code, title, ind.unite, values, missing, names, palette, highlight))
    specs = drawn + skipped
    if specs:
        around = [data.scope.code] if data.kind == TERRITOIRE else specs[0].codes
        context = geo.neighbours(data.level, around)
        for spec in specs:
            spec.context = [c for c in context if c not in spec.names]
    return specs


def subject_spec(data: ReportData, key: str | None = None) -> MapSpec | None:
    """The one map of a fiche or a slide: the first mapped indicator with a figure for the subject.

    ``key`` is a territory of an overview (its fiche): that territory, outlined, among its
    neighbours of the overview; otherwise (None, or the report's own subject) the report's map."""
    specs = map_specs(data)
    if key is not None and data.kind not in (TERRITOIRE, ORGANISME) and key in {c for s in specs for c in s.codes}:
        around = {key, *geo.neighbours(data.level, [key])}
        specs = [_around(s, key, around) for s in specs]
    wanted = key if key is not None and any(key in s.values for s in specs) else None
    for spec in specs:
        if (wanted in spec.values) if wanted else spec.values:
            return spec
    return specs[0] if specs else None


def _around(spec: MapSpec, key: str, around: set[str]) -> MapSpec:
    keep = [c for c in spec.codes if c in around]
    return MapSpec(spec.level, spec.indicator, spec.title, spec.unit,
                   {c: v for c, v in spec.values.items() if c in around},
                   {c: m for c, m in spec.missing.items() if c in around},
                   {c: spec.names[c] for c in keep}, spec.palette, (key,),
                   sorted(around - set(keep)))


def _scope_rows(data: ReportData) -> list[dict]:
    """Rows by territory of the map: the report's, or for one territory, it and its neighbours
    from the level's consolidated results (same exercice)."""
    if data.kind != TERRITOIRE:
        return [r for r in data.rows if r.get("code_territoire")]
    import polars as pl

    around = {data.scope.code, *geo.neighbours(data.level, [data.scope.code])}
    codes = mapped_codes(data)
    return (
        data.inputs.computation.results.lazy()
        .filter(pl.col("siren").is_null() & (pl.col("exercice") == data.year)
                & pl.col("code_territoire").is_in(sorted(around)) & pl.col("indicateur").is_in(codes))
        .collect().to_dicts()
    )


def report_maps(data: ReportData, specs: list[MapSpec], size_in: tuple[float, float] = MAP_SIZE_IN,
                dpi: int = MAP_DPI) -> list[MapImage]:
    """The report's maps (`map_specs`) as PNG images; a map no territory can colour is not drawn."""
    return [draw(spec, size_in, dpi, subtitle=_subtitle(data)) for spec in specs if spec.values]


def not_drawn(specs: list[MapSpec]) -> list[str]:
    """In words, each map skipped because no territory has its figure, and why."""
    return [f"Carte non dessinée — {spec.title} : {map_note(spec).removesuffix('.')}." for spec in specs if not spec.values]


def _subtitle(data: ReportData, key: str | None = None) -> str:
    if key is not None and data.kind not in (TERRITOIRE, ORGANISME) and key in {t.code for t in data.territories}:
        name = next(t.nom for t in data.territories if t.code == key)
        return f"Exercice {data.year} · par {data.level_noun} · {name} et les territoires voisins"
    who = {ORGANISME: data.subject, TERRITOIRE: f"{data.subject} et les territoires voisins"}.get(
        data.kind, "organismes importés")
    return f"Exercice {data.year} · par {data.level_noun} · {who}"


# ─── classes ───

def class_breaks(values: list[float], classes: int = CLASSES) -> list[float]:
    """Class limits (ascending, min and max included) from the quantiles of the values, rounded
    to two significant digits so the legend reads; fewer classes when values are few or equal."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if math.isclose(lo, hi):
        return [lo, hi]
    n = min(classes, len(set(values)))
    qs = np.quantile(np.asarray(values, dtype=float), np.linspace(0, 1, n + 1))
    inner = sorted({_round2(q) for q in qs[1:-1] if lo < _round2(q) < hi})
    return [lo, *inner, hi]


def _round2(x: float) -> float:
    if x == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(x))))
    return round(x, digits)


# ColorBrewer sequential scales (6 classes, the palest left out: it would read as the grey of the
# neighbours); hex so that the web page (outputs/html) colours its SVG map the same way.
PALETTES = {
    "Blues": ("#C6DBEF", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C"),
    "Purples": ("#DADAEB", "#BCBDDC", "#9E9AC8", "#756BB1", "#54278F"),
    "Greens": ("#C7E9C0", "#A1D99B", "#74C476", "#31A354", "#006D2C"),
    "Oranges": ("#FDD0A2", "#FDAE6B", "#FD8D3C", "#E6550D", "#A63603"),
}


def class_colours(palette: str, n: int) -> list[str]:
    """``n`` colours (1 to 5) of a palette, light to dark, spread over its range."""
    ramp = PALETTES[palette]
    if n <= 1:
        return [ramp[2]]
    return [ramp[round(i * (len(ramp) - 1) / (n - 1))] for i in range(n)]


def class_of(value: float, breaks: list[float]) -> int:
    """Index of the class holding ``value`` (lower limit included, last class closed)."""
    for i in range(len(breaks) - 2, -1, -1):
        if value >= breaks[i]:
            return i
    return 0


def legend_labels(breaks: list[float], unit: str) -> list[str]:
    decimals = decimals_for(unit)
    # The unit is the legend's title: not repeated on each line.
    if len(breaks) == 2 and math.isclose(breaks[0], breaks[1]):
        return [fr_number(breaks[0], decimals)]
    # Enough decimals for the limits to differ once printed (small shares, e.g. 0,4 to 0,7 %).
    while decimals < 3 and len({fr_number(b, decimals) for b in breaks}) < len(breaks):
        decimals += 1
    return [f"{fr_number(a, decimals)} à {fr_number(b, decimals)}" for a, b in pairwise(breaks)]


# ─── drawing (Pillow: a map is filled polygons, lines and a few words — no plotting library) ───

SUPERSAMPLE = 2  # drawn at twice the size, then reduced: smooth edges without antialiased primitives


@dataclass
class Shape:
    polygons: list  # [[exterior, hole, ...], ...] of (n, 2) arrays in metres
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax


_SHAPES: dict[str, dict[str, Shape | None]] = {}


def _shapes(level: str, codes) -> dict[str, Shape]:
    """Outline per territory code (cached per level; codes without outline absent)."""
    cache = _SHAPES.setdefault(level, {})
    wanted = [c for c in dict.fromkeys(codes) if c not in cache]
    if wanted:
        found = geo.outlines(level, wanted)
        for code in wanted:
            polygons = found.get(code)
            if polygons:
                points = np.concatenate([ring for polygon in polygons for ring in polygon])
                box = (*points.min(axis=0), *points.max(axis=0))
                cache[code] = Shape(polygons, tuple(float(v) for v in box))
            else:
                cache[code] = None
    return {c: cache[c] for c in codes if cache.get(c) is not None}


@functools.lru_cache(maxsize=8)
def _font(size_px: int, bold: bool = False):
    """DejaVu Sans, the font matplotlib ships (found without importing matplotlib)."""
    import importlib.util
    from pathlib import Path

    from PIL import ImageFont

    root = Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0])
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(root / "mpl-data" / "fonts" / "ttf" / name), max(6, size_px))


class _Canvas:
    """Figure fractions (x right, y up, as matplotlib's) and points on a supersampled image."""

    def __init__(self, size_in: tuple[float, float], dpi: int):
        from PIL import Image, ImageDraw

        self.width, self.height = round(size_in[0] * dpi), round(size_in[1] * dpi)
        self.px_per_pt = dpi / 72 * SUPERSAMPLE
        self.image = Image.new("RGB", (self.width * SUPERSAMPLE, self.height * SUPERSAMPLE), "white")
        self.draw = ImageDraw.Draw(self.image)

    def xy(self, fx: float, fy: float) -> tuple[float, float]:
        return fx * self.image.width, (1 - fy) * self.image.height

    def text(self, fx: float, fy: float, text: str, pt: float, colour: str, bold: bool = False, top: bool = True) -> None:
        font = _font(round(pt * self.px_per_pt), bold)
        self.draw.multiline_text(self.xy(fx, fy), text, font=font, fill=colour, anchor="la" if top else "ld",
                                 spacing=round(0.25 * pt * self.px_per_pt))

    def png(self) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        self.image.resize((self.width, self.height), Image.Resampling.LANCZOS).save(buffer, format="PNG")
        return buffer.getvalue()


class _MapLayer:
    """The map's own rectangle: territories projected to pixels, clipped to it."""

    def __init__(self, canvas: _Canvas, rect: tuple[float, float, float, float], frame: tuple[float, float, float, float]):
        from PIL import Image, ImageDraw

        x0, y1 = canvas.xy(rect[0], rect[1])
        x1, y0 = canvas.xy(rect[0] + rect[2], rect[1] + rect[3])
        self.origin = (round(x0), round(y0))
        self.image = Image.new("RGB", (round(x1 - x0), round(y1 - y0)), "white")
        self.draw = ImageDraw.Draw(self.image)
        fx0, fy0, fx1, fy1 = frame
        self.scale = min(self.image.width / max(fx1 - fx0, 1.0), self.image.height / max(fy1 - fy0, 1.0))
        # centred in the rectangle, north up
        self.dx = (self.image.width - (fx1 - fx0) * self.scale) / 2 - fx0 * self.scale
        self.dy = (self.image.height + (fy1 - fy0) * self.scale) / 2 + fy0 * self.scale

    def points(self, ring: np.ndarray) -> list[tuple[float, float]]:
        xs = ring[:, 0] * self.scale + self.dx
        ys = self.dy - ring[:, 1] * self.scale
        return list(zip(xs.tolist(), ys.tolist(), strict=True))

    def fill(self, shape: Shape, colour: str) -> None:
        for polygon in shape.polygons:
            if len(polygon) == 1:
                self.draw.polygon(self.points(polygon[0]), fill=colour)
            else:  # holes (enclaves): through a mask of the polygon
                self.image.paste(colour, (0, 0), self.mask([shape]))

    def mask(self, shapes: list[Shape]):
        """'L' image: 255 inside the shapes (holes left out)."""
        from PIL import Image, ImageDraw

        mask = Image.new("L", self.image.size, 0)
        pen = ImageDraw.Draw(mask)
        for shape in shapes:
            for polygon in shape.polygons:
                pen.polygon(self.points(polygon[0]), fill=255)
                for hole in polygon[1:]:
                    pen.polygon(self.points(hole), fill=0)
        return mask

    def hatch(self, shapes: list[Shape]) -> None:
        """« non calculable »: grey, crossed with diagonal lines, all in one pass."""
        mask = self.mask(shapes)
        self.image.paste(NA_FACE, (0, 0), mask)
        self.image.paste(HATCH, (0, 0), _hatch_mask(self.image.size, mask))

    def outline(self, shape: Shape, colour: str, width: float) -> None:
        for polygon in shape.polygons:
            for ring in polygon:
                points = self.points(ring)
                self.draw.line(points + points[:1], fill=colour, width=max(1, round(width)), joint="curve")

    def paste_into(self, canvas: _Canvas) -> None:
        canvas.image.paste(self.image, self.origin)


HATCH = "#A6A6A6"


def _hatch_mask(size: tuple[int, int], mask):
    """The polygon's mask crossed with diagonal lines (« //// »)."""
    from PIL import Image, ImageChops, ImageDraw

    lines = Image.new("L", size, 0)
    pen = ImageDraw.Draw(lines)
    step = 9 * SUPERSAMPLE
    for x in range(-size[1], size[0], step):
        pen.line([(x, size[1]), (x + size[1], 0)], fill=255, width=SUPERSAMPLE)
    return ImageChops.multiply(lines, mask)


def _frame_of(shapes: list[Shape]) -> tuple[float, float, float, float]:
    boxes = np.array([s.box for s in shapes])
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def draw(spec: MapSpec, size_in: tuple[float, float] = MAP_SIZE_IN, dpi: int = MAP_DPI, subtitle: str = "",
         compact: bool = False) -> MapImage:
    """Render one choropleth to PNG bytes. ``compact``: a thumbnail (the fiche's) with its title
    and legend only — the page that shows it prints the note and the attribution."""
    shapes = _shapes(spec.level, spec.codes + spec.context)
    k = size_in[0] / MAP_SIZE_IN[0] * (1.25 if compact else 1.0)  # fonts and lines follow the width
    breaks = class_breaks(list(spec.values.values()))
    colours = class_colours(spec.palette, max(1, len(breaks) - 1))
    canvas = _Canvas(size_in, dpi)
    line = canvas.px_per_pt
    drawn = [shapes[c] for c in spec.codes if c in shapes]
    context = [shapes[c] for c in spec.context if c in shapes]
    if drawn or context:
        layer = _MapLayer(canvas, (0.0, 0.0, 0.62, 0.76) if compact else (0.02, 0.15, 0.70, 0.70),
                          _frame_of(drawn or context))
        for shape in context:
            layer.fill(shape, CONTEXT_FACE)
        for shape in context:
            layer.outline(shape, "#D9D9D9", 0.3 * k * line)
        edge = (0.4 if len(spec.codes) <= 300 else 0.12) * k * line  # thin borders on a map of many territories
        for code, value in spec.values.items():
            if code in shapes:
                layer.fill(shapes[code], colours[class_of(value, breaks)])
        missing = [shapes[c] for c in spec.missing if c in shapes]
        if missing:
            layer.hatch(missing)
        for shape in drawn:
            layer.outline(shape, EDGE, edge)
        _inset_frames(layer, drawn, 0.4 * k * line)
        for code in spec.highlight:
            if code in shapes:
                layer.outline(shapes[code], INK, 1.2 * k * line)
        _labels(layer, spec, shapes, round(4.5 * k * line))
        layer.paste_into(canvas)
    _legend(canvas, spec, breaks, colours, bool(context), (0.63, 0.76) if compact else (0.73, 0.86), 6.5 * k)
    title = f"{spec.title} ({spec.unit})"
    title = "\n".join(textwrap.wrap(title, 40)[:2]) if compact else textwrap.shorten(title, 62, placeholder="…")
    canvas.text(0.03, 0.965, title, 9 * k, "#1F3864", bold=True)
    note = "" if compact else map_note(spec, shapes)
    if subtitle and not compact:
        canvas.text(0.03, 0.905, textwrap.shorten(subtitle, 85, placeholder="…"), 6.5 * k, GREY)
    if note:
        short = textwrap.shorten(note, 220, placeholder=" … (détail sous la carte)")
        canvas.text(0.03, 0.06, "\n".join(textwrap.wrap(short, 100)[:3]), 5.5 * k, GREY, top=False)
    if not compact:
        canvas.text(0.03, 0.02, CREDIT, 5.5 * k, GREY, top=False)
    return MapImage(spec.indicator, spec.title, canvas.png(), note, canvas.width, canvas.height)


def _legend(canvas: _Canvas, spec: MapSpec, breaks: list[float], colours: list[str], context: bool,
            at: tuple[float, float], pt: float) -> None:
    """Unit, then one swatch per class, « non calculable » (hatched) and « hors périmètre »."""
    rows = [(c, t, False) for c, t in zip(colours, legend_labels(breaks, spec.unit), strict=False)]
    if spec.missing:
        rows.append((NA_FACE, f"{NON_CALCULABLE} ({len(spec.missing)})", True))
    if context:
        rows.append((CONTEXT_FACE, HORS_PERIMETRE, False))
    if not rows:
        return
    from PIL import Image, ImageDraw

    size = pt * canvas.px_per_pt
    x, y = canvas.xy(*at)
    font = _font(round(size))
    canvas.draw.text((x, y), spec.unit, font=font, fill=INK, anchor="la")
    for i, (colour, text, hatched) in enumerate(rows):
        top = y + (i + 1.3) * size * 1.45
        box = (round(x), round(top), round(x + 1.6 * size), round(top + 0.8 * size))
        canvas.draw.rectangle(box, fill=colour, outline="#BFBFBF" if colour in (NA_FACE, CONTEXT_FACE) else None)
        if hatched:
            w, h = box[2] - box[0], box[3] - box[1]
            square = Image.new("L", (w, h), 255)
            canvas.image.paste(HATCH, box[:2], _hatch_mask((w, h), square))
            ImageDraw.Draw(canvas.image).rectangle(box, outline="#A6A6A6")
        canvas.draw.text((x + 2.1 * size, top + 0.4 * size), text, font=font, fill=INK, anchor="lm")


def _inset_frames(layer: _MapLayer, shapes: list[Shape], width: float) -> None:
    """Thin boxes around the DROM insets on a map that also shows metropolitan France."""
    x1, y1 = max(b[2] for b in geo.INSETS.values()), max(b[3] for b in geo.INSETS.values())
    inside = [s.box[2] <= x1 and s.box[3] <= y1 for s in shapes]
    if not (any(inside) and not all(inside)):
        return
    for bx0, by0, bx1, by1 in geo.INSETS.values():
        corners = layer.points(np.array([[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]]))
        layer.draw.line(corners + corners[:1], fill="#BFBFBF", width=max(1, round(width)))


def _labels(layer: _MapLayer, spec: MapSpec, shapes: dict[str, Shape], size_px: int) -> None:
    """Territory names on the map when they are few, on a white box; a name that would cover one
    already written (the larger territories are named first) is left out."""
    drawn = [c for c in spec.codes if c in shapes]
    if len(drawn) > LABELS_MAX:
        return
    font = _font(size_px)
    placed: list[tuple[float, float, float, float]] = []
    width, height = layer.image.size
    for code in sorted(drawn, key=lambda c: -_area(shapes[c])):
        text = textwrap.shorten(spec.names.get(code, code), 22, placeholder="…")
        b = shapes[code].box
        [(x, y)] = layer.points(np.array([[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]]))
        left, top, right, bottom = layer.draw.textbbox((0, 0), text, font=font, anchor="mm")
        half_w, half_h = (right - left) / 2 + size_px * 0.3, (bottom - top) / 2 + size_px * 0.2
        x = min(max(x, half_w), width - half_w)  # inside the map, not cut at its edge
        rect = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(r[0] < rect[2] and rect[0] < r[2] and r[1] < rect[3] and rect[1] < r[3] for r in placed):
            continue
        placed.append(rect)
        layer.draw.rounded_rectangle(rect, radius=size_px * 0.3, fill="#FFFFFF")
        layer.draw.text((x, y), text, font=font, fill=INK, anchor="mm")


def _area(shape: Shape) -> float:
    b = shape.box
    return (b[2] - b[0]) * (b[3] - b[1])


def map_note(spec: MapSpec, shapes: dict | None = None) -> str:
    """In words: how many territories carry a figure, which are not computable and why, which are
    not drawn (no outline)."""
    total = len(spec.codes)
    parts = []
    if spec.missing:
        reasons = Counter(spec.missing.values())
        named = ", ".join(spec.names.get(c, c) for c in list(spec.missing)[:3]) + (" …" if len(spec.missing) > 3 else "")
        why = " ; ".join(f"{r} ({k})" if len(reasons) > 1 else r for r, k in reasons.most_common(2))
        count = len(spec.missing)
        parts.append(f"Non calculable pour {count} territoire{'s' if count > 1 else ''} sur {total} : {named} ({why})")
    if shapes is not None:
        absent = [spec.names.get(c, c) for c in spec.codes if c not in shapes]
        if absent:
            parts.append(f"Sans contour, non dessiné{'s' if len(absent) > 1 else ''} : {', '.join(absent[:3])}"
                         f"{' …' if len(absent) > 3 else ''}")
    return ". ".join(parts) + ("." if parts else "")


def subject_image(data: ReportData, key: str | None, size_in: tuple[float, float], dpi: int,
                  compact: bool = False) -> MapImage | None:
    """The subject's map (subject_spec) drawn once per report and size: the fiche's and the
    slide's PNG and PDF pages reuse it."""
    cache = data.__dict__.setdefault("_subject_maps", {})  # lives and dies with the report's data
    if (key, size_in, dpi, compact) not in cache:
        spec = subject_spec(data, key)
        cache[key, size_in, dpi, compact] = draw(spec, size_in, dpi, _subtitle(data, key), compact) if spec else None
    return cache[key, size_in, dpi, compact]


def place(fig, rect: tuple[float, float, float, float], image: MapImage) -> None:
    """Put a drawn map into a region (figure fractions) of another figure, keeping its proportions."""
    from PIL import Image

    ax = fig.add_axes(rect)
    ax.set_axis_off()
    with Image.open(io.BytesIO(image.png)) as img:
        ax.imshow(np.asarray(img.convert("RGB")), interpolation="antialiased")
    ax.set_anchor("C")


FICHE_RECT = (0.64, 0.185, 0.34, 0.215)  # beside the fiche's bar chart, below the ledgers
FICHE_MAP_IN, FICHE_MAP_DPI = (2.45, 1.55), 150


def fiche_map(fig, data: ReportData, key: str) -> bool:
    """Draw the subject's map on a fiche (compact); False when there is none to draw."""
    image = subject_image(data, key if data.kind not in (TERRITOIRE, ORGANISME) and key != "ensemble" else None,
                          FICHE_MAP_IN, FICHE_MAP_DPI, compact=True)
    if image is None:
        return False
    place(fig, FICHE_RECT, image)
    return True
