"""Build the embedded outlines (communes, EPCI, départements, régions) from IGN Admin Express 2018.

Maintainers only: called by ``build.py`` (``make reference``); needs shapely (``dev`` extra),
which acterr never imports at run time (``outlines.py`` reads the files with Polars and numpy).

Steps, all deterministic (same tarball, same bytes):

1. read the 35 357 commune outlines of 2018 (gregoiredavid/france-geojson, WGS84) from the
   tarball in place;
2. project them: Lambert-93 (EPSG:2154, formulas of IGN's note ALG0019 on GRS80) for
   metropolitan France; a local equirectangular projection in metres for each DROM;
3. dissolve each 2018 commune into its 2026 commune (a current code is itself; an old code goes
   where the COG history sends it, ``correspondances``), then the 2026 communes into EPCI,
   départements and régions (memberships of the embedded reference);
4. simplify each level as a coverage (``shapely.coverage_simplify``): neighbours keep one shared
   edge, so no gap or overlap appears between them;
5. move each DROM, scaled to fit, into an inset box in the sea west of the Landes (``INSETS``),
   so that every level draws in one plane;
6. write one Parquet file per level: one row per ring, coordinates in decametres delta-encoded
   (small integers compress well), the exterior ring first.
"""

from __future__ import annotations

import hashlib
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import polars as pl

from acterr_cli.territory.outlines import INSETS  # the DROM inset boxes, declared where they are read

OUTLINES_TARBALL = "france-geojson-2018.tgz"
ATTRIBUTION = "IGN – Admin Express 2018"
FORMAT = 1  # outlines.py checks it
UNIT = 10  # metres per stored unit: far below the simplification tolerances
# Simplification tolerance (metres) per level: a commune map shows one EPCI or département,
# a région map the whole of France; chosen so that all levels stay well under 5 MB together.
TOLERANCES = {"COMMUNE": 200.0, "EPCI": 350.0, "DEPARTEMENT": 700.0, "REGION": 1200.0}
FILES = {level: f"contours_{level.lower()}.parquet" for level in TOLERANCES}

INSET_MARGIN = 8_000.0

# GRS80 and the Lambert-93 constants (IGN, ALG0019 / EPSG:2154).
_E = 0.0818191910428158
_N = 0.7256077650532670
_C = 11_754_255.426096
_XS, _YS = 700_000.0, 12_655_612.049876
_LON0 = math.radians(3.0)
_A = 6_378_137.0


def lambert93(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → Lambert-93 metres (RGF93 and WGS84 differ by less than a metre)."""
    phi = np.radians(lat)
    esin = _E * np.sin(phi)
    iso = np.log(np.tan(np.pi / 4 + phi / 2) * ((1 - esin) / (1 + esin)) ** (_E / 2))
    r = _C * np.exp(-_N * iso)
    gamma = _N * (np.radians(lon) - _LON0)
    return _XS + r * np.sin(gamma), _YS - r * np.cos(gamma)


def equirectangular(lon0: float, lat0: float):
    """Local projection in metres for a DROM (at most a few hundred km across: < 1 % off)."""
    phi0 = math.radians(lat0)
    # Radii of curvature of the ellipsoid at the centre.
    w = math.sqrt(1 - (_E * math.sin(phi0)) ** 2)
    east = _A / w * math.cos(phi0)
    north = _A * (1 - _E**2) / w**3

    def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.radians(lon - lon0) * east, np.radians(lat - lat0) * north

    return project


def read_communes_2018(path: Path) -> list[tuple[str, str, dict]]:
    """(département folder code, commune code 2018, GeoJSON geometry) of every commune."""
    rows = []
    with tarfile.open(path, "r:gz") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/")
            if len(parts) != 4 or parts[1] != "departements" or not parts[3].startswith("communes-"):
                continue
            dep = parts[2].split("-", 1)[0]
            for feature in json.load(tar.extractfile(member))["features"]:
                rows.append((dep, feature["properties"]["code"], feature["geometry"]))
    return rows


def _project_geometry(geometry: dict, project):
    import shapely

    def ring(coords):
        arr = np.asarray(coords, dtype=float)
        x, y = project(arr[:, 0], arr[:, 1])
        return np.column_stack([x, y])

    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    shapes = [shapely.Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons]
    return shapely.make_valid(shapely.MultiPolygon(shapes) if len(shapes) > 1 else shapes[0])


def projected_communes(rows: list[tuple[str, str, dict]]) -> dict[str, tuple[str, object]]:
    """code 2018 → (département folder, projected shapely geometry)."""
    import shapely

    projections = {}
    for dep in INSETS:
        lons, lats = [], []
        for d, _, g in rows:
            if d == dep:
                polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
                for p in polys:
                    arr = np.asarray(p[0])
                    lons.append(arr[:, 0])
                    lats.append(arr[:, 1])
        if not lons:
            continue
        lon, lat = np.concatenate(lons), np.concatenate(lats)
        projections[dep] = equirectangular((lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2)
    out = {}
    for dep, code, geometry in rows:
        geom = _project_geometry(geometry, projections.get(dep, lambert93))
        out[code] = (dep, shapely.set_precision(geom, 1.0))
    return out


def dissolve(geoms: dict[str, object], key: dict[str, str]) -> dict[str, object]:
    """Union of the geometries sharing a key (codes without a key are left out)."""
    import shapely

    groups: dict[str, list] = {}
    for code in sorted(geoms):
        if key.get(code) is not None:
            groups.setdefault(key[code], []).append(geoms[code])
    return {k: (v[0] if len(v) == 1 else shapely.union_all(v, grid_size=1.0))
            for k, v in sorted(groups.items())}


def simplify(geoms: dict[str, object], tolerance: float) -> dict[str, object]:
    """Coverage simplification: shared edges simplified once, identically for both sides."""
    import shapely

    codes = list(geoms)
    simplified = shapely.coverage_simplify(np.array([geoms[c] for c in codes]), tolerance)
    return dict(zip(codes, simplified, strict=True))


def inset_transforms(geoms: dict[str, object], drom_of: dict[str, str]) -> dict[str, tuple]:
    """Per DROM: (scale, dx, dy) putting its communes' extent centred in its inset box."""
    import shapely

    transforms = {}
    for dep, (x0, y0, x1, y1) in INSETS.items():
        parts = [g for c, g in geoms.items() if drom_of.get(c) == dep]
        if not parts:
            continue
        gx0, gy0, gx1, gy1 = shapely.total_bounds(np.array(parts))
        room = min(x1 - x0, y1 - y0) - 2 * INSET_MARGIN
        scale = min(1.0, room / max(gx1 - gx0, gy1 - gy0))
        dx = (x0 + x1) / 2 - scale * (gx0 + gx1) / 2
        dy = (y0 + y1) / 2 - scale * (gy0 + gy1) / 2
        transforms[dep] = (scale, dx, dy)
    return transforms


def _rings(geom) -> list[tuple[int, int, np.ndarray]]:
    """(polygon index, ring index, quantized open ring) with repeated points removed."""
    import shapely

    out = []
    polygons = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    for i, polygon in enumerate(polygons):
        for j, ring in enumerate([polygon.exterior, *polygon.interiors]):
            q = np.round(np.asarray(ring.coords) / UNIT).astype(np.int64)
            keep = np.ones(len(q), dtype=bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)
            q = q[keep]
            if len(q) > 1 and (q[0] == q[-1]).all():
                q = q[:-1]
            if len(q) >= 3:
                out.append((i, j, q))
            elif j == 0:  # exterior collapsed at this precision: drop its holes too
                break
    return out


def level_frame(geoms: dict[str, object], drom_of: dict[str, str],
                transforms: dict[str, tuple]) -> pl.DataFrame:
    codes, polys, rings, xs, ys = [], [], [], [], []
    for code, geom in geoms.items():
        transform = transforms.get(drom_of.get(code))
        if transform is not None:
            import shapely

            scale, dx, dy = transform
            geom = shapely.transform(geom, lambda c, s=scale, a=dx, b=dy: c * s + (a, b))
        for i, j, q in _rings(geom):
            codes.append(code)
            polys.append(i)
            rings.append(j)
            d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
            xs.append(d[:, 0].tolist())
            ys.append(d[:, 1].tolist())
    return pl.DataFrame(
        {"code": codes, "polygone": polys, "anneau": rings, "dx": xs, "dy": ys},
        schema={"code": pl.Utf8, "polygone": pl.UInt16, "anneau": pl.UInt16,
                "dx": pl.List(pl.Int32), "dy": pl.List(pl.Int32)},
    )


def build_outlines(source: Path, sortie: Path, communes: pl.DataFrame,
                   correspondances: pl.DataFrame) -> dict:
    """Write the four level files and ``contours.json`` into ``sortie``; return that metadata."""
    path = source / OUTLINES_TARBALL
    rows = read_communes_2018(path)
    projected = projected_communes(rows)
    current = set(communes["code"].to_list())
    moved = dict(zip(correspondances["code_saisi"], correspondances["commune"], strict=True))
    to_2026 = {c: (c if c in current else moved.get(c)) for c in projected}
    unknown = sorted(c for c, k in to_2026.items() if k is None)
    level_keys = {
        "EPCI": dict(zip(communes["code"], communes["epci"], strict=True)),
        "DEPARTEMENT": dict(zip(communes["code"], communes["departement"], strict=True)),
        "REGION": dict(zip(communes["code"], communes["region"], strict=True)),
    }
    drom_dep = {c: d for c, d in zip(communes["code"], communes["departement"], strict=True)
                if d in INSETS}
    geoms = {"COMMUNE": dissolve({c: g for c, (_, g) in projected.items()}, to_2026)}
    for level, key in level_keys.items():
        geoms[level] = dissolve(geoms["COMMUNE"], key)
    # Which DROM each territory lies in (every DROM is its own région and its EPCI stay inside).
    drom_of = {"COMMUNE": drom_dep}
    drom_of["EPCI"] = {level_keys["EPCI"][c]: d for c, d in drom_dep.items() if level_keys["EPCI"][c]}
    drom_of["DEPARTEMENT"] = {d: d for d in INSETS}
    drom_of["REGION"] = {level_keys["REGION"][c]: d for c, d in drom_dep.items()}
    transforms = inset_transforms(geoms["COMMUNE"], drom_dep)
    sortie.mkdir(parents=True, exist_ok=True)
    counts = {}
    for level, tolerance in TOLERANCES.items():
        frame = level_frame(simplify(geoms[level], tolerance), drom_of[level], transforms)
        frame.write_parquet(sortie / FILES[level], compression="zstd", compression_level=19,
                            statistics=False)
        counts[level] = {"territoires": frame["code"].n_unique(), "anneaux": frame.height,
                         "points": int(frame["dx"].list.len().sum()),
                         "octets": (sortie / FILES[level]).stat().st_size}
    without = sorted(current - set(geoms["COMMUNE"]))
    meta = {
        "format": FORMAT,
        "source": "IGN Admin Express COG 2018, via gregoiredavid/france-geojson (Licence Ouverte)",
        "attribution": ATTRIBUTION,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "projection": "Lambert-93 (EPSG:2154) ; DROM : projection équirectangulaire locale, "
                      "mise à l'échelle et placée dans un encart (voir encarts)",
        "unite_m": UNIT,
        "tolerances_m": TOLERANCES,
        "encarts": {d: {"boite": list(INSETS[d]), "echelle": round(t[0], 6)}
                    for d, t in transforms.items()},
        "communes_2018": len(projected),
        "codes_2018_inconnus": unknown,
        # Communes created or restored after 2018 have no outline of their own in 2018.
        "communes_sans_contour": [c for c in without
                                  if communes.filter(pl.col("code") == c)["zone"].item() != "com"],
        "niveaux": counts,
    }
    (sortie / "contours.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    return meta
