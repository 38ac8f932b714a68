"""Sensitivity: each parameter alone at its low then high value, by hand on builders.py's fixture."""

import pytest
from builders import TOULOUSE_METROPOLE
from test_indicators import epci, pick  # noqa: F401 (fixture)


def test_eco06_drivers_one_at_a_time(epci):  # noqa: F811
    r = pick(epci, "ECO-06", TOULOUSE_METROPOLE)
    # ECO-06 = (7,5 M€ neuf × part_travaux_ht_neuf + 2,6 M€ réhab. et GE × part_travaux_ht_rehab) × r_emplois_travaux,
    # central (7,5 × 0,62 + 2,6 × 0,82) × 10 = 67,82 jobs.
    works = 7.5 * 0.62 + 2.6 * 0.82
    assert (r["moteur_1"], r["moteur_1_basse"], r["moteur_1_haute"]) == ("r_emplois_travaux", pytest.approx(works * (6 - 10), rel=1e-9),
                                                                         pytest.approx(works * (16 - 10), rel=1e-9))
    assert (r["moteur_2"], r["moteur_2_basse"], r["moteur_2_haute"]) == ("part_travaux_ht_neuf", pytest.approx(7.5 * -0.12 * 10, rel=1e-9),
                                                                         pytest.approx(7.5 * 0.09 * 10, rel=1e-9))
    assert (r["moteur_3"], r["moteur_3_basse"], r["moteur_3_haute"]) == ("part_travaux_ht_rehab", pytest.approx(2.6 * -0.05 * 10, rel=1e-9),
                                                                         pytest.approx(2.6 * 0.08 * 10, rel=1e-9))


def test_no_driver_without_parameter_nor_for_organisations(epci):  # noqa: F811
    assert pick(epci, "ECO-01", TOULOUSE_METROPOLE)["moteur_1"] is None
    assert epci.filter(epci["siren"].is_not_null())["moteur_1"].null_count() == epci.filter(epci["siren"].is_not_null()).height


def test_sensitivity_sheet_tornado_of_headline_figures(espace, tmp_path):
    from openpyxl import load_workbook

    from acterr_cli.api import report_inputs
    from acterr_cli.outputs.reports import Scope, write_report
    from acterr_cli.referentiel.model import load_referentiel

    inputs = report_inputs(espace, "EPCI", load_referentiel())
    written = write_report(tmp_path / "t.xlsx", inputs, scope=Scope.territory(TOULOUSE_METROPOLE))
    ws = load_workbook(written.path)["Sensibilité"]
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    titles = [r[0] for r in cells if r[0] and " — " in str(r[0])]
    assert titles[0].startswith("ECO-06")
    first = next(i for i, r in enumerate(cells) if r[0] == "r_emplois_travaux")
    works = 7.5 * 0.62 + 2.6 * 0.82
    assert cells[first][2] == pytest.approx(works * -4, rel=1e-9) and cells[first][3] == pytest.approx(works * 6, rel=1e-9)
    assert len(ws._charts) == len(titles)  # one tornado per figure
