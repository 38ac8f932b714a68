"""Embedded map outlines (territory/outlines.py) and their build (territory/build_outlines.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.path import Path as MplPath

from acterr_cli.territory import outlines
from acterr_cli.territory.reference import TerritorialReference

SHARED = Path(os.environ.get("ACTERR_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))
CONTOURS = Path(outlines.__file__).parent / "contours"
TARBALL = SHARED / "france-geojson-2018.tgz"


def _inside(polygons, x: float, y: float) -> bool:
    """Even-odd point in polygon over every ring of a territory."""
    hits = sum(MplPath(ring).contains_point((x, y)) for polygon in polygons for ring in polygon)
    return hits % 2 == 1


def test_embedded_outlines_are_small_and_cover_every_level():
    total = sum(f.stat().st_size for f in CONTOURS.iterdir())
    assert total <= 5_000_000
    meta = outlines.metadata()
    assert meta["attribution"] == outlines.ATTRIBUTION == "IGN – Admin Express 2018"
    assert meta["codes_2018_inconnus"] == []
    ref = TerritorialReference.load()
    drawn = {level: set(outlines.outlines(level)) for level in outlines.LEVELS}
    # Every EPCI, every département and région of France (metro + DROM) has its outline.
    assert drawn["EPCI"] == set(ref.epci["code"])
    france = ref.communes.filter(pl.col("zone").is_in(["metro", "drom"]))
    assert drawn["DEPARTEMENT"] == set(france["departement"])
    assert drawn["REGION"] == set(france["region"])
    # Communes: all of France but the few created or restored since 2018, which are listed.
    missing = set(france["code"]) - drawn["COMMUNE"]
    assert missing == set(meta["communes_sans_contour"]) and len(missing) < 10
    # Paris, Lyon, Marseille are communes, not arrondissements.
    assert {"75056", "69123", "13055"} <= drawn["COMMUNE"]


def test_rings_are_projected_open_and_in_lambert93():
    paris = outlines.outlines("COMMUNE", ["75056"])["75056"]
    ring = paris[0][0]
    assert ring.shape[1] == 2 and not (ring[0] == ring[-1]).all()
    # Notre-Dame de Paris in Lambert-93 (IGN): x ≈ 652 400, y ≈ 6 861 900.
    assert _inside(paris, 652_400, 6_861_900)
    assert not _inside(paris, 640_000, 6_861_900)


@pytest.mark.skipif(not TARBALL.exists(), reason="contours IGN 2018 partagés absents")
def test_commune_merged_since_2018_lands_in_its_2026_commune_and_epci():
    """Saint-Jean-de-Linières (49289) merged into Saint-Léger-de-Linières (49298) in 2019,
    in Angers Loire Métropole (244900015): a point inside its 2018 outline is inside both."""
    from acterr_cli.territory.build_outlines import lambert93

    with tarfile.open(TARBALL) as tar:
        member = "france-geojson-2018/departements/49-maine-et-loire/communes-49-maine-et-loire.geojson"
        features = json.load(tar.extractfile(member))["features"]
    old = next(f for f in features if f["properties"]["code"] == "49289")
    ring = np.asarray(old["geometry"]["coordinates"][0])
    # A point well inside the old commune: its centroid (the commune is compact).
    x, y = lambert93(np.array([ring[:, 0].mean()]), np.array([ring[:, 1].mean()]))
    assert "49289" not in outlines.outlines("COMMUNE", ["49289"])  # no longer a commune
    commune = outlines.outlines("COMMUNE", ["49298"])["49298"]
    assert _inside(commune, x[0], y[0])
    epci = outlines.outlines("EPCI", ["244900015"])["244900015"]
    assert _inside(epci, x[0], y[0])
    assert _inside(outlines.outlines("DEPARTEMENT", ["49"])["49"], x[0], y[0])
    assert _inside(outlines.outlines("REGION", ["52"])["52"], x[0], y[0])
    # The neighbouring EPCI does not claim it.
    for code, polygons in outlines.outlines("EPCI", outlines.neighbours("EPCI", ["244900015"])).items():
        assert not _inside(polygons, x[0], y[0]), code


def test_drom_in_insets_and_neighbours_stay_in_their_plane():
    reunion = outlines.bounds("DEPARTEMENT", ["974"])
    box = outlines.INSETS["974"]
    assert box[0] <= reunion[0] and reunion[2] <= box[2] and box[1] <= reunion[1] and reunion[3] <= box[3]
    assert "976" not in outlines.neighbours("DEPARTEMENT", ["64"])
    around_toulouse = outlines.neighbours("DEPARTEMENT", ["31"])
    assert {"32", "81", "82", "09", "11", "65"} <= set(around_toulouse)
    assert "31" not in around_toulouse


def test_svg_path_flips_y_and_fits_the_width():
    frame = outlines.bounds("DEPARTEMENT", ["31"])
    d = outlines.svg_path(outlines.outlines("DEPARTEMENT", ["31"])["31"], frame, 400)
    numbers = [float(v) for part in d.replace("M", " ").replace("Z", " ").split() for v in part.split(",")]
    xs, ys = numbers[0::2], numbers[1::2]
    assert min(xs) == 0 and max(xs) == 400
    assert min(ys) == 0 and max(ys) == pytest.approx(outlines.svg_height(frame, 400), abs=0.1)


def test_unknown_level_is_refused_in_french():
    with pytest.raises(ValueError, match="Pas de contours pour le niveau"):
        outlines.outlines("QPV")


def _feature(code: str, x0: float, y0: float, size: float = 0.01) -> dict:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Feature", "properties": {"code": code, "nom": code},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _tarball(path: Path, features: list[dict]) -> None:
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("france-geojson-2018/departements/49-maine-et-loire/"
                               "communes-49-maine-et-loire.geojson")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_build_dissolves_old_communes_and_is_reproducible(tmp_path):
    pytest.importorskip("shapely")
    from acterr_cli.territory.build_outlines import FILES, build_outlines

    # Two 2018 communes side by side: 49298 and 49289, merged into 49298 since; 49000 unknown.
    _tarball(tmp_path / "france-geojson-2018.tgz", [
        _feature("49298", -0.70, 47.45), _feature("49289", -0.69, 47.45), _feature("49000", -0.5, 47.0)])
    communes = pl.DataFrame({"code": ["49298"], "epci": ["244900015"], "departement": ["49"],
                             "region": ["52"], "zone": ["metro"]})
    correspondances = pl.DataFrame({"code_saisi": ["49289"], "commune": ["49298"]})
    meta = build_outlines(tmp_path, tmp_path / "a", communes, correspondances)
    build_outlines(tmp_path, tmp_path / "b", communes, correspondances)
    for name in [*FILES.values(), "contours.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert meta["codes_2018_inconnus"] == ["49000"]
    frame = pl.read_parquet(tmp_path / "a" / FILES["COMMUNE"])
    assert frame["code"].to_list() == ["49298"]  # one ring: the two squares made one
    assert frame["dx"].list.len().item() == 4  # shared edge gone, corners kept: a rectangle
    assert meta["sha256"] == hashlib.sha256((tmp_path / "france-geojson-2018.tgz").read_bytes()).hexdigest()


@pytest.mark.skipif(not TARBALL.exists(), reason="contours IGN 2018 partagés absents")
def test_shipped_outlines_come_from_the_shared_tarball():
    """Rebuilding takes a minute (``make reference``): here, the source and settings match."""
    from acterr_cli.territory import build_outlines

    meta = outlines.metadata()
    assert meta["sha256"] == hashlib.sha256(TARBALL.read_bytes()).hexdigest()
    assert meta["tolerances_m"] == build_outlines.TOLERANCES
    assert meta["format"] == build_outlines.FORMAT == outlines.FORMAT
    assert {k: tuple(v["boite"]) for k, v in meta["encarts"].items()} == build_outlines.INSETS == outlines.INSETS
