"""The workspace's Parquet layout is hive-partitioned and readable as is by other engines."""

import builders
import duckdb
import pytest
from test_indicators import pick

from acterr_cli import api


def test_duckdb_reads_the_facts_as_they_are(espace):
    con = duckdb.connect()
    rows = con.sql(
        f"select exercice, siren, sum(logements) as logements from read_parquet('{espace}/faits/patrimoine/*/*.parquet', "
        "hive_partitioning = true) group by exercice, siren order by siren"
    ).fetchall()
    assert rows == [(2025, builders.SIREN_A, 1050), (2025, builders.SIREN_B, 700)]
    france = api.compute_level(espace, "FRANCE").results
    assert pick(france, "TER-00", "FR")["valeur"] == pytest.approx(sum(r[2] for r in rows))


def test_duckdb_reads_the_results(espace):
    api.compute_level(espace, "EPCI")
    con = duckdb.connect()
    value = con.sql(
        f"select valeur from read_parquet('{espace}/resultats/EPCI.parquet') "
        f"where indicateur = 'ECO-01' and code_territoire = '{builders.TOULOUSE_METROPOLE}' and siren is null"
    ).fetchall()[0][0]
    assert value == pytest.approx(10_100_000)
    # stored dictionary-encoded (see compute.TEXT), read as plain text by other engines
    types = {r[0]: r[1] for r in con.sql(f"describe select * from read_parquet('{espace}/resultats/EPCI.parquet')").fetchall()}
    assert types["indicateur"] == types["code_territoire"] == types["motif"] == "VARCHAR"
