"""Choropleth maps of a report's territories (commune, EPCI, département, région), drawn offline
with matplotlib's object API on the Agg canvas, on the embedded outlines (territory/outlines.py).

What a map shows, per scope of the report:
- overview: every territory of the level with results, coloured by class; the territories around
  them in light grey for context;
- one territory: that territory (thick outline) among its neighbours of the same level, each
  with its own figure when the organisations have results there;
- one organisation: the territories where it has results.

Nothing is silent: a territory of the scope whose figure is not computable is hatched and named
« non calculable » in the legend, with the reasons in the map's note; a territory without outline
(collectivités d'outre-mer, communes created since 2018) is named in the note. The attribution of
the outlines is printed under every map. Projected paths are cached per territory, so a report's
maps share the work.

Another drawing of the same maps (the web page's SVG) gets the same figures and classes without
matplotlib: ``map_specs(data)`` (values, reasons, names, neighbours per indicator),
``class_breaks`` / ``class_of`` / ``legend_labels`` (French), ``class_colours`` (hex),
``map_note`` (the missing, in words), ``CREDIT``; outlines from ``territory/outlines.py``.
"""

from __future__ import annotations

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

# The indicators mapped, in order, and their colour scale: the one list to edit. Rates only (a
# choropleth of totals would paint big territories dark whatever they receive).
MAP_INDICATORS: tuple[tuple[str, str], ...] = (
    ("TER-04b", "Blues"),    # investment per inhabitant
    ("SOC-02", "Purples"),   # tenants' gain per household housed
    ("TER-03", "Greens"),    # the organisations' share of the territory's social stock
    ("ENV-01b", "Oranges"),  # DPE F or G share: higher is worse, a warm scale
)
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

def map_specs(data: ReportData, indicators=MAP_INDICATORS) -> list[MapSpec]:
    """One spec per mapped indicator of the report (none at FRANCE level: one territory)."""
    if data.level not in geo.LEVELS or data.year is None:
        return []
    rows = _scope_rows(data)
    specs = []
    for code, palette in indicators:
        ind = data.referentiel.by_code.get(code)
        mine = [r for r in rows if r["indicateur"] == code]
        if ind is None or not mine:
            continue
        values = {r["code_territoire"]: r["valeur"] for r in mine if r["statut"] == CALCULE and r["valeur"] is not None}
        missing = {r["code_territoire"]: (r.get("motif") or NON_CALCULABLE) for r in mine if r["code_territoire"] not in values}
        names = {r["code_territoire"]: r["nom_territoire"] or r["code_territoire"] for r in mine}
        highlight = (data.scope.code,) if data.kind == TERRITOIRE else ()
        specs.append(MapSpec(data.level, code, ind.libelle, ind.unite, values, missing, names, palette, highlight))
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
    codes = [c for c, _ in MAP_INDICATORS]
    return (
        data.inputs.computation.results.lazy()
        .filter(pl.col("siren").is_null() & (pl.col("exercice") == data.year)
                & pl.col("code_territoire").is_in(sorted(around)) & pl.col("indicateur").is_in(codes))
        .collect().to_dicts()
    )


def report_maps(data: ReportData, size_in: tuple[float, float] = MAP_SIZE_IN, dpi: int = MAP_DPI,
                indicators=MAP_INDICATORS) -> list[MapImage]:
    """The report's maps as PNG images (see map_specs)."""
    return [draw(spec, size_in, dpi, subtitle=_subtitle(data)) for spec in map_specs(data, indicators)]


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


# ─── drawing ───

_PATHS: dict[str, dict[str, object]] = {}


def _paths(level: str, codes) -> dict:
    """matplotlib Path per territory code (cached per level; codes without outline absent)."""
    from matplotlib.path import Path

    cache = _PATHS.setdefault(level, {})
    wanted = [c for c in dict.fromkeys(codes) if c not in cache]
    if wanted:
        found = geo.outlines(level, wanted)
        for code in wanted:
            cache[code] = _to_path(found[code], Path) if code in found else None
    return {c: cache[c] for c in codes if cache.get(c) is not None}


def _to_path(polygons, Path):
    """One compound path: exteriors counter-clockwise, holes clockwise (non-zero fill)."""
    verts, kinds = [], []
    for polygon in polygons:
        for k, ring in enumerate(polygon):
            area = 0.5 * float(np.dot(ring[:-1, 0], ring[1:, 1]) - np.dot(ring[1:, 0], ring[:-1, 1])
                               + ring[-1, 0] * ring[0, 1] - ring[0, 0] * ring[-1, 1])
            if (area > 0) == (k > 0):
                ring = ring[::-1]
            verts.append(np.vstack([ring, ring[:1]]))
            kinds.append([Path.MOVETO] + [Path.LINETO] * (len(ring) - 1) + [Path.CLOSEPOLY])
    return Path(np.concatenate(verts), np.concatenate(kinds).astype(Path.code_type))


def _label_point(path) -> tuple[float, float]:
    """Centre of the bounding box of the largest ring: good enough for a name on a compact shape."""
    ext = path.get_extents()
    return (ext.x0 + ext.x1) / 2, (ext.y0 + ext.y1) / 2


def draw(spec: MapSpec, size_in: tuple[float, float] = MAP_SIZE_IN, dpi: int = MAP_DPI, subtitle: str = "",
         compact: bool = False) -> MapImage:
    """Render one choropleth to PNG bytes. ``compact``: a thumbnail (the fiche's) with its title
    and legend only — the page that shows it prints the note and the attribution."""
    import matplotlib
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    paths = _paths(spec.level, spec.codes + spec.context)
    k = size_in[0] / MAP_SIZE_IN[0] * (1.25 if compact else 1.0)  # fonts and lines follow the width
    breaks = class_breaks(list(spec.values.values()))
    n = max(1, len(breaks) - 1)
    colours = class_colours(spec.palette, n)
    fig = Figure(figsize=size_in, facecolor="white")
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "hatch.color": "#A6A6A6", "hatch.linewidth": 0.6}):
        ax = fig.add_axes((0.0, 0.0, 0.62, 0.76) if compact else (0.02, 0.15, 0.70, 0.72))
        ax.set_axis_off()
        ax.set_aspect("equal")
        context = [paths[c] for c in spec.context if c in paths]
        if context:
            ax.add_collection(PathCollection(context, facecolors=CONTEXT_FACE, edgecolors="#D9D9D9", linewidths=0.3 * k))
        edge = (0.4 if len(spec.codes) <= 300 else 0.12) * k  # thin borders on a map of many territories
        coloured = [(paths[c], colours[class_of(v, breaks)]) for c, v in spec.values.items() if c in paths]
        if coloured:
            ax.add_collection(PathCollection([p for p, _ in coloured], facecolors=[f for _, f in coloured],
                                             edgecolors=EDGE, linewidths=edge))
        hatched = [paths[c] for c in spec.missing if c in paths]
        if hatched:
            ax.add_collection(PathCollection(hatched, facecolors=NA_FACE, edgecolors=EDGE, linewidths=edge, hatch="////"))
        _inset_frames(ax, [paths[c] for c in spec.codes if c in paths], k)
        outlined = [paths[c] for c in spec.highlight if c in paths]
        if outlined:
            ax.add_collection(PathCollection(outlined, facecolors="none", edgecolors=INK, linewidths=1.2 * k))
        _frame(ax, [paths[c] for c in spec.codes if c in paths] or context)
        _labels(ax, spec, paths, k, size_in)
        handles = [Patch(facecolor=c, edgecolor="none", label=t) for c, t in zip(colours, legend_labels(breaks, spec.unit), strict=False)]
        if spec.missing:
            handles.append(Patch(facecolor=NA_FACE, edgecolor="#A6A6A6", hatch="////", label=f"{NON_CALCULABLE} ({len(spec.missing)})"))
        if context:
            handles.append(Patch(facecolor=CONTEXT_FACE, edgecolor="#BFBFBF", label=HORS_PERIMETRE))
        if handles:
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.63 if compact else 0.73, 0.76 if compact else 0.86), fontsize=6.5 * k, frameon=False,
                       handlelength=1.4, title=spec.unit, title_fontsize=6.5 * k, alignment="left")
        title = f"{spec.title} ({spec.unit})"
        title = "\n".join(textwrap.wrap(title, 40)[:2]) if compact else textwrap.shorten(title, 62, placeholder="…")
        fig.text(0.03, 0.965, title, fontsize=9 * k,
                 fontweight="bold", color="#1F3864", va="top")
        note = map_note(spec, paths)
        if compact:
            subtitle = note = ""
        if subtitle:
            fig.text(0.03, 0.905, textwrap.shorten(subtitle, 85, placeholder="…"), fontsize=6.5 * k, color=GREY, va="top")
        if note:
            short = textwrap.shorten(note, 220, placeholder=" … (détail sous la carte)")
            fig.text(0.03, 0.06, "\n".join(textwrap.wrap(short, 100)[:3]), fontsize=5.5 * k, color=GREY, va="bottom")
        if not compact:
            fig.text(0.03, 0.02, CREDIT, fontsize=5.5 * k, color=GREY, va="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    width, height = round(size_in[0] * dpi), round(size_in[1] * dpi)
    return MapImage(spec.indicator, spec.title, buffer.getvalue(), note, width, height)


def _inset_frames(ax, paths: list, k: float) -> None:
    """Thin boxes around the DROM insets on a map that also shows metropolitan France."""
    from matplotlib.patches import Rectangle

    x1, y1 = max(b[2] for b in geo.INSETS.values()), max(b[3] for b in geo.INSETS.values())
    inside = [p.get_extents().x1 <= x1 and p.get_extents().y1 <= y1 for p in paths]
    if not (any(inside) and not all(inside)):
        return
    for bx0, by0, bx1, by1 in geo.INSETS.values():
        ax.add_patch(Rectangle((bx0, by0), bx1 - bx0, by1 - by0, facecolor="none", edgecolor="#BFBFBF", linewidth=0.4 * k))


def _frame(ax, paths: list) -> None:
    if not paths:
        return
    boxes = np.array([p.get_extents().bounds for p in paths])  # x0, y0, w, h
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)


def _labels(ax, spec: MapSpec, paths: dict, k: float, size_in: tuple[float, float]) -> None:
    """Territory names on the map when they are few, on a light box; a name that would cover
    one already written (the larger territories are named first) is left out."""
    drawn = [c for c in spec.codes if c in paths]
    if len(drawn) > LABELS_MAX:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bbox = ax.get_position()  # the axes in figure fractions; aspect 'equal' keeps the larger scale
    per_point = max((x1 - x0) / (bbox.width * size_in[0] * 72), (y1 - y0) / (bbox.height * size_in[1] * 72))
    size = 4.5 * k
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
    placed: list[tuple[float, float, float, float]] = []
    for code in sorted(drawn, key=lambda c: -_area(paths[c])):
        text = textwrap.shorten(spec.names.get(code, code), 22, placeholder="…")
        x, y = _label_point(paths[code])
        half_w, half_h = 0.3 * size * len(text) * per_point, 0.75 * size * per_point
        x = min(max(x, x0 + half_w), x1 - half_w)  # inside the map, not cut at the image's edge
        rect = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(r[0] < rect[2] and rect[0] < r[2] and r[1] < rect[3] and rect[1] < r[3] for r in placed):
            continue
        placed.append(rect)
        ax.text(x, y, text, fontsize=size, color=INK, ha="center", va="center", bbox=box)


def _area(path) -> float:
    ext = path.get_extents()
    return ext.width * ext.height


def map_note(spec: MapSpec, paths: dict | None = None) -> str:
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
    if paths is not None:
        absent = [spec.names.get(c, c) for c in spec.codes if c not in paths]
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
