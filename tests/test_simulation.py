"""Uncertainty by simulation (`compute --simulations N --graine S`): quantiles of each figure when
every parameter is drawn from a triangular distribution on its low, central and high values."""

import json
import math

import pytest
from builders import TOULOUSE_METROPOLE
from test_cli import run
from test_indicators import pick

from acterr_cli import api
from acterr_cli.engine.simulation import Simulation, _triangular
from acterr_cli.errors import UsageError


def test_same_seed_same_quantiles_ordered_within_the_range(espace):
    outputs = []
    for _ in range(2):
        result = run("--espace", espace, "compute", "--territoire", "EPCI", "--json", "--simulations", "400", "--graine", "7")
        assert result.exit_code == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    first, second = outputs
    assert first["resultats"] == second["resultats"]
    assert first["provenance"]["simulation"]["tirages"] == 400 and first["provenance"]["simulation"]["graine"] == 7
    computed = [r for r in first["resultats"] if r["statut"] == "calcule" and r["code_territoire"] != "NON_REPARTI"]
    assert computed and all(r["p10"] is not None for r in computed)
    for r in computed:
        slack = 1e-9 * max(1.0, abs(r["valeur_basse"]), abs(r["valeur_haute"]))
        assert r["valeur_basse"] - slack <= r["p10"] <= r["p50"] <= r["p90"] <= r["valeur_haute"] + slack, r
    # a figure without an uncertain parameter is certain
    eco01 = next(r for r in computed if r["indicateur"] == "ECO-01" and r["siren"] is None)
    assert eco01["p10"] == eco01["p50"] == eco01["p90"] == eco01["valeur"]


def test_quantiles_of_one_triangular_parameter_by_hand(espace):
    # ECO-07 = 40 housing starts × r_emplois_par_logt_construit (1,6 / 2,4 / 2,4) + 100 renovations × 0,5:
    # r ~ Tri(1,6 ; 2,4 ; 2,4), whose quantile at u is 1,6 + 0,8 √u.
    results = api.compute_level(espace, "EPCI", store=False, simulation=Simulation(40_000, 3)).results
    r = pick(results, "ECO-07", TOULOUSE_METROPOLE)
    for key, u in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        assert r[key] == pytest.approx(40 * (1.6 + 0.8 * math.sqrt(u)) + 50, rel=3e-3), key


def test_triangular_inverse():
    assert _triangular(__import__("numpy").array([0.0, 0.5, 1.0]), 0.0, 1.0, 2.0).tolist() == [0.0, 1.0, 2.0]


def test_seed_without_draws_and_bad_counts(espace):
    result = run("--espace", espace, "compute", "--graine", "7")
    assert result.exit_code != 0 and "--graine va avec --simulations" in result.stderr
    with pytest.raises(UsageError):
        Simulation(0)


def test_declared_correlation_draws_parameters_together(tmp_path):
    import numpy as np

    from acterr_cli.engine.simulation import draw
    from acterr_cli.errors import ConfigurationError
    from acterr_cli.referentiel.model import load_referentiel

    user = tmp_path / "ar.toml"
    user.write_text('[[correlation]]\nparametres = ["prix_kwh_gaz", "prix_kwh_fioul"]\ncoefficient = 0.9\nsource = "essai"\n', "utf-8")
    ref = load_referentiel(surcharges=[user])
    draws = draw(ref, Simulation(5000, 1))
    gaz = draws.high["prix_kwh_gaz"] - draws.low["prix_kwh_gaz"]
    fioul = draws.high["prix_kwh_fioul"] - draws.low["prix_kwh_fioul"]
    assert np.corrcoef(np.argsort(np.argsort(gaz)), np.argsort(np.argsort(fioul)))[0, 1] > 0.8
    independent = draw(load_referentiel(), Simulation(5000, 1))
    assert abs(np.corrcoef(independent.high["prix_kwh_gaz"] - independent.low["prix_kwh_gaz"],
                           independent.high["prix_kwh_fioul"] - independent.low["prix_kwh_fioul"])[0, 1]) < 0.1
    user.write_text('[[correlation]]\nparametres = ["prix_kwh_gaz", "inconnu"]\ncoefficient = 1.5\n', "utf-8")
    from acterr_cli.engine.measures import raw_measures

    with pytest.raises(ConfigurationError, match="paramètre inconnu « inconnu »"):
        load_referentiel(surcharges=[user]).validate(set(raw_measures()))


def test_a_product_of_two_uncertain_parameters_keeps_their_interaction():
    """A figure of 100 that each of two drivers alone moves by ±20: if its value with both at their
    high value is 144 (1,2 × 1,2: a product), every draw where both are at their high value gives
    144; if it is 140 (a sum), 140. The joint values choose the rule."""
    import numpy as np

    from acterr_cli.engine.simulation import Draws, quantiles

    both_high = Draws({"a": np.zeros(5), "b": np.zeros(5)}, {"a": np.ones(5), "b": np.ones(5)}, 5)
    central, low, high = np.array([100.0]), [np.array([80.0])] * 2, [np.array([120.0])] * 2
    product = quantiles(central, low, high, ["a", "b"], both_high, (np.array([64.0]), np.array([144.0])))
    added = quantiles(central, low, high, ["a", "b"], both_high, (np.array([60.0]), np.array([140.0])))
    assert [product[k][0] for k in ("p10", "p50", "p90")] == pytest.approx([144.0] * 3)
    assert [added[k][0] for k in ("p10", "p50", "p90")] == pytest.approx([140.0] * 3)
    # half way to the high value for both: 110 × 110 / 100 = 121 as a product, 120 as a sum
    halfway = Draws({"a": np.zeros(3), "b": np.zeros(3)}, {"a": np.full(3, 0.5), "b": np.full(3, 0.5)}, 3)
    assert quantiles(central, low, high, ["a", "b"], halfway, (np.array([64.0]), np.array([144.0])))["p50"][0] == pytest.approx(121.0)
    assert quantiles(central, low, high, ["a", "b"], halfway)["p50"][0] == pytest.approx(120.0)  # no joint values: a sum
