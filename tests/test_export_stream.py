"""The data files of a whole level (export --format csv|parquet) are streamed from the stored
results, without a report's model: the same bytes as the report's way, on the samples."""

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.outputs.reports.export import LevelExportResult, write_export

SAMPLES = Path(__file__).parents[1] / "samples"
runner = CliRunner()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    espace = tmp_path_factory.mktemp("echantillons") / "espace"
    files = sorted((SAMPLES / "questionnaires").glob("*.xlsx")) + [SAMPLES / "liasse_2025.csv"]
    assert not api.import_paths(espace, files).refused
    return espace


@pytest.mark.parametrize("level", ["COMMUNE", "EPCI"])
def test_streamed_level_data_is_the_reports_data(samples, tmp_path, level):
    for fmt in ("csv", "parquet"):
        request = api.ExportRequest(sortie=tmp_path / f"flux.{fmt}", niveau=level, format=fmt)
        streamed = api.export(samples, request)
        assert isinstance(streamed, LevelExportResult)  # no report model built
        reference = api.ExportRequest(sortie=tmp_path / f"rapport.{fmt}", niveau=level, format=fmt)
        built = write_export(api.report_inputs(samples, level), reference)
        if fmt == "csv":
            assert (tmp_path / "flux.csv").read_bytes() == (tmp_path / "rapport.csv").read_bytes()
            assert (tmp_path / "flux.provenance.json").read_bytes() == (tmp_path / "rapport.provenance.json").read_bytes()
        else:
            assert_frame_equal(pl.read_parquet(tmp_path / "flux.parquet"), pl.read_parquet(tmp_path / "rapport.parquet"))
            assert (pl.read_parquet_metadata(tmp_path / "flux.parquet")["acterr"]
                    == pl.read_parquet_metadata(tmp_path / "rapport.parquet")["acterr"])
        described, expected = streamed.to_dict(), built.to_dict()
        for d in (described, expected):
            d.pop("rapport")
            for f in d["fichiers"]:
                f.pop("chemin")
        assert described == expected and expected["non_reparti"]
    # an earlier exercice (the samples have 2024 and 2025)
    request = api.ExportRequest(sortie=tmp_path / "flux-2024.csv", niveau=level, format="csv", exercice=2024)
    assert isinstance(api.export(samples, request), LevelExportResult)
    write_export(api.report_inputs(samples, level), api.ExportRequest(sortie=tmp_path / "rapport-2024.csv", niveau=level, format="csv",
                                                                      exercice=2024))
    assert (tmp_path / "flux-2024.csv").read_bytes() == (tmp_path / "rapport-2024.csv").read_bytes()


def test_streamed_export_through_the_command(samples, tmp_path):
    result = runner.invoke(app, ["--espace", str(samples), "export", "--territoire", "COMMUNE", "--format", "csv",
                                 "--sortie", str(tmp_path / "communes.csv")])
    assert result.exit_code == 0, result.output
    assert "Ensemble des organismes importés — exercice 2025" in result.stdout and "Résultats écrits" in result.stdout
    again = runner.invoke(app, ["--espace", str(samples), "export", "--territoire", "COMMUNE", "--format", "csv",
                                "--sortie", str(tmp_path / "communes.csv")])
    assert again.exit_code == 2 and "--forcer" in again.stderr  # never replaced silently
    missing = runner.invoke(app, ["--espace", str(samples), "export", "--territoire", "COMMUNE", "--format", "parquet",
                                  "--exercice", "2019", "--sortie", str(tmp_path / "x.parquet")])
    assert missing.exit_code == 4 and "exercices disponibles : 2024, 2025" in missing.stderr
    described = json.loads(runner.invoke(app, ["--espace", str(samples), "export", "--territoire", "EPCI", "--format", "parquet",
                                               "--sortie", str(tmp_path / "e.parquet"), "--json"]).stdout)
    assert described["niveau"] == "EPCI" and described["perimetre"]["type"] == "ensemble"



def test_level_written_a_slice_at_a_time(samples, tmp_path, monkeypatch):
    """The stored results are read a few rows at a time (tabular.SLICE_ROWS): the same rows, in
    the same order, as reading them whole, and the same data files as the report's way."""
    from acterr_cli.outputs.reports import tabular

    stored = tabular.choose_year(api._stored_level(samples, "COMMUNE", None, 0.0), 2025)
    whole = pl.read_parquet(stored.path).filter(pl.col("exercice") == 2025).with_columns(pl.col(pl.Categorical).cast(pl.String))
    expected = pl.concat([whole.filter(pl.col("siren").is_null()), whole.filter(pl.col("siren").is_not_null())])
    assert expected.height > 50 and expected["siren"].null_count() > 0
    monkeypatch.setattr(tabular, "SLICE_ROWS", 7)
    slices = list(stored.slices())
    assert len(slices) > 10 and max(s.height for s in slices) <= 7
    assert_frame_equal(pl.concat(slices), expected)
    assert_frame_equal(stored.rows().collect(), expected)
    for fmt in ("csv", "parquet"):
        api.export(samples, api.ExportRequest(sortie=tmp_path / f"flux.{fmt}", niveau="COMMUNE", format=fmt))
        write_export(api.report_inputs(samples, "COMMUNE"), api.ExportRequest(sortie=tmp_path / f"rapport.{fmt}", niveau="COMMUNE",
                                                                             format=fmt))
    assert (tmp_path / "flux.csv").read_bytes() == (tmp_path / "rapport.csv").read_bytes()
    assert_frame_equal(pl.read_parquet(tmp_path / "flux.parquet"), pl.read_parquet(tmp_path / "rapport.parquet"))
    assert pl.read_parquet_metadata(tmp_path / "flux.parquet")["acterr"] == pl.read_parquet_metadata(tmp_path / "rapport.parquet")["acterr"]
    # no rows for the exercice: the header alone, an empty table
    stored.year = 1999
    tabular.write_level(tmp_path / "vide.csv", stored, "csv")
    tabular.write_level(tmp_path / "vide.parquet", stored, "parquet")
    assert (tmp_path / "vide.csv").read_text("utf-8") == ",".join(expected.columns) + "\n"
    assert_frame_equal(pl.read_parquet(tmp_path / "vide.parquet"), expected.clear())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_level_written_on_a_full_disk_names_the_file(samples, tmp_path, monkeypatch, fmt):
    """A full disk while the slices are written: the user's file named with the system's reason
    (app.py says it in French), nothing left behind."""
    import errno
    import io

    from acterr_cli.outputs.reports import tabular

    class Full(io.RawIOBase):
        def writable(self):
            return True

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tabular, "open", lambda *args, **kwargs: Full(), raising=False)
    out = tmp_path / "sortie"
    with pytest.raises(OSError) as raised:
        api.export(samples, api.ExportRequest(sortie=out / f"communes.{fmt}", niveau="COMMUNE", format=fmt))
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(out / f"communes.{fmt}")
    assert list(out.iterdir()) == []
