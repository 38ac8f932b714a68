"""Write tests/golden/demo_figures.csv: the consolidated figures of every level computed on the
samples as `make demo` imports them. tests/test_golden.py compares each run with it, so that a
change of engine code that is meant to change nothing is seen to change nothing; a change of
method regenerates it (`make golden`) and the diff of this file shows what moved."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
GOLDEN = ROOT / "tests" / "golden" / "demo_figures.csv"
LEVELS = ("COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "FRANCE", "QPV")
COLUMNS = ["niveau", "indicateur", "code_territoire", "exercice", "valeur", "valeur_basse", "valeur_haute", "couverture",
           "part_forfaitaire", "fiabilite", "nb_organismes", "nb_organismes_calcules", "statut", "valeur_nette"]


def demo_workspace(folder: Path) -> Path:
    from acterr_cli import api
    espace = folder / "espace"
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + sorted(SAMPLES.glob("liasse_*.csv"))  # 2024 and 2025
    report = api.import_paths(espace, files)
    assert not report.refused, report.to_dict()
    for housing, name in (("appartement", "appartements"), ("maison", "maisons")):
        api.import_paths(espace, [SAMPLES / "loyers" / f"exemple_carte_loyers_{name}_2024.csv"], "loyers", exercice=2024, logement=housing)
    return espace


def figures(espace: Path) -> pl.DataFrame:
    """Consolidated figures (all organisations together) of every level, in a stable order."""
    from acterr_cli import api
    frames = []
    for level in LEVELS:
        results = api.compute_level(espace, level).results
        frames.append(results.filter(pl.col("siren").is_null()).with_columns(pl.col(pl.Categorical).cast(pl.Utf8)).select(COLUMNS))
    return pl.concat(frames).sort("niveau", "code_territoire", "indicateur", "exercice")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        table = figures(demo_workspace(Path(folder)))
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    table.write_csv(GOLDEN, float_precision=6)
    print(f"{GOLDEN.relative_to(ROOT)} : {table.height} chiffres", file=sys.stderr)


if __name__ == "__main__":
    main()
