"""The whole chain over samples/, as `make demo` runs it (questionnaires, liasse, then the sample
market rents), checked against the liasse totals (the demo liasse gives the same organisation
totals as the questionnaires) and, for the tenants' gain, by hand."""

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app

SAMPLES = Path(__file__).parents[1] / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    espace = root / "espace"
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + sorted(SAMPLES.glob("liasse_*.csv"))  # 2024 and 2025, as make demo
    result = runner.invoke(app, ["--espace", str(espace), "import", *map(str, files)])
    assert result.exit_code == 0, result.output
    for housing, name in (("appartement", "appartements"), ("maison", "maisons")):
        rents = SAMPLES / "loyers" / f"exemple_carte_loyers_{name}_2024.csv"
        result = runner.invoke(app, ["--espace", str(espace), "import", "--type", "loyers", "--exercice", "2024",
                                     "--logement", housing, str(rents)])
        assert result.exit_code == 0 and "loyers_marche (34)" in result.output, result.output
    return root, espace


def results(espace: Path, level: str) -> list[dict]:
    result = runner.invoke(app, ["--espace", str(espace), "compute", "--territoire", level, "--exercice", "2025", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["resultats"]


def consolidated(rows: list[dict], code: str) -> list[dict]:
    return [r for r in rows if r["indicateur"] == code and r["siren"] is None]


@pytest.fixture(scope="module")
def liasse() -> pl.DataFrame:
    return pl.read_csv(SAMPLES / "liasse_2025.csv", separator=";", decimal_comma=True)


def test_france_totals_match_the_liasse(demo, liasse):
    _, espace = demo
    france = results(espace, "FRANCE")
    [eco01] = consolidated(france, "ECO-01")
    invest = (liasse["invest_neuf_eur"] + liasse["invest_rehab_eur"] + liasse["gros_entretien_eur"]).sum()
    assert eco01["valeur"] == pytest.approx(invest, rel=1e-9)
    assert eco01["couverture"] == 100
    [eco10] = consolidated(france, "ECO-10")
    assert eco10["valeur"] == pytest.approx(liasse["tfpb_eur"].sum(), rel=1e-9)
    [eco08] = consolidated(france, "ECO-08")
    assert eco08["valeur"] == pytest.approx(liasse["etp_total"].sum(), rel=1e-6)
    [ter00] = consolidated(france, "TER-00")
    assert ter00["valeur"] == liasse["logements"].sum()


def test_epci_figures_add_up_to_the_region_for_additive_indicators(demo):
    _, espace = demo
    epci = results(espace, "EPCI")
    region = results(espace, "REGION")
    for code in ("TER-00", "ECO-10", "SOC-01"):
        by_epci = sum(r["valeur"] for r in consolidated(epci, code) if r["valeur"] is not None)
        occitanie = [r for r in consolidated(region, code) if r["code_territoire"] == "76"]
        assert occitanie and occitanie[0]["valeur"] == pytest.approx(by_epci, rel=1e-9), code


def test_magnitudes_are_plausible(demo):
    _, espace = demo
    region = [r for r in results(espace, "REGION") if r["code_territoire"] == "76" and r["siren"] is None]
    value = {r["indicateur"]: r["valeur"] for r in region}
    assert 5.5 < value["SOC-04"] < 7.5  # national average rent 6.52 €/m²/month
    assert 20 < value["PV-01"] < 50  # 31 % of the social stock in QPV nationally
    assert 2_000 < value["ECO-14"] < 5_000  # ≈ 3 400 € invested per dwelling and year


def test_export_writes_the_board_report(demo):
    root, espace = demo
    target = root / "rapport.xlsx"
    result = runner.invoke(app, ["--espace", str(espace), "export", "--territoire", "EPCI", "--sortie", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists()
    assert "Rapport Excel écrit" in result.stdout
    again = runner.invoke(app, ["--espace", str(espace), "export", "--sortie", str(target)])
    assert again.exit_code == 2  # never overwritten silently


def test_tenants_gain_comes_from_the_market_rents(demo):
    """The sample rents cover every commune of the Patrimoine sheets: SOC-01 owes nothing to the
    national flat rate. CA Le Muretain Agglo is Muret alone (Garonne Habitat): 410 dwellings of
    which 16 vacant and 45 houses, 27 365 m², 2 068 355 € of rents; sample market rents 11,2 €/m²
    (apartments) and 10,2 €/m² (houses), corrected from asking rents by 0,93
    (correction_loyer_annonce), 2,30 €/m² of recoverable charges (charges_locatives_m2):
    12 × 27 365 × 394/410 × ((365/410 × 11,2 + 45/410 × 10,2) × 0,93 − 2,30) − 2 068 355 ≈ 460 561 €,
    where the flat rate would give 394 × 261 × 12 = 1 233 976 €."""
    _, espace = demo
    epci = consolidated(results(espace, "EPCI"), "SOC-01")
    assert epci and all(r["part_forfaitaire"] == 0 for r in epci)
    [muret] = [r for r in epci if r["code_territoire"] == "200068641"]
    assert muret["valeur"] == pytest.approx(12 * 27_365 * 394 / 410 * ((365 / 410 * 11.2 + 45 / 410 * 10.2) * 0.93 - 2.30) - 2_068_355)
    assert muret["valeur"] == pytest.approx(460_561.19, abs=0.01)


@pytest.mark.parametrize("level", ["EPCI", "DEPARTEMENT", "REGION", "COMMUNE"])
def test_territories_plus_not_placed_give_france_to_the_cent(demo, level):
    """Issue « truth », done when: on the samples, the territories plus NON_REPARTI equal FRANCE."""
    _, espace = demo
    france = results(espace, "FRANCE")
    rows = results(espace, level)
    unrounded = api.compute_level(espace, level, store=False).results  # the engine's figures, before the JSON's rounding
    for code in ("ECO-01", "ECO-10", "ECO-03", "SOC-01", "TER-00"):
        [whole] = consolidated(france, code)
        parts = [r["valeur"] for r in consolidated(rows, code) if r["valeur"] is not None]
        assert any(r["code_territoire"] == "NON_REPARTI" for r in consolidated(rows, code)), (level, code)
        # Each figure of the JSON is rounded to the cent: half a cent each at most, beyond the engine's exact sums.
        assert sum(parts) == pytest.approx(whole["valeur"], abs=0.005 * (len(parts) + 1)), (level, code)
        exact = unrounded.filter((pl.col("indicateur") == code) & pl.col("siren").is_null()
                                 & (pl.col("exercice") == whole["exercice"]))["valeur"].drop_nulls().sum()
        assert exact == pytest.approx(whole["valeur"], abs=0.01), (level, code)


def test_local_purchases_stay_inside_each_organisation_s_anchorage(demo):
    """At FRANCE level, an organisation that buys outside its anchorage territory has ECO-03 below ECO-02."""
    _, espace = demo
    france = results(espace, "FRANCE")
    by = {(r["indicateur"], r["siren"]): r["valeur"] for r in france if r["siren"] is not None}
    buyers = [s for (code, s), v in by.items() if code == "ECO-02" and v]
    assert buyers and all(by[("ECO-03", s)] < by[("ECO-02", s)] for s in buyers)
    lm3 = {by[("ECO-12", s)] for s in buyers}
    assert len(lm3) == len(buyers)  # computed from each organisation's data, not the parameters' echo
