"""RPLS per-dwelling files: territory stock (TER-06…TER-10) and an organisation's own patrimoine."""

import sys
from pathlib import Path

import builders
import polars as pl
import pytest
from test_indicators import pick
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace

sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
import expand_rpls  # noqa: E402

AGGREGATED = expand_rpls.DEFAULT_SOURCE
needs_shared = pytest.mark.skipif(not AGGREGATED.exists(), reason="../shared/data absent")

HEADER = "NUMLOGT;LIBVOIE;DEPCOM;QPV;TYPECONST;NBPIECE;CONSTRUCT;DPEENERGIE;DPESERRE;SURFHAB;LOYERPRINC\n"
SMALL = [  # 6 dwellings: Paris arrondissements roll up into 75056; « 1053 » lost its zero
    "1;rue Étienne;75111;1;C;3;1970;D;E;60,5;400",
    "2;rue Étienne;75111;2;C;2;1970;;;45;300",
    "3;rue Étienne;75120;1;C;4;1980;C;F;70;",
    "4;chemin;01053;2;I;5;2010;B;B;90;550",
    "5;chemin;01053;2;I;4;2012;A;A;85;500",
    "6;chemin;01053;2;C;3;1990;G;G;55;350",
]


def write_small(tmp_path, encoding="latin-1") -> Path:
    path = tmp_path / "rpls.csv"
    path.write_bytes((HEADER + "\n".join(SMALL) + "\n").encode(encoding))
    return path


def test_small_file_by_hand(tmp_path):
    root = tmp_path / "espace"
    report = api.import_paths(root, [write_small(tmp_path)], "rpls", exercice=2024)
    assert not report.refused
    [partial] = [p for p in report.problems if p.regle == "couverture"]
    assert partial.message.startswith("le fichier couvre 2 département(s) sur 101 (01, 75)")
    communes = api.compute_level(root, "COMMUNE").results
    paris, bourg = (lambda code: pick(communes, code, "75056"), lambda code: pick(communes, code, "01053"))
    assert paris("TER-06")["valeur"] == 3
    assert paris("TER-07")["valeur"] == pytest.approx(100 * 2 / 3)
    assert paris("TER-08")["valeur"] == pytest.approx(100 * 1 / 2)  # D and C known, one unknown
    assert paris("TER-10")["valeur"] == pytest.approx(100 * 1 / 3)
    assert bourg("TER-09")["valeur"] == pytest.approx(100 * 2 / 3)
    assert bourg("TER-06")["couverture"] == 100 and bourg("TER-06")["nb_organismes"] == 0
    # --expliquer names the RPLS file behind a territory's figure, with its millésime
    files = api.explain_figure(root, "TER-06", "COMMUNE", "75056")["fichiers"]
    assert [(f["type"], f["fichier"], f["exercice"]) for f in files] == [("rpls", "rpls.csv", 2024)]
    # Tenants' privacy: neither addresses nor dwelling identifiers reach the workspace.
    stored = Workspace.open(root, create=False).scan("rpls_territoire").collect()
    assert not {"LIBVOIE", "NUMLOGT"} & set(stored.columns)
    assert all(b"rue" not in p.read_bytes().lower() for p in root.rglob("*.parquet"))


def test_labels_of_the_published_tables_are_read_and_unknown_values_told(tmp_path):
    """« En QPV », « Logements individuels » (the published tables' labels) as well as the codes;
    a value that is neither counts outside QPV / collective, and the import says so."""
    path = tmp_path / "rpls.csv"
    path.write_text("DEPCOM;QPV;TYPECONST;DPEENERGIE;DPESERRE\n"
                    "31555;En QPV;Logements individuels;A;B\n31555;Hors QPV;Logements collectifs;C;G\n"
                    "31555;1;I;D;F\n31555;peut-être;X;Inconnu;\n", encoding="utf-8")
    root = tmp_path / "espace"
    report = api.import_paths(root, [path], "rpls", exercice=2019)
    told = {p.colonne: p.message for p in report.problems if p.regle == "code"}
    assert "« peut-être » (1) ; 1 logement(s) comptés hors QPV" in told["QPV"]
    assert "« X » (1) ; 1 logement(s) comptés collectifs" in told["TYPECONST"]
    toulouse = lambda code: pick(api.compute_level(root, "COMMUNE").results, code, "31555")  # noqa: E731
    assert toulouse("TER-06")["valeur"] == 4
    assert toulouse("TER-07")["valeur"] == pytest.approx(100 * 2 / 4)  # En QPV and 1
    assert toulouse("TER-09")["valeur"] == pytest.approx(100 * 2 / 4)  # Logements individuels and I


def test_organisation_patrimoine_from_rpls_replaces_the_sheet(tmp_path):
    root = tmp_path / "espace"
    api.import_paths(root, [builders.write_org_a(tmp_path)])
    rpls = tmp_path / "rpls_a.csv"
    rows = ["1;x;31555;1;C;3;1970;D;E;60;400", "2;x;31555;2;C;3;1970;C;E;60;400", "3;x;31069;2;I;3;1970;B;E;80;500"]
    rpls.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    api.import_paths(root, [rpls], "rpls", exercice=2025, siren=builders.SIREN_A)
    results = api.compute_level(root, "EPCI").results
    r = pick(results, "PV-01", builders.TOULOUSE_METROPOLE, builders.SIREN_A)
    assert r["valeur"] == pytest.approx(100 * 1 / 3)  # from the RPLS, not the sheet's 300 / 1 050
    assert pick(results, "TER-00", builders.TOULOUSE_METROPOLE, builders.SIREN_A)["valeur"] == 3
    # surface and rents come from SURFHAB and LOYERPRINC × 12
    assert pick(results, "SOC-04", builders.TOULOUSE_METROPOLE, builders.SIREN_A)["valeur"] == pytest.approx(1300 * 12 / 12 / 200)


@pytest.fixture(scope="module")
def real_rpls(tmp_path_factory):
    if not AGGREGATED.exists():
        pytest.skip("../shared/data absent")
    folder = tmp_path_factory.mktemp("rpls")
    source = expand_rpls.write(expand_rpls.expand(AGGREGATED, ["33", "31", "32"]), folder / "rpls.csv", latin1=True, red=True)
    root = folder / "espace"
    api.import_paths(root, [source], "rpls", exercice=2019)
    return root


def by_hand(prefixes: list[str]) -> dict:
    """TER-06…TER-10 computed directly from the aggregated source file."""
    agg = pl.read_csv(AGGREGATED, infer_schema=False).with_columns(pl.col("n").cast(pl.Int64))
    part = agg.filter(pl.col("DEPCOM").str.slice(0, 2).is_in(prefixes))
    n = part["n"].sum()
    known = part.filter(pl.col("dpeenergie") != "Inconnu")["n"].sum()
    return {
        "TER-06": n,
        "TER-07": 100 * part.filter(pl.col("qpv") == "En QPV")["n"].sum() / n,
        "TER-08": 100 * part.filter(pl.col("dpeenergie").is_in(["A", "B", "C"]))["n"].sum() / known,
        "TER-09": 100 * part.filter(pl.col("typeconst") == "Logements individuels")["n"].sum() / n,
        "TER-10": 100 * (n - known) / n,
        # letting bans of the loi Climat et résilience: G from 2025, F–G from 2028, E–G from 2034
        "TER-11": part.filter(pl.col("dpeenergie") == "G")["n"].sum(),
        "TER-12": part.filter(pl.col("dpeenergie").is_in(["F", "G"]))["n"].sum(),
        "TER-13": part.filter(pl.col("dpeenergie").is_in(["E", "F", "G"]))["n"].sum(),
    }


@needs_shared
def test_real_rpls_by_departement_and_region(real_rpls):
    departements = api.compute_level(real_rpls, "DEPARTEMENT").results
    gironde = {code: pick(departements, code, "33")["valeur"] for code in ("TER-06", "TER-07", "TER-08", "TER-09", "TER-10",
                                                                           "TER-11", "TER-12", "TER-13")}
    assert gironde["TER-06"] == 103_911
    assert gironde["TER-07"] == pytest.approx(100 * 23_028 / 103_911)
    assert gironde == pytest.approx(by_hand(["33"]))
    # Occitanie has 13 départements, 2 of them imported: no stock rather than a partial sum taken
    # for the whole (the import warned), nor for Nouvelle-Aquitaine (Gironde only)
    regions = api.compute_level(real_rpls, "REGION").results
    assert regions.filter(pl.col("code_territoire").is_in(["75", "76"])).is_empty()


def test_a_regional_extract_beside_organisations_leaves_the_wider_levels_without_stock(tmp_path):
    """Organisations' questionnaires and the RPLS of two départements: the région and France are
    computed (and reported) without a social stock, never with a partial one, and never crash."""
    root = tmp_path / "espace"
    api.import_paths(root, builders.write_all(tmp_path / "entrees"))
    api.import_paths(root, [write_small(tmp_path)], "rpls", exercice=2025)
    for level in ("REGION", "FRANCE"):
        results = api.compute_level(root, level).results
        assert results.filter((pl.col("indicateur") == "TER-06") & (pl.col("statut") == "calcule")).is_empty(), level
    occitanie = pick(api.compute_level(root, "REGION").results, "TER-06", "76")
    assert occitanie["motif"].startswith("donnée du territoire absente")


def test_summary_of_a_workspace_with_only_the_territories_rpls(tmp_path):
    """Without any organisation, `acterr compute` shows the territories' social stock (not an empty
    table), largest first, at most 40 rows with the count of the others."""
    # 45 communes of the Ain (01001…01045 that exist), 46 - i dwellings each, one of them in a QPV
    reference = TerritorialReference.load()
    communes = sorted(c for c in reference.territory_map()["commune"].to_list() if c.startswith("01"))[:45]
    rows = [f"{c}-{k};x;{c};{1 if k == 0 else 2};C;3;1970;B;B;50;300" for i, c in enumerate(communes) for k in range(46 - i)]
    source = tmp_path / "rpls.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    root = tmp_path / "espace"
    api.import_paths(root, [source], "rpls", exercice=2024)
    result = CliRunner().invoke(app, ["--espace", str(root), "compute", "--territoire", "COMMUNE"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Parc social des territoires (RPLS, tous bailleurs)" in result.stdout
    first = reference.territory_map().filter(pl.col("commune") == communes[0])["nom_commune"][0]
    line = next(li for li in result.stdout.splitlines() if li.strip().startswith(first))
    # 46 dwellings, 1 in a QPV, all DPE B, collective; each figure followed by its grade (fiabilite)
    figures = [t for t in line.split() if t not in ("A", "B", "C")]
    assert figures[-4:] == ["46", "2,2", "100,0", "0,0"]
    assert line.split()[-1] in ("A", "B", "C")
    assert "les 40 territoires qui ont le plus de logements sur 45" in " ".join(result.stdout.split())
    assert "sans logement des organismes" not in result.stdout
