"""Reader of the public RPLS per-dwelling file (DATA.md §3), at national scale.

The file has one row per dwelling (≈ 5.4 M nationally) and up to 73 columns, among them the
address and the dwelling's identifiers: only the handful of columns below are ever read
(projection in the lazy CSV scan), so tenants' addresses are never loaded nor stored. The rows
are counted per commune at once: the workspace keeps commune totals, not dwellings.

Without a SIREN the file describes the whole social stock of the territories (all landlords:
TER-03, TER-06…TER-10); with one, it is that organisation's own patrimoine, which then replaces
its questionnaire's Patrimoine sheet.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import refuse_binary
from acterr_cli.errors import InvalidDataError
from acterr_cli.inputs import rules
from acterr_cli.inputs.model import ImportUnit, ParsedFile, ReadOptions, sha256_of
from acterr_cli.inputs.registry import RPLS_PATRIMOINE_DATASET, RPLS_STOCK_DATASET
from acterr_cli.territory.reference import TerritorialReference

RPLS = "rpls"
STOCK_DATASET = RPLS_STOCK_DATASET  # the territories' social stock, all landlords
PATRIMOINE_DATASET = RPLS_PATRIMOINE_DATASET  # one organisation's patrimoine
ALL_LANDLORDS = "tous"

# The départements the register covers: metropolitan France and the DROM, not the overseas
# collectivities (Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin, Pacific, TAAF).
RPLS_SCOPE = frozenset([f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B", "971", "972", "973", "974", "976"])
# Columns read, by canonical name; older releases suffix them with « _red ».
COLUMNS = ("DEPCOM", "QPV", "TYPECONST", "DPEENERGIE", "DPESERRE", "SURFHAB", "LOYERPRINC")
REQUIRED = ("DEPCOM", "QPV", "TYPECONST", "DPEENERGIE")
LABELS = "ABCDEFG"


def read_rpls(path: Path, reference: TerritorialReference, exercice: int, siren: str | None = None) -> ParsedFile:
    path = Path(path)
    columns = _column_names(path)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidDataError(f"{path.name} : colonnes RPLS introuvables : {', '.join(missing)} "
                               "(fichier RPLS par logement attendu, séparateur « ; »).")
    # The checksum of a national file takes as long as reading it: done on the other core.
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(sha256_of, path)
        counts = _counts_by_commune(path, columns)
        parsed = ParsedFile(path=path, sha256=digest.result(), kind=RPLS)
    counts = _with_current_communes(_tell_unknown_codes(counts, parsed), reference, parsed)
    if siren is None:
        table = _stock(counts)
        _tell_partial_coverage(table, reference, parsed)
        parsed.units.append(ImportUnit(RPLS, ALL_LANDLORDS, exercice, "Parc social du territoire (RPLS, tous bailleurs)",
                                       {STOCK_DATASET: _provenance(table, parsed, exercice, ALL_LANDLORDS)}))
    else:
        table = _patrimoine(counts)
        parsed.units.append(ImportUnit(RPLS, siren, exercice, None,
                                       {PATRIMOINE_DATASET: _provenance(table, parsed, exercice, siren)}))
    return parsed


def _tell_partial_coverage(table: pl.DataFrame, reference: TerritorialReference, parsed: ParsedFile) -> None:
    """A regional extract: which départements are absent, and what that means for the figures."""
    from acterr_cli.errors import AVERTISSEMENT, Problem

    present = set(table.join(reference.territory_map().select("commune", "code_departement"), on="commune")["code_departement"])
    absent = sorted(RPLS_SCOPE - present)
    if absent and present:
        shown = ", ".join(sorted(present)[:12]) + (" …" if len(present) > 12 else "")
        parsed.problems.append(Problem(
            fichier=parsed.path.name, regle=rules.COUVERTURE.code, gravite=AVERTISSEMENT, colonne="DEPCOM", valeur=shown,
            message=f"le fichier couvre {len(present)} département(s) sur {len(RPLS_SCOPE)} ({shown}) : le parc social des "
                    "territoires (TER-03, TER-06 à TER-10) n'est calculé que pour ceux qui sont entièrement dans ces "
                    "départements ; une région ou un EPCI à cheval reste non calculable plutôt que sous-compté."))


def _column_names(path: Path) -> dict[str, str]:
    """Canonical name → name in the file (case-insensitive, « _red » suffix tolerated)."""
    with open(path, "rb") as fh:
        head = fh.read(64_000)
    refuse_binary(head, path.name, "fichier RPLS")  # streamed by Polars as UTF-8 or Latin-1: a UTF-16 file is named
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    names = {}
    for raw in header.split(";"):
        key = re.sub(r"_RED$", "", raw.strip().strip('"').upper())
        if key in COLUMNS and key not in names:
            names[key] = raw.strip().strip('"')
    return names


def _counts_by_commune(path: Path, columns: dict[str, str]) -> pl.DataFrame:
    """Dwelling counts per commune × characteristic, from the needed columns only. The rows are
    grouped on the raw codes (cheap), and the codes interpreted on the ~100 000 groups after.
    Latin-1 files are read as lossy UTF-8: the columns used are ASCII codes, other columns are
    never decoded."""
    scan = pl.scan_csv(path, separator=";", infer_schema=False, encoding="utf8-lossy", quote_char='"', glob=False)
    keys = [k for k in ("DEPCOM", "QPV", "TYPECONST", "DPEENERGIE", "DPESERRE") if k in columns]
    sums = [_number(k, columns).sum().alias(k) for k in ("SURFHAB", "LOYERPRINC") if k in columns]
    if "SURFHAB" in columns and "LOYERPRINC" in columns:
        sums.append(_number("SURFHAB", columns).filter(_number("LOYERPRINC", columns).is_not_null()).sum().alias("surface_loyer"))
    grouped = (
        scan.select([pl.col(columns[k]).alias(k) for k in columns])
        .group_by(keys).agg(pl.len().alias("n"), *sums)
        .collect(engine="streaming")  # reads the national file in chunks: less memory, faster
    )
    return grouped.select(
        pl.col("DEPCOM").str.strip_chars().alias("commune_saisie"),
        _coded("QPV", QPV_CODES).alias("qpv"),
        _coded("TYPECONST", BUILDING_CODES).alias("individuel"),
        pl.col("QPV").alias("_qpv_saisi"), pl.col("TYPECONST").alias("_typeconst_saisi"),
        _label("DPEENERGIE").alias("dpe"),
        _label("DPESERRE").alias("ges") if "DPESERRE" in columns else pl.lit(None, pl.Utf8).alias("ges"),
        "n",
        (pl.col("SURFHAB") if "SURFHAB" in columns else pl.lit(None, pl.Float64)).alias("surface"),
        (pl.col("LOYERPRINC") if "LOYERPRINC" in columns else pl.lit(None, pl.Float64)).alias("loyer_mensuel"),
        (pl.col("surface_loyer") if "SURFHAB" in columns and "LOYERPRINC" in columns else pl.lit(None, pl.Float64)).alias("surface_loyer"),
    )


# The codes of the RPLS dictionary, and the labels of its published tables (« En QPV »,
# « Logements individuels »), without case: True / False; any other value is told (see _tell_unknown_codes).
QPV_CODES = {"1": True, "en qpv": True, "2": False, "0": False, "hors qpv": False}
BUILDING_CODES = {"i": True, "individuel": True, "logements individuels": True, "logement individuel": True,
                  "c": False, "collectif": False, "logements collectifs": False, "logement collectif": False}


def _coded(column: str, codes: dict[str, bool]) -> pl.Expr:
    text = pl.col(column).str.strip_chars().str.to_lowercase()
    return text.replace_strict(list(codes), list(codes.values()), default=None, return_dtype=pl.Boolean)


def _tell_unknown_codes(counts: pl.DataFrame, parsed: ParsedFile) -> pl.DataFrame:
    """Values of QPV or TYPECONST that are neither codes nor labels of the RPLS: their dwellings
    count as outside QPV / collective, and the file says so (never silently)."""
    from acterr_cli.errors import AVERTISSEMENT, Problem

    for column, raw, interpreted, codes, counted in (("QPV", "_qpv_saisi", "qpv", QPV_CODES, "hors QPV"),
                                                     ("TYPECONST", "_typeconst_saisi", "individuel", BUILDING_CODES, "collectifs")):
        unknown = counts.filter(pl.col(interpreted).is_null() & pl.col(raw).is_not_null() & (pl.col(raw).str.strip_chars() != ""))
        if unknown.height:
            values = unknown.group_by(raw).agg(pl.col("n").sum()).sort("n", descending=True)
            shown = ", ".join(f"« {v} » ({n})" for v, n in values.head(5).iter_rows())
            parsed.problems.append(Problem(
                fichier=parsed.path.name, regle=rules.CODE.code, gravite=AVERTISSEMENT, colonne=column, valeur=str(values[raw][0]),
                message=f"colonne {column} : valeur(s) non reconnue(s) {shown} ; {values['n'].sum()} logement(s) comptés {counted} "
                        f"(attendu : {', '.join(sorted(codes))})."))
    return counts.drop("_qpv_saisi", "_typeconst_saisi")


def _label(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars().str.to_uppercase()
    return pl.when(value.is_in(list(LABELS))).then(value).otherwise(None)


def _number(column: str, columns: dict[str, str]) -> pl.Expr:
    """A numeric column of the per-dwelling rows (before grouping, named by its canonical name)."""
    return pl.col(column).str.strip_chars().str.replace(",", ".").cast(pl.Float64, strict=False)


def _with_current_communes(counts: pl.DataFrame, reference: TerritorialReference, parsed: ParsedFile) -> pl.DataFrame:
    """Arrondissements and old codes rolled up into today's communes; unknown codes reported."""
    codes = counts.select("commune_saisie").unique()
    codes = pl.concat([codes, reference.normalize_communes(codes["commune_saisie"]).drop("commune_saisie")], how="horizontal")
    unknown = codes.filter(pl.col("commune").is_null())
    if unknown.height:
        lost = counts.join(unknown, on="commune_saisie")["n"].sum()
        from acterr_cli.errors import AVERTISSEMENT, Problem

        parsed.problems.append(Problem(
            fichier=parsed.path.name, regle=rules.COMMUNE.code, gravite=AVERTISSEMENT, colonne="DEPCOM",
            valeur=", ".join(unknown["commune_saisie"].drop_nulls().head(10).to_list()),
            message=f"{unknown.height} code(s) commune inconnu(s) : {lost} logement(s) non rattaché(s)."))
    return counts.join(codes.select("commune_saisie", "commune"), on="commune_saisie").drop_nulls("commune")


def _measures(counts: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    n = pl.col("n")
    exprs = {
        names["logements"]: n.sum(),
        names["qpv"]: n.filter(pl.col("qpv")).sum(),
        names["individuels"]: n.filter(pl.col("individuel")).sum(),
        **{f"{names['dpe']}{x.lower()}": n.filter(pl.col("dpe") == x).sum() for x in LABELS},
        names["dpe_inconnu"]: n.filter(pl.col("dpe").is_null()).sum(),
        names["ges_fg"]: n.filter(pl.col("ges").is_in(["F", "G"])).sum(),
    }
    return counts.group_by("commune").agg(**{k: v.cast(pl.Float64) for k, v in exprs.items()}, **_money(counts, names))


def _money(counts: pl.DataFrame, names: dict[str, str]) -> dict[str, pl.Expr]:
    """Surfaces and rents only when the release has them (SURFHAB, LOYERPRINC)."""
    out = {}
    if counts["surface"].is_not_null().any():
        out[names["surface"]] = pl.col("surface").sum()
    if counts["loyer_mensuel"].is_not_null().any():
        out[names["loyers"]] = 12 * pl.col("loyer_mensuel").sum()  # rent of 1 January × 12
        if "surface_loyer" in names:
            out[names["surface_loyer"]] = pl.col("surface_loyer").sum()
    return out


def _stock(counts: pl.DataFrame) -> pl.DataFrame:
    return _measures(counts, {
        "logements": "rpls_logements", "qpv": "rpls_qpv", "individuels": "rpls_individuels", "dpe": "rpls_dpe_",
        "dpe_inconnu": "rpls_dpe_inconnu", "ges_fg": "rpls_ges_fg", "surface": "rpls_surface_m2",
        "loyers": "rpls_loyers_eur", "surface_loyer": "rpls_surface_loyer_m2",
    })


def _patrimoine(counts: pl.DataFrame) -> pl.DataFrame:
    """The organisation's dwellings under the Patrimoine sheet's names."""
    return _measures(counts, {
        "logements": "logements", "qpv": "logements_qpv", "individuels": "logements_individuels", "dpe": "dpe_",
        "dpe_inconnu": "dpe_inconnu", "ges_fg": "ges_fg", "surface": "surface_m2", "loyers": "loyers_annuels_eur",
    })


def _provenance(table: pl.DataFrame, parsed: ParsedFile, exercice: int, siren: str) -> pl.DataFrame:
    return table.sort("commune").with_columns(
        pl.lit(siren).alias("siren"), pl.lit(exercice, pl.Int64).alias("exercice"),
        pl.lit(parsed.path.name).alias("source_fichier"), pl.lit(parsed.sha256).alias("source_sha256"),
        pl.lit(None, pl.Utf8).alias("feuille"), pl.lit(None, pl.Int64).alias("ligne"),
    )


def read_file(path: Path, reference: TerritorialReference, options: ReadOptions, facts) -> ParsedFile:
    """Entry of the reader registry (inputs/registry.py): `options.exercice` is the RPLS's year,
    `options.siren` the organisation whose patrimoine it is (None: every landlord)."""
    return read_rpls(path, reference, options.exercice, options.siren)
