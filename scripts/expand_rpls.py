"""Build a per-dwelling RPLS file (the public SDES layout) from the aggregated real RPLS 2019.

`../shared/data/rpls_2019_communes.csv.gz` counts dwellings by commune × year built × DPE × rooms ×
building type × QPV (column n). Expanding each row n times gives a per-dwelling file with the
real counts, at any scale (a few départements for tests, the whole country — 5.1 M rows — for
`make bench`). Address-like columns are added so that tests can check they are never read.

    python scripts/expand_rpls.py --sortie build/rpls_2019.csv [--departements 33,31] [--latin1] [--red]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

DEFAULT_SOURCE = Path(__file__).parents[1].parent / "shared" / "data" / "rpls_2019_communes.csv.gz"


def expand(source: Path, departements: list[str] | None = None) -> pl.DataFrame:
    agg = pl.read_csv(source, infer_schema=False)
    if departements:
        agg = agg.filter(pl.col("DEPCOM").str.slice(0, 2).is_in(departements) | pl.col("DEPCOM").str.slice(0, 3).is_in(departements))
    agg = agg.with_columns(pl.col("n").cast(pl.Int64)).with_row_index("groupe")
    rows = agg.select(pl.exclude("n"), pl.int_ranges(0, pl.col("n")).alias("i")).explode("i")
    return rows.select(
        pl.format("{}-{}", pl.col("groupe"), pl.col("i")).alias("NUMLOGT"),  # dwelling identifier: never read
        pl.lit("12").alias("NUMVOIE"),
        pl.lit("RUE DE L'ÉCOLE").alias("LIBVOIE"),  # address: never read
        pl.col("DEPCOM"),
        pl.when(pl.col("qpv") == "En QPV").then(pl.lit("1")).otherwise(pl.lit("2")).alias("QPV"),
        pl.when(pl.col("typeconst") == "Logements individuels").then(pl.lit("I")).otherwise(pl.lit("C")).alias("TYPECONST"),
        pl.col("nbpiece").str.replace(" et plus", "").alias("NBPIECE"),
        pl.col("construct").str.replace(r"\.0$", "").alias("CONSTRUCT"),
        pl.when(pl.col("dpeenergie") == "Inconnu").then(pl.lit("")).otherwise(pl.col("dpeenergie")).alias("DPEENERGIE"),
        pl.when(pl.col("dpeserre") == "Inconnu").then(pl.lit("")).otherwise(pl.col("dpeserre")).alias("DPESERRE"),
        pl.lit("PLUS").alias("FINAN"),
    )


def write(frame: pl.DataFrame, target: Path, latin1: bool = False, red: bool = False) -> Path:
    if red:
        frame = frame.rename({c: f"{c}_red" for c in ("DEPCOM", "QPV", "TYPECONST", "NBPIECE", "CONSTRUCT", "DPEENERGIE", "DPESERRE")})
    target.parent.mkdir(parents=True, exist_ok=True)
    if latin1:
        target.write_bytes(frame.write_csv(separator=";").encode("latin-1"))
    else:
        frame.write_csv(target, separator=";")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--sortie", type=Path, required=True)
    parser.add_argument("--departements", help="codes séparés par des virgules (défaut : toute la France)")
    parser.add_argument("--latin1", action="store_true", help="écrire en latin-1 (sinon UTF-8)")
    parser.add_argument("--red", action="store_true", help="noms de colonnes avec le suffixe _red des anciens millésimes")
    args = parser.parse_args()
    deps = args.departements.split(",") if args.departements else None
    frame = expand(args.source, deps)
    write(frame, args.sortie, args.latin1, args.red)
    print(f"{frame.height} logements écrits dans {args.sortie}")


if __name__ == "__main__":
    main()
