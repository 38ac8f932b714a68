"""The fiche: one picture per territory or organisation, PNG 1080 × 1350 px and PDF A5, with the
headline figures of both ledgers (checked in the PDF text when poppler is installed)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from builders import SIREN_A, SIREN_B, TOULOUSE_METROPOLE
from PIL import Image

from acterr_cli.api import ExportRequest, export, report_inputs
from acterr_cli.outputs.fiche import fiche_subjects
from acterr_cli.outputs.reports.model import ReportData, Scope
from acterr_cli.referentiel.model import load_referentiel

A5_POINTS = (419.53, 595.28)
NNBSP = "\u202f"


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    import builders

    from acterr_cli import api

    root = tmp_path_factory.mktemp("fiche")
    api.import_paths(root / "espace", builders.write_all(root / "entrees"))
    result = export(root / "espace", ExportRequest(root / "sortie" / "rapport.xlsx", fiche=True), load_referentiel())
    return root, result


def fiches(result, fmt: str) -> list[Path]:
    return [f.chemin for f in result.fichiers if f.contenu == "fiche" and f.format == fmt]


def test_one_fiche_per_territory_plus_the_overview(overview):
    _, result = overview
    names = sorted(p.name for p in fiches(result, "png"))
    assert names == ["rapport_fiche_243100518.png", "rapport_fiche_243400017.png", "rapport_fiche_ensemble.png"]
    assert sorted(p.name for p in fiches(result, "pdf")) == [n.replace(".png", ".pdf") for n in names]
    assert result.fichiers[0].contenu == "rapport"  # the workbook is written too


def test_png_size_and_content(overview):
    _, result = overview
    for path in fiches(result, "png"):
        with Image.open(path) as img:
            assert img.size == (1080, 1350)
            colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert path.stat().st_size > 40_000
        assert len(colours) > 500  # text, panels and charts, not a blank page
        dominant = {c for _, c in sorted(colours, reverse=True)[:6]}
        assert (0x1F, 0x38, 0x64) in dominant  # the navy header band


def test_pdf_is_one_a5_page(overview):
    _, result = overview
    for path in fiches(result, "pdf"):
        data = path.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 10_000
        boxes = re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)
        assert len(boxes) == 1
        assert tuple(float(x) for x in boxes[0]) == pytest.approx(A5_POINTS, abs=0.5)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler (pdftotext) absent")
def test_fiche_shows_both_ledgers_and_french_figures(overview):
    _, result = overview
    [toulouse] = [p for p in fiches(result, "pdf") if TOULOUSE_METROPOLE in p.name]
    text = subprocess.run(["pdftotext", str(toulouse), "-"], capture_output=True, text=True, check=True).stdout
    assert "Toulouse Métropole" in text
    assert "VALEUR LOCALE" in text and "PLUS-VALUE SOCIALE" in text
    assert "ne s'additionnent pas" in text
    assert "10,1 M€" in text  # ECO-01, 10 100 000 €
    assert "3,8 M€" in text and "fourchette 3,3" in text and "3,8 M" in text  # SOC-01 and its range (3,3 – 3,8 M€)
    assert "gagnés par les locataires chaque année" in text
    # SOC-01 without market rents is a national flat rate: marked, named, and what would replace it said
    assert "≈ 3,8 M€" in text and "estimation forfaitaire" in text
    assert "≈ 10,1 M€" not in text  # ECO-01 is measured


def test_subjects_of_an_organisation_report(overview):
    root, _ = overview
    inputs = report_inputs(root / "espace", "EPCI", load_referentiel())
    [a] = fiche_subjects(ReportData.build(inputs, Scope.organisation(SIREN_A)))
    assert a.key == SIREN_A and a.name == "Habitat Test A"
    assert f"1{NNBSP}050 logements sociaux" in a.subtitle
    assert a.bars == []  # one territory: no one-bar chart
    [b] = fiche_subjects(ReportData.build(inputs, Scope.organisation(SIREN_B)))
    # B's investment is known only from its liasse, never split by territory: the chart falls back
    # to the tenants' gain, 500 and 200 dwellings × 0,975 occupied × 261 € × 12 — a national flat rate (no market
    # rent imported), which the chart's title says
    assert b.bars_title == "Gain de pouvoir d'achat des locataires par EPCI (≈ estimation forfaitaire)"
    assert b.bars_unit == "€" and b.bars_code == "SOC-01"
    assert b.bars == [("Montpellier Méditerranée Métropole", pytest.approx(1_526_850)), ("Toulouse Métropole", pytest.approx(610_740))]


SAMPLES = Path(__file__).parents[1] / "samples"


def test_the_bar_chart_says_what_it_leaves_out(tmp_path):
    """Nothing silent (issue 15): the demo's overview fiche charts 6 of the 11 territories whose
    investment is known; the twelfth, Perpignan, sends no Production sheet. Said under the chart, as
    under the workbook's charts."""
    from acterr_cli import api

    files = sorted((SAMPLES / "questionnaires").glob("*_2025.xlsx")) + [SAMPLES / "liasse_2025.csv"]
    assert not api.import_paths(tmp_path / "espace", files).refused
    data = ReportData.build(report_inputs(tmp_path / "espace", "EPCI", load_referentiel()), Scope())
    overview = fiche_subjects(data)[0]
    assert overview.bars_title == "Investissement injecté par EPCI" and len(overview.bars) == 6
    assert overview.bars_note == ("Les 6 plus grands sur 11 ; 11 territoires sur 12 : CU Perpignan Méditerranée Métropole "
                                  "non calculable (non fourni : Gros entretien, Investissement…).")


def test_a_long_caption_stays_in_its_panel():
    """A caption wider than its panel is drawn smaller, then on two lines: never past the edge."""
    from matplotlib.figure import Figure

    from acterr_cli.outputs.fiche import PNG_DPI, PNG_SIZE_IN, _fitted, _renderer

    fig = Figure(figsize=PNG_SIZE_IN, dpi=PNG_DPI)
    text = "investis en construction, réhabilitation et entretien du parc des organismes, toutes opérations confondues"
    artist = _fitted(fig, 0.065, 0.5, text, 0.40, fontsize=9.5, va="center")
    assert artist.get_window_extent(_renderer(fig)).width <= 0.40 * fig.bbox.width
    assert "\n" in artist.get_text() and artist.get_fontsize() == pytest.approx(9.5 * 0.8)
    short = _fitted(fig, 0.065, 0.4, "gagnés par les locataires chaque année", 0.40, fontsize=9.5, va="center")
    assert short.get_fontsize() == 9.5 and "\n" not in short.get_text()  # what fits keeps its size
