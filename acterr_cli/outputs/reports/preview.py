"""Preview of a report as its readers will print it: LibreOffice converts the workbook to PDF,
poppler's pdftoppm turns each page into a PNG. Used by `make apercu` and by a test; both are
skipped with a message when LibreOffice is not installed.

    python -m acterr_cli.outputs.reports.preview RAPPORT.xlsx DOSSIER [--dpi 80]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 300


@dataclass
class Preview:
    pdf: Path
    pages: list[Path]


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def preview(workbook: Path, folder: Path, dpi: int = 80) -> Preview:
    """PDF of the whole workbook (every sheet, as printed) and one PNG per page in `folder`."""
    office = soffice()
    if office is None:
        raise FileNotFoundError("LibreOffice (soffice) est introuvable : aperçu impossible.")
    folder.mkdir(parents=True, exist_ok=True)
    # a private profile: a LibreOffice already open on the machine would otherwise take the job
    with tempfile.TemporaryDirectory(prefix="acterr-lo-") as profile:
        subprocess.run([office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(folder), str(workbook)], check=True, capture_output=True, timeout=TIMEOUT,
                       env={**os.environ, "HOME": profile})
    pdf = folder / (Path(workbook).stem + ".pdf")
    if not pdf.exists():
        raise RuntimeError(f"LibreOffice n'a pas produit {pdf}.")
    pages: list[Path] = []
    if shutil.which("pdftoppm"):
        for old in folder.glob("page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(folder / "page")], check=True, timeout=TIMEOUT)
        pages = sorted(folder.glob("page-*.png"))
    return Preview(pdf, pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Aperçu PDF et PNG d'un rapport acterr.")
    parser.add_argument("rapport", type=Path)
    parser.add_argument("dossier", type=Path)
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    if soffice() is None:
        print("LibreOffice (soffice) n'est pas installé : aperçu ignoré.", file=sys.stderr)
        return 0
    result = preview(args.rapport, args.dossier, args.dpi)
    print(f"{result.pdf} : {len(result.pages)} {'page' if len(result.pages) < 2 else 'pages'} en PNG dans {args.dossier}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
