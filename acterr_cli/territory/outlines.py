"""Outlines of the territories for maps: communes, EPCI, départements, régions (COG 2026).

Embedded in the package (``contours/``, about 4 MB for the four levels), built by
``build_outlines.py`` (``make reference``) from IGN Admin Express COG 2018: the communes merged
since 2018 are dissolved into their 2026 commune, then into EPCI, départements and régions;
each level is simplified as a coverage, so that neighbours share the same edge. Paris, Lyon and
Marseille are single communes. Reading needs only Polars and numpy (no shapely at run time).

Coordinates are projected, in metres: Lambert-93 (EPSG:2154, x east, y north) for metropolitan
France. The five DROM (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion, 976 Mayotte)
are drawn in insets in the Bay of Biscay (``INSETS``: one box per DROM in the same plane), at
their true scale except Guyane (scale in ``metadata()["encarts"]``). So any selection of
territories draws in one plane with no special case; a map of one DROM alone is just a zoom.

API::

    from acterr_cli.territory import outlines

    shapes = outlines.outlines("EPCI", ["244900015"])   # {code: [polygon, ...]}
    for polygon in shapes["244900015"]:                  # a polygon = [exterior, hole, ...]
        exterior = polygon[0]                            # numpy array (n, 2) of float x, y (m)
    outlines.bounds("EPCI", ["244900015"])               # (xmin, ymin, xmax, ymax) of them all
    outlines.neighbours("EPCI", ["244900015"])           # codes of the same level around them
    outlines.svg_path(shapes["244900015"], frame, 800)   # "M… Z" path data for an <svg>
    outlines.ATTRIBUTION                                  # print it under every map

- ``outlines(level, codes=None)``: ``level`` is one of ``LEVELS`` ('COMMUNE', 'EPCI',
  'DEPARTEMENT', 'REGION'); ``codes`` the territory codes wanted (INSEE code, EPCI SIREN;
  ``None`` for all). A code without outline is absent from the result: a code unknown to
  the COG, a collectivité d'outre-mer (not drawn), or one of the 7 communes restored or
  created since 2018 (``metadata()["communes_sans_contour"]``: their 2018 outline is inside a
  neighbour's). Callers say so on the map rather than drop them silently. Rings are open: the
  last point is not a copy of the first (close them, ``Z`` in SVG). Exterior rings and holes
  follow no particular orientation: fill with the even-odd rule.
- ``bounds(level, codes=None)``: the bounding box of the selection (``None`` if nothing).
- ``neighbours(level, codes, margin=0.15)``: the other territories of the level whose box
  meets the selection's box enlarged by ``margin`` of its size (context around a map); the
  DROM insets only when the selection is itself in a DROM, and vice versa.
- ``svg_path(polygons, frame, width)``: SVG path data for a ``viewBox="0 0 width height"``
  where ``frame`` is the (xmin, ymin, xmax, ymax) box drawn and ``height`` is
  ``svg_height(frame, width)``; y is flipped (SVG's y goes down), coordinates rounded to 0.1.
- ``ATTRIBUTION``: « IGN – Admin Express 2018 » (Licence Ouverte): print it with each map.
"""

from __future__ import annotations

import functools
import io
import json
from importlib.resources import files

import numpy as np
import polars as pl

ATTRIBUTION = "IGN – Admin Express 2018"
LICENCE = "Licence Ouverte"
LEVELS = ("COMMUNE", "EPCI", "DEPARTEMENT", "REGION")
FORMAT = 1
# DROM inset boxes (xmin, ymin, xmax, ymax) in Lambert-93 metres, in the Bay of Biscay west of the
# Landes coast where the metropolitan map is empty; the build (build_outlines.py) places them there.
INSETS = {
    "971": (40_000.0, 6_390_000.0, 160_000.0, 6_510_000.0),
    "972": (170_000.0, 6_390_000.0, 290_000.0, 6_510_000.0),
    "973": (40_000.0, 6_260_000.0, 160_000.0, 6_380_000.0),
    "974": (170_000.0, 6_260_000.0, 290_000.0, 6_380_000.0),
    "976": (40_000.0, 6_130_000.0, 160_000.0, 6_250_000.0),
}
_INSETS_BOX = (min(b[0] for b in INSETS.values()), min(b[1] for b in INSETS.values()),
               max(b[2] for b in INSETS.values()), max(b[3] for b in INSETS.values()))

Polygon = list[np.ndarray]  # exterior ring then holes, each (n, 2) float64 metres


def _check_level(level: str) -> str:
    name = str(level).upper()
    if name not in LEVELS:
        raise ValueError(f"Pas de contours pour le niveau {level!r} (attendu : {', '.join(LEVELS)}).")
    return name


def _read(name: str) -> bytes:
    return (files("acterr_cli.territory") / "contours" / name).read_bytes()


@functools.lru_cache(maxsize=1)
def metadata() -> dict:
    """``contours.json``: source, SHA-256, projection, tolerances, insets, counts per level."""
    meta = json.loads(_read("contours.json").decode("utf-8"))
    if meta.get("format") != FORMAT:
        raise RuntimeError(f"Contours embarqués de format {meta.get('format')} : acterr attend {FORMAT}.")
    return meta


@functools.lru_cache(maxsize=len(LEVELS))
def _frame(level: str) -> pl.DataFrame:
    """The level's rings (code, polygone, anneau, dx, dy) as stored, plus each ring's box."""
    metadata()
    frame = pl.read_parquet(io.BytesIO(_read(f"contours_{level.lower()}.parquet")))
    unit = float(metadata()["unite_m"])
    xs, ys = pl.col("dx").list.eval(pl.element().cum_sum()), pl.col("dy").list.eval(pl.element().cum_sum())
    return frame.with_columns(
        xmin=xs.list.min() * unit, xmax=xs.list.max() * unit,
        ymin=ys.list.min() * unit, ymax=ys.list.max() * unit,
    )


@functools.lru_cache(maxsize=len(LEVELS))
def _boxes(level: str) -> pl.DataFrame:
    """One bounding box per territory of the level, and whether it lies in a DROM inset."""
    inset = ((pl.col("xmax") <= _INSETS_BOX[2]) & (pl.col("ymax") <= _INSETS_BOX[3]))
    return (
        _frame(level).group_by("code", maintain_order=True)
        .agg(pl.min("xmin"), pl.min("ymin"), pl.max("xmax"), pl.max("ymax"))
        .with_columns(encart=inset)
    )


def _select(frame: pl.DataFrame, codes) -> pl.DataFrame:
    if codes is None:
        return frame
    return frame.filter(pl.col("code").is_in(pl.Series([str(c) for c in codes], dtype=pl.Utf8).implode()))


def outlines(level: str, codes=None) -> dict[str, list[Polygon]]:
    """{code: [polygon, ...]} for the codes of ``level`` that have an outline (see module doc)."""
    rows = _select(_frame(_check_level(level)), codes)
    if rows.is_empty():
        return {}
    unit = float(metadata()["unite_m"])
    lengths = rows["dx"].list.len().to_numpy()
    dx = rows["dx"].explode().to_numpy().astype(np.int64)
    dy = rows["dy"].explode().to_numpy().astype(np.int64)
    # Each ring's first delta is absolute: a running sum restarted at every ring start.
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    x, y = np.cumsum(dx), np.cumsum(dy)
    base_x = np.where(starts > 0, x[starts - 1], 0)
    base_y = np.where(starts > 0, y[starts - 1], 0)
    result: dict[str, list[Polygon]] = {}
    for i, (code, ring) in enumerate(rows.select("code", "anneau").iter_rows()):
        s, n = starts[i], lengths[i]
        points = np.column_stack([x[s:s + n] - base_x[i], y[s:s + n] - base_y[i]]) * unit
        polygons = result.setdefault(code, [])
        if ring == 0:
            polygons.append([points])
        else:  # rows are stored in order: a hole follows its exterior ring
            polygons[-1].append(points)
    return result


def bounds(level: str, codes=None) -> tuple[float, float, float, float] | None:
    """(xmin, ymin, xmax, ymax) in metres of the selected territories, None if none is drawn."""
    boxes = _select(_boxes(_check_level(level)), codes)
    if boxes.is_empty():
        return None
    return (boxes["xmin"].min(), boxes["ymin"].min(), boxes["xmax"].max(), boxes["ymax"].max())


def neighbours(level: str, codes, margin: float = 0.15) -> list[str]:
    """Other territories of ``level`` around the selection (context drawn in grey on a map)."""
    level = _check_level(level)
    wanted = {str(c) for c in codes}
    selection = _select(_boxes(level), wanted)
    if selection.is_empty():
        return []
    xmin, ymin, xmax, ymax = bounds(level, wanted)
    pad = margin * max(xmax - xmin, ymax - ymin)
    in_inset = bool(selection["encart"].all())
    around = _boxes(level).filter(
        (pl.col("xmax") >= xmin - pad) & (pl.col("xmin") <= xmax + pad)
        & (pl.col("ymax") >= ymin - pad) & (pl.col("ymin") <= ymax + pad)
        & (pl.col("encart") == in_inset)
        & ~pl.col("code").is_in(pl.Series(sorted(wanted), dtype=pl.Utf8).implode())
    )
    return around["code"].to_list()


def svg_height(frame: tuple[float, float, float, float], width: float) -> float:
    """Height of a drawing ``width`` wide showing ``frame`` at the same scale on both axes."""
    xmin, ymin, xmax, ymax = frame
    return round(width * (ymax - ymin) / max(xmax - xmin, 1.0), 1)


def svg_path(polygons: list[Polygon], frame: tuple[float, float, float, float], width: float) -> str:
    """SVG path data (``d``) of polygons in a ``0 0 width svg_height(frame, width)`` viewBox."""
    xmin, _, xmax, ymax = frame
    scale = width / max(xmax - xmin, 1.0)
    parts = []
    for polygon in polygons:
        for ring in polygon:
            px = np.round((ring[:, 0] - xmin) * scale, 1)
            py = np.round((ymax - ring[:, 1]) * scale, 1)
            coords = " ".join(f"{a:g},{b:g}" for a, b in zip(px, py, strict=True))
            parts.append(f"M{coords}Z")
    return "".join(parts)
