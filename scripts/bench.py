"""`make bench`: acterr's performance targets, each measured beside its reference in the same run.

Targets as decided in the reliability issue (regression guards at the level reached, the first
targets having proved out of reach without dropping checks or stored results):
1. National RPLS (5.1 M dwellings, expanded from the real RPLS 2019): `import` + `compute` for
   DEPARTEMENT, REGION and EPCI, against a bare Polars script that reads the same CSV and groups it
   by département. Target: ≤ 3.5× its wall time, peak memory ≤ 1.5 GB.
2. 600 questionnaires (one per organisation in France, 2 000 purchase lines each): `import`
   against reading the same workbooks' sheets with calamine alone on both cores. Target ≤ 3.5×.
3. Every indicator at every level (COMMUNE, EPCI, DEPARTEMENT, REGION, QPV, FRANCE) for France
   from that workspace: ≤ 3.5 s; regional overview export (as `acterr export --territoire REGION`):
   ≤ 5 s. Each step is timed as the `acterr` command a user runs, start-up included.
4. National scale from the same workspace: `compute --territoire COMMUNE --json` within 4× the
   plain COMMUNE compute and 2 GB; the COMMUNE results as CSV and as Parquet under 1 GB; the
   national overview by EPCI in Excel under 10 s and 1.5 GB.
5. Simulation: `compute --territoire EPCI --simulations 1000` within 2× the plain EPCI compute.
6. Two exercices (the same 600 organisations, the previous exercice imported too): `compute
   --exercice` of the last one, every level, within 1.3× the time and memory of the compute of
   the single-exercice workspace (its CPU time is printed too: the machine may be loaded) — its
   first run (the previous exercice's values computed) and the next ones (read back), each.
7. A regional association's web page: the overview by EPCI (`export --format html`) of the
   organisations of one région (Occitanie, 75 of the 600), its export time and its size ≤ 2 MB.

Each step runs in its own process (wall time, CPU time and peak RSS of that process), the
reference and acterr each N times (3 by default): the best wall time of each is kept, so a
passing load on the machine does not decide a ratio. Data are built once under build/bench/
(delete it to rebuild). Usage: python scripts/bench.py [--rapide] [--repetitions N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "build" / "bench"
PY = sys.executable
sys.path.insert(0, str(ROOT / "scripts"))
ALL_LEVELS = ("COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "QPV", "FRANCE")


REPETITIONS = 3


def acterr(*args: str | Path) -> str:
    """The snippet that runs an `acterr` command line, as the installed `acterr` script does."""
    argv = ["acterr", *map(str, args)]
    return f"import sys; from acterr_cli.cli.app import main; sys.argv = {argv!r}; main()"


def measure(code: str, label: str, before=None) -> tuple[float, float]:
    """Best wall time (s) over REPETITIONS runs and peak RSS (MB) of a Python snippet, each run
    in a fresh process (after `before()`, if given); the CPU time (user + system) of the best run
    is printed under it."""
    best, peak, cpu = float("inf"), 0.0, 0.0
    for _ in range(REPETITIONS):
        if before is not None:
            before()
        start = time.perf_counter()
        with tempfile.TemporaryFile() as messages:  # shown only if the step fails
            proc = subprocess.Popen([PY, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=messages)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            if status != 0:
                messages.seek(0)
                sys.stderr.write(messages.read().decode("utf-8", "replace")[-4000:])
                raise SystemExit(f"échec de l'étape « {label} » (code {status >> 8})")
        peak = max(peak, usage.ru_maxrss / 1024)
        if wall < best:
            best, cpu = wall, usage.ru_utime + usage.ru_stime
    print(f"      {label} : {best:.2f} s (meilleur de {REPETITIONS}), temps CPU {cpu:.2f} s", flush=True)
    CPU[label] = cpu
    return best, peak


CPU: dict[str, float] = {}  # label → CPU time (user + system) of its best run


def line(label: str, value: float, unit: str, reference: float | None = None, target: str = "", ok: bool | None = None) -> None:
    ref = f"référence {reference:8.2f} {unit}  ratio {value / reference:5.2f}" if reference else " " * 36
    verdict = "" if ok is None else ("OK " if ok else "NON")
    print(f"{verdict:4}{label:58} {value:8.2f} {unit:3} {ref}  {target}", flush=True)


# ─── 1. national RPLS ───

def rpls_file() -> Path:
    target = BENCH / "rpls_national.csv"
    if not target.exists():
        # In a child process: a large parent would inflate the peak memory its children report.
        print("construction du RPLS national par logement…", flush=True)
        subprocess.run([PY, str(ROOT / "scripts" / "expand_rpls.py"), "--sortie", str(target)], check=True, stdout=subprocess.DEVNULL)
    return target


def bench_rpls() -> None:
    source = rpls_file()
    espace = BENCH / "espace_rpls"
    bare = (f"import polars as pl; pl.scan_csv({str(source)!r}, separator=';', infer_schema=False)"
            ".group_by(pl.col('DEPCOM').str.slice(0, 2)).agg(pl.len()).collect()")
    ref_wall, ref_mem = measure(bare, "polars seul")
    imp_wall, imp_mem = measure(acterr("--espace", espace, "import", "--type", "rpls", "--exercice", "2019", source), "acterr import",
                                before=lambda: shutil.rmtree(espace, ignore_errors=True))
    wall, mem = measure(acterr("--espace", espace, "compute", "--territoire", "DEPARTEMENT,REGION,EPCI"), "acterr compute")
    total, peak = imp_wall + wall, max(imp_mem, mem)
    print(f"\n1. RPLS national ({source.stat().st_size / 1e6:.0f} Mo, 5,1 M logements)")
    line("  import RPLS", imp_wall, "s")
    line("  compute DEPARTEMENT, REGION, EPCI", wall, "s")
    line("import + compute DEPARTEMENT, REGION, EPCI", total, "s", ref_wall, "cible ≤ 3,5×", total <= 3.5 * ref_wall)
    line("mémoire maximale (Mo)", peak, "Mo", ref_mem, "cible ≤ 1 536 Mo", peak <= 1536)


# ─── 2. 600 questionnaires ───

def questionnaires(n: int, purchases: int) -> list[Path]:
    folder = BENCH / f"questionnaires_{n}_{purchases}"
    if not folder.exists() or len(list(folder.glob("*.xlsx"))) < n:
        import bench_data

        print(f"construction de {n} questionnaires ({purchases} lignes d'achats chacun)…", flush=True)
        bench_data.write_questionnaires(folder, n, purchases)
    return sorted(folder.glob("*.xlsx"))[:n]


def bench_questionnaires(n: int, purchases: int) -> Path:
    files = questionnaires(n, purchases)
    listing = BENCH / "liste.txt"
    listing.write_text("\n".join(map(str, files)), encoding="utf-8")
    espace = BENCH / "espace_questionnaires"
    bare = ("import fastexcel; from concurrent.futures import ProcessPoolExecutor\n"
            "def read(p):\n"
            "    r = fastexcel.read_excel(p)\n"
            "    return sum(r.load_sheet(s, header_row=None, skip_rows=0, dtypes='string').height for s in r.sheet_names)\n"
            f"files = open({str(listing)!r}).read().split()\n"
            "if __name__ == '__main__':\n"
            "    with ProcessPoolExecutor(2) as pool: sum(pool.map(read, files, chunksize=8))\n")
    ref_wall, _ = measure(bare, "calamine seul")
    wall, mem = measure(acterr("--espace", espace, "import", *files), "acterr import",
                        before=lambda: shutil.rmtree(espace, ignore_errors=True))
    print(f"\n2. {n} questionnaires de {purchases} lignes d'achats")
    line("import (lecture, contrôles, écriture)", wall, "s", ref_wall, "cible ≤ 3,5×", wall <= 3.5 * ref_wall)
    line("  mémoire maximale (Mo)", mem, "Mo")
    return espace


# ─── 3. compute every level, export the overview ───

def bench_compute_export(espace: Path) -> tuple[float, float]:
    """Both measured as the commands a user runs, process start included. Returns the compute's
    wall time and peak memory (the reference of the two-exercice step)."""
    levels = ",".join(ALL_LEVELS)
    wall, mem = measure(acterr("--espace", espace, "compute", "--territoire", levels), "acterr compute")
    report = BENCH / "apercu_regions.xlsx"
    export_wall, export_mem = measure(acterr("--espace", espace, "export", "--territoire", "REGION", "--sortie", report, "--forcer"),
                                      "acterr export")
    print(f"\n3. France entière depuis l'espace des questionnaires (niveaux {levels})")
    line("compute de tous les indicateurs, tous les niveaux", wall, "s", None, "cible ≤ 3,5 s", wall <= 3.5)
    line("  mémoire maximale (Mo)", mem, "Mo")
    line("export de la vue d'ensemble régionale", export_wall, "s", None, "cible ≤ 5 s", export_wall <= 5)
    line("  mémoire maximale (Mo)", export_mem, "Mo")
    return wall, mem


# ─── 4. national scale ───

def bench_national(espace: Path) -> None:
    plain, _ = measure(acterr("--espace", espace, "compute", "--territoire", "COMMUNE"), "acterr compute COMMUNE")
    json_wall, json_mem = measure(acterr("--espace", espace, "compute", "--territoire", "COMMUNE", "--json"), "acterr compute COMMUNE --json")
    csv = BENCH / "resultats_communes.csv"
    csv_wall, csv_mem = measure(acterr("--espace", espace, "export", "--territoire", "COMMUNE", "--format", "csv", "--sortie", csv, "--forcer"),
                                "acterr export COMMUNE en CSV")
    parquet = BENCH / "resultats_communes.parquet"
    pq_wall, pq_mem = measure(acterr("--espace", espace, "export", "--territoire", "COMMUNE", "--format", "parquet", "--sortie", parquet,
                                     "--forcer"), "acterr export COMMUNE en Parquet")
    report = BENCH / "apercu_epci.xlsx"
    xlsx_wall, xlsx_mem = measure(acterr("--espace", espace, "export", "--territoire", "EPCI", "--sortie", report, "--forcer"),
                                  "acterr export EPCI (France entière)")
    print("\n4. Échelle nationale (même espace)")
    line("compute COMMUNE --json", json_wall, "s", plain, "cible ≤ 4× le calcul seul", json_wall <= 4 * plain)
    line("  mémoire maximale (Mo)", json_mem, "Mo", None, "cible ≤ 2 048 Mo", json_mem <= 2048)
    line("export COMMUNE en CSV", csv_wall, "s")
    line("  mémoire maximale (Mo)", csv_mem, "Mo", None, "cible < 1 024 Mo", csv_mem < 1024)
    line("export COMMUNE en Parquet", pq_wall, "s")
    line("  mémoire maximale (Mo)", pq_mem, "Mo", None, "cible < 1 024 Mo", pq_mem < 1024)
    line("vue d'ensemble nationale par EPCI (Excel)", xlsx_wall, "s", None, "cible < 10 s", xlsx_wall < 10)
    line("  mémoire maximale (Mo)", xlsx_mem, "Mo", None, "cible < 1 536 Mo", xlsx_mem < 1536)


# ─── 5. simulation ───

def bench_simulation(espace: Path) -> None:
    """`--simulations 1000` at EPCI level (the EPCIs of France: harder than the target's one
    region), beside the plain EPCI compute of the same workspace."""
    plain, _ = measure(acterr("--espace", espace, "compute", "--territoire", "EPCI"), "acterr compute EPCI")
    wall, mem = measure(acterr("--espace", espace, "compute", "--territoire", "EPCI", "--simulations", "1000", "--graine", "1"),
                        "acterr compute EPCI --simulations 1000")
    print("\n5. Simulation (1 000 tirages de chaque paramètre, niveau EPCI, même espace)")
    line("compute EPCI --simulations 1000", wall, "s", plain, "cible ≤ 2× le calcul seul", wall <= 2 * plain)
    line("  mémoire maximale (Mo)", mem, "Mo")


# ─── 6. one exercice among two ───

def bench_two_exercices(espace: Path, n: int, purchases: int, single: tuple[float, float]) -> None:
    """The workspace of step 2 with the previous exercice of the same organisations imported too;
    `compute --exercice` of the last one against `single` (wall time, peak memory of step 3's
    compute, the same levels on the single-exercice workspace), measured twice, each against the
    target: the first run, which computes the previous exercice's values (`resultats/precedent/`
    emptied before each of its runs), and the runs after it, which read them back (its inputs
    unchanged), as a nightly run does."""
    previous = BENCH / f"questionnaires_{n}_{purchases}_2024"
    if not previous.exists() or len(list(previous.glob("*.xlsx"))) < n:
        import bench_data

        print(f"construction de {n} questionnaires de l'exercice 2024…", flush=True)
        bench_data.write_questionnaires(previous, n, purchases, exercice=2024)
    both = BENCH / "espace_deux_exercices"
    if not both.exists():
        shutil.copytree(espace, both)
        subprocess.run([PY, "-c", acterr("--espace", both, "import", *sorted(previous.glob("*.xlsx"))[:n])], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    levels = ",".join(ALL_LEVELS)
    command = acterr("--espace", both, "compute", "--territoire", levels, "--exercice", "2025")
    first = measure(command, "acterr compute --exercice 2025 (premier calcul)",
                    before=lambda: shutil.rmtree(both / "resultats" / "precedent", ignore_errors=True))
    again = measure(command, "acterr compute --exercice 2025 (valeurs N-1 gardées)")
    single_wall, single_mem = single
    print("\n6. Un exercice parmi deux, tous les niveaux (mêmes organismes, exercices 2024 et 2025 importés)")
    for (wall, mem), label, what in ((first, "acterr compute --exercice 2025 (premier calcul)", "premier calcul (N-1 calculé)"),
                                     (again, "acterr compute --exercice 2025 (valeurs N-1 gardées)", "calcul suivant (N-1 relu)")):
        line(f"compute --exercice 2025, {what}", wall, "s", single_wall, "cible ≤ 1,3× un exercice seul",
             wall <= 1.3 * single_wall)
        line("  temps CPU", CPU[label], "s", CPU["acterr compute"], "(machine chargée : à comparer aussi)")
        line("  mémoire maximale (Mo)", mem, "Mo", single_mem, "cible ≤ 1,3×", mem <= 1.3 * single_mem)


# ─── 7. the web page of a regional overview ───

REGION = "76"  # Occitanie: 75 of the 600 organisations


def bench_regional_page(n: int, purchases: int) -> None:
    """A regional association's page: the overview by EPCI (`export --format html`) of the
    organisations of one région, from their own workspace (built once)."""
    import bench_data

    from acterr_cli.territory.reference import TerritorialReference

    by_dep = bench_data._communes()
    region_of = dict(TerritorialReference.load().communes.select("departement", "region").unique().iter_rows())
    files = [f for f in questionnaires(n, purchases) if region_of[bench_data.departement(int(f.stem.rsplit("_", 1)[1]), by_dep)] == REGION]
    espace = BENCH / f"espace_region_{REGION}_{len(files)}"
    if not espace.exists():
        for args in (["import", *files], ["compute", "--territoire", "EPCI,REGION,FRANCE"]):
            subprocess.run([PY, "-c", acterr("--espace", espace, *args)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    page = BENCH / "site_region" / "index.html"
    wall, mem = measure(acterr("--espace", espace, "export", "--territoire", "EPCI", "--format", "html", "--sortie", page, "--forcer"),
                        "acterr export EPCI en page web")
    size = page.stat().st_size / 1e6
    print(f"\n7. Page web d'une association régionale (région {REGION}, {len(files)} organismes, vue d'ensemble par EPCI)")
    line("export de la page (--format html)", wall, "s")
    line("  taille de la page (Mo)", size, "Mo", None, "cible ≤ 2 Mo", size <= 2)
    line("  mémoire maximale (Mo)", mem, "Mo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rapide", action="store_true", help="60 questionnaires au lieu de 600 (essai)")
    parser.add_argument("--repetitions", type=int, default=REPETITIONS, help="lancements par mesure (le meilleur est gardé)")
    args = parser.parse_args()
    globals()["REPETITIONS"] = max(1, args.repetitions)
    BENCH.mkdir(parents=True, exist_ok=True)
    print(f"machine : {os.cpu_count()} cœurs, Python {sys.version.split()[0]}")
    bench_rpls()
    espace = bench_questionnaires(60 if args.rapide else 600, 2000)
    single = bench_compute_export(espace)
    bench_national(espace)
    bench_simulation(espace)
    bench_two_exercices(espace, 60 if args.rapide else 600, 2000, single)
    bench_regional_page(60 if args.rapide else 600, 2000)


if __name__ == "__main__":
    main()
