"""The demo report as its readers print it: LibreOffice opens it and converts every sheet to PDF
(pages A4 landscape, fitted to the width), poppler makes one PNG per page — the same conversion
as `make apercu`. Skipped when LibreOffice is not installed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from acterr_cli import api
from acterr_cli.api import ExportRequest, export
from acterr_cli.outputs.reports.preview import preview, soffice
from acterr_cli.referentiel.model import load_referentiel

SAMPLES = Path(__file__).parents[1] / "samples"
pytestmark = pytest.mark.skipif(soffice() is None or shutil.which("pdfinfo") is None,
                                reason="LibreOffice (soffice) ou poppler (pdfinfo) absent")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apercu")
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + sorted(SAMPLES.glob("liasse_*.csv"))  # 2024 and 2025
    assert not api.import_paths(root / "espace", files).refused
    for logement, name in (("appartement", "appartements"), ("maison", "maisons")):  # the sample market rents, as make demo
        rents = SAMPLES / "loyers" / f"exemple_carte_loyers_{name}_2024.csv"
        assert not api.import_paths(root / "espace", [rents], "loyers", exercice=2024, logement=logement).refused
    return export(root / "espace", ExportRequest(root / "rapport_acterr_demo.xlsx"), load_referentiel()).main


def page_sizes(pdf: Path) -> set[tuple[int, int]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "1000", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {(round(float(w)), round(float(h))) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)}


def test_demo_report_converts_to_legible_pages(demo_report, tmp_path):
    result = preview(demo_report, tmp_path / "apercu", dpi=30)
    info = subprocess.run(["pdfinfo", str(result.pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # 77 pages before issue 15's print work; 30 once the Carte and Sensibilité sheets and the longer Méthodologie
    # and Paramètres landed; 25 (issue 15's target) with the charts' data sheet hidden, no tornado cut by a page
    # break and the wrapped rows fitted closer to their text
    assert 10 < pages <= 25
    # every page is A4: landscape for the report, portrait for the charts' data (never a cut, wider page)
    assert page_sizes(result.pdf) <= {(842, 595), (595, 842)}
    if shutil.which("pdftoppm"):
        assert len(result.pages) == pages
        first = Image.open(result.pages[0]).convert("L")
        assert ImageStat.Stat(first).stddev[0] > 10  # the Synthèse page is not blank
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(result.pdf), "-"], capture_output=True, text=True).stdout
    assert "ne s'additionnent jamais" in text and "Valeur locale" in text and "Plus-value sociale" in text
    assert re.search(r"\d+,\d M€", text)  # French numbers on the printed page
