"""Choropleth maps (outputs/maps.py) and the « Carte » sheet of every report."""

from __future__ import annotations

import io

import openpyxl
import pytest
from builders import MONTPELLIER_METROPOLE, SIREN_A, TOULOUSE_METROPOLE
from PIL import Image

from acterr_cli.api import ExportRequest, export, report_inputs
from acterr_cli.outputs import maps
from acterr_cli.outputs.reports.model import ReportData, Scope
from acterr_cli.referentiel.model import load_referentiel

NNBSP = "\u202f"


@pytest.fixture(scope="module")
def espace(tmp_path_factory):
    import builders

    from acterr_cli import api

    root = tmp_path_factory.mktemp("cartes")
    api.import_paths(root / "espace", builders.write_all(root / "entrees"))
    return root


@pytest.fixture(scope="module")
def inputs(espace):
    return report_inputs(espace / "espace", "EPCI", load_referentiel())


def test_classes_and_legend_in_french():
    values = [120.0, 1_250.0, 1_900.0, 2_400.0, 8_000.0, 15_500.0]
    breaks = maps.class_breaks(values, 3)
    assert breaks[0] == 120.0 and breaks[-1] == 15_500.0 and len(breaks) == 4
    # Terciles (numpy's linear interpolation) rounded to two significant digits:
    # 1 250 + ⅔ × 650 = 1 683 → 1 700 ; 2 400 + ⅓ × 5 600 = 4 267 → 4 300.
    assert breaks[1:3] == [1_700.0, 4_300.0]
    assert maps.legend_labels(breaks, "€/hab") == [f"120 à 1{NNBSP}700", f"1{NNBSP}700 à 4{NNBSP}300",
                                                   f"4{NNBSP}300 à 15{NNBSP}500"]
    assert [maps.class_of(v, breaks) for v in values] == [0, 0, 1, 1, 2, 2]
    # Shares close together get the decimals they need to differ.
    assert maps.legend_labels([0.42, 0.47, 0.5], "%") == ["0,42 à 0,47", "0,47 à 0,50"]
    assert maps.class_breaks([3.0, 3.0]) == [3.0, 3.0] and maps.legend_labels([3.0, 3.0], "%") == ["3,0"]
    assert maps.class_breaks([]) == []
    # Colours shared with the web page: hex, light to dark, spread over the scale.
    assert maps.class_colours("Blues", 3) == ["#C6DBEF", "#6BAED6", "#08519C"]
    assert all(len(maps.class_colours(p, n)) == n for p in maps.PALETTES for n in range(1, 6))


def test_overview_maps_every_territory_and_names_the_missing(inputs):
    data = ReportData.build(inputs)
    specs = {s.indicator: s for s in maps.map_specs(data)}
    # the catalogue's mapped indicators (graphique = { carte = rang }), the first four that a territory can colour
    # (TER-03 cannot: see below; TER-01 takes its place), then the skipped one
    assert [i.code for i in data.referentiel.charted("carte")] == ["TER-04b", "SOC-02", "TER-03", "ENV-01b", "TER-01"]
    assert list(specs) == ["TER-04b", "SOC-02", "ENV-01b", "TER-01", "TER-03"]
    assert [specs[c].palette for c in ("TER-04b", "SOC-02", "ENV-01b", "TER-01")] == ["Blues", "Purples", "Oranges", "Greens"]
    invest = specs["TER-04b"]
    rows = {r["code_territoire"]: r for r in data.rows if r["indicateur"] == "TER-04b"}
    assert set(invest.codes) == set(rows)
    for code, r in rows.items():
        if r["statut"] == "calcule":
            assert invest.values[code] == r["valeur"]
        else:
            assert invest.missing[code] == r["motif"]
    assert {TOULOUSE_METROPOLE, MONTPELLIER_METROPOLE} <= set(invest.codes)
    assert invest.context and not set(invest.context) & set(invest.codes)  # neighbours, grey
    # TER-03 needs the RPLS stock of the territory, not imported here: no territory has it, the map
    # is not drawn, and why is said in its place.
    share = specs["TER-03"]
    assert share.values == {} and set(share.missing) == set(share.codes)
    assert maps.map_note(share).startswith(f"Non calculable pour {len(share.codes)} territoires sur {len(share.codes)} : ")
    assert "RPLS" in maps.map_note(share)


def test_a_map_is_a_png_with_its_legend_and_attribution(inputs):
    data = ReportData.build(inputs)
    spec = next(s for s in maps.map_specs(data) if s.indicator == "TER-04b")
    image = maps.draw(spec)
    with Image.open(io.BytesIO(image.png)) as img:
        assert img.size == (image.width, image.height) == (520, 416)
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 50
    assert image.note == maps.map_note(spec, maps._shapes(spec.level, spec.codes))
    assert "IGN – Admin Express 2018" in maps.CREDIT


def test_territory_map_shows_it_among_its_neighbours(inputs):
    data = ReportData.build(inputs, Scope.territory(TOULOUSE_METROPOLE))
    [spec, *_] = maps.map_specs(data)
    assert spec.highlight == (TOULOUSE_METROPOLE,)
    assert TOULOUSE_METROPOLE in spec.codes
    assert spec.context  # the EPCI around Toulouse, without results, in grey


def test_no_map_at_france_level(espace):
    data = ReportData.build(report_inputs(espace / "espace", "FRANCE", load_referentiel()))
    assert maps.map_specs(data) == []


@pytest.mark.parametrize("scope", [None, Scope.territory(TOULOUSE_METROPOLE), Scope.organisation(SIREN_A)])
def test_every_report_has_a_carte_sheet_with_its_maps(espace, tmp_path, scope):
    kwargs = {}
    if scope is not None and scope.code:
        kwargs["code"] = scope.code
    if scope is not None and scope.siren:
        kwargs["siren"] = scope.siren
    result = export(espace / "espace", ExportRequest(tmp_path / "rapport.xlsx", **kwargs), load_referentiel())
    wb = openpyxl.load_workbook(result.main)
    assert "Carte" in wb.sheetnames
    # right after the ranking (Classement, Territoires or Organismes)
    assert wb.sheetnames[wb.sheetnames.index("Carte") - 1] in ("Classement", "Territoires", "Organismes")
    ws = wb["Carte"]
    assert len(ws._images) == maps.MAPS_SHOWN
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("IGN – Admin Express 2018" in t for t in texts)
    # TER-03 without RPLS: not drawn, its title and why in its place
    assert any(t.startswith("Carte non dessinée — Part dans le parc social du territoire : Non calculable pour") for t in texts)


# ─── the fiche's map and the slides ───

@pytest.fixture(scope="module")
def with_fiches(espace, tmp_path_factory):
    out = tmp_path_factory.mktemp("diapos")
    return export(espace / "espace", ExportRequest(out / "rapport.xlsx", fiche=True), load_referentiel())


def test_fiche_writes_a_16_9_slide_per_subject(with_fiches):
    slides = sorted(f.chemin.name for f in with_fiches.fichiers if f.contenu == "diapo")
    keys = ["243100518", "243400017", "ensemble"]
    assert slides == sorted([f"rapport_diapo_{k}.pdf" for k in keys] + [f"rapport_diapo_{k}.png" for k in keys])
    for f in with_fiches.fichiers:
        if f.contenu == "diapo" and f.format == "png":
            with Image.open(f.chemin) as img:
                assert img.size == (1920, 1080)
                colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
            assert len(colours) > 500  # figures, map, text: not a blank page
            assert (0x1F, 0x38, 0x64) in {c for _, c in sorted(colours, reverse=True)[:8]}  # the navy band
        elif f.contenu == "diapo":
            data = f.chemin.read_bytes()
            assert data.startswith(b"%PDF") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") <= 1
            import re

            [box] = re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)
            width, height = (float(v) for v in box)
            assert width / height == pytest.approx(16 / 9, abs=0.01)


@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None, reason="poppler (pdftotext) absent")
def test_slide_says_figures_in_plain_words_and_its_sources(with_fiches):
    import subprocess

    [toulouse] = [f.chemin for f in with_fiches.fichiers if f.contenu == "diapo" and f.format == "pdf"
                  and TOULOUSE_METROPOLE in f.chemin.name]
    text = subprocess.run(["pdftotext", str(toulouse), "-"], capture_output=True, text=True, check=True).stdout
    assert "Toulouse Métropole" in text and "VALEUR LOCALE" in text and "PLUS-VALUE SOCIALE" in text
    assert "10,1 M€" in text  # the investment of the fixture (ECO-01, 10 100 000 €)
    assert "ne s'additionnent pas" in text
    assert "Sources : acterr" in text  # the outlines' attribution is in the map's image
    assert not any(code in text for code in ("ECO-01", "SOC-01", "TER-04b"))  # no indicator code


def test_slide_says_which_headline_is_missing_and_why(with_fiches):
    """Montpellier's investment is not placed in the fixture (B's comes from its liasse): the slide
    says so in the slot where the figure would have been, as the fiche does."""
    import subprocess

    [montpellier] = [f.chemin for f in with_fiches.fichiers if f.contenu == "diapo" and f.format == "pdf"
                     and MONTPELLIER_METROPOLE in f.chemin.name]
    text = " ".join(subprocess.run(["pdftotext", str(montpellier), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "Investissement : non calculable —" in text


def test_fiche_carries_the_map_and_its_attribution(with_fiches):
    [fiche] = [f.chemin for f in with_fiches.fichiers if f.contenu == "fiche" and f.format == "png"
               and TOULOUSE_METROPOLE in f.chemin.name]
    with Image.open(fiche) as img:
        region = img.convert("RGB").crop((int(0.64 * 1080), int(0.6 * 1350), 1080, int(0.815 * 1350)))
        # the map's blues (investment per inhabitant), not the blank right half of a bar chart
        assert len(region.getcolors(maxcolors=1_000_000)) > 100


def test_maps_module_imports_on_its_own():
    """maps imports reports.model, whose package imports the Carte sheet, which uses maps."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import acterr_cli.outputs.maps"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
