"""Reproducible figures: CSV and JSON give amounts and counts to the cent, ratios, percentages and
shares to 6 significant digits (outputs/rounding.py), and the same text from run to run."""

import json

import polars as pl
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.outputs.rounding import rounded, rounded_figure, rounded_share

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_each_figure_is_rounded_by_its_unit():
    table = pl.DataFrame({
        "unite": ["€", "€/logt/an", "logements", "%", "pour 100 logts", "‰", "ratio", "tCO2e/an"],
        "valeur": [1234.5678, 2.005000001, 10.0000000004, 12.3456789, 0.000123456789, 4.44444444, 123456.789, 0.126],
        "valeur_basse": [1234.5678] * 8,
        "variation": [-0.004999, 0.0, 1e-11, 0.1234567, 1.0, 2.0, 3.0, None],
        "couverture": [0.123456789] * 8,
        "variation_pct": [33.3333333333] * 8,
    })
    out = rounded(table)
    assert out["valeur"].to_list() == [1234.57, 2.01, 10.0, 12.3457, 0.000123457, 4.44444, 123457.0, 0.13]
    assert out["valeur_basse"].to_list() == [1234.57, 1234.57, 1234.57, 1234.57, 1234.57, 1234.57, 1234.57, 1234.57]
    assert out["variation"].to_list() == [0.0, 0.0, 0.0, 0.123457, 1.0, 2.0, 3.0, None]
    assert str(out["variation"][0]) == "0.0"  # not « -0.0 »
    assert out["couverture"].to_list() == [0.123457] * 8 and out["variation_pct"].to_list() == [33.3333] * 8
    assert rounded(table.lazy()).collect().equals(out)
    assert rounded_figure(1234.5678, "€") == 1234.57 and rounded_figure(12.3456789, "%") == 12.3457 and rounded_figure(None, "€") is None
    assert rounded_share(0.123456789) == 0.123457 and rounded_share(None) is None


def _document(espace, *args) -> dict:
    result = run("--espace", espace, "compute", "--territoire", "EPCI,FRANCE", "--json", *args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for level in document["calculs"]:
        level["provenance"].pop("calcule_le")
    return document


def test_json_and_csv_give_rounded_figures_the_same_at_each_run(espace, tmp_path):
    first, second = _document(espace), _document(espace)
    assert first == second
    library = api.compute_level(espace, "EPCI", store=False).results
    assert first["calculs"][0]["resultats"] == json.loads(json.dumps(rounded(library).to_dicts()))
    for level in first["calculs"]:
        for row in level["resultats"]:
            if row["valeur"] is not None and row["unite"] == "€":
                assert round(row["valeur"], 2) == row["valeur"]
    for name in ("a.csv", "b.csv"):
        result = run("--espace", espace, "export", "--territoire", "EPCI", "--format", "csv", "--sortie", tmp_path / name)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    csv = pl.read_csv(tmp_path / "a.csv", infer_schema=False)
    euros = csv.filter(pl.col("unite") == "€")["valeur"].drop_nulls().to_list()
    assert euros and all(len(v.partition(".")[2]) <= 2 for v in euros)  # never « 1234.5600000000002 »
    shares = csv["couverture"].drop_nulls().to_list()
    assert shares and all(len(v.replace("-", "").replace(".", "").lstrip("0")) <= 6 for v in shares if "e" not in v)
