"""Sensitivity of each consolidated figure to its parameters, one at a time.

A figure's « drivers » are the parameters its formulas use (through the indicators they use) whose
low and high values differ, and, for the market-rent comparison (SOC-01, SOC-03), the factors
applied while the facts are reduced (measures.MARKET_FACTORS: the rent correction, the charges, the
default vacancy and the rent map's own interval). Each driver is set alone to its low then its high
value, every other parameter staying central: the figure's change, in its unit, is its swing.

Settings name these evaluations: a scenario (« basse », « centrale », « haute ») or
`<driver>^<end>`. The formula of a one-at-a-time setting is the central one, except for a driver
that only a low or high variant uses (ENV-03's `part_economies_reelles`, in `formule_basse`): that
variant is then the driver's formula, its other parameters central.

The three drivers of widest swing are kept with each consolidated result (results.SENSITIVITY_SCHEMA).
"""

from __future__ import annotations

import polars as pl

from acterr_cli.engine.measures import MARKET_CENTRAL, MARKET_FACTORS, MARKET_RENT_FACTOR, market_swing
from acterr_cli.referentiel.model import SCENARIOS, Indicator, Referentiel, formula_names
from acterr_cli.results import SENSITIVITY_SCHEMA, SENSITIVITY_TOP

SWING = "^"
ENDS = ("basse", "haute")
TOP = SENSITIVITY_TOP
RENT_FACTOR_LABEL = "Intervalle de prédiction de la carte des loyers (donnée, non paramètre)"


def setting(driver: str, end: str) -> str:
    return f"{driver}{SWING}{end}"


def parse(name: str) -> tuple[str | None, str]:
    """(driver, end) of a one-at-a-time setting; (None, scenario) for a scenario."""
    if name in SCENARIOS:
        return None, name
    driver, end = name.rsplit(SWING, 1)
    return driver, end


def formula(ind: Indicator, name: str) -> str:
    """The formula evaluated in a setting (see the module's docstring)."""
    driver, end = parse(name)
    if driver is None:
        return ind.formula(end)
    variant = ind.formula(end)
    if driver in formula_names(variant) and driver not in formula_names(ind.formula("centrale")):
        return variant
    return ind.formula("centrale")


def parameter_scenario(parameter: str, name: str) -> str:
    """The scenario whose value a parameter takes in a setting."""
    driver, end = parse(name)
    if driver is None:
        return end
    return end if parameter == driver else "centrale"


def measure_in_setting(measure: str, name: str) -> str:
    """The measure read in a setting: a market measure's one-at-a-time variant for a market factor."""
    driver, end = parse(name)
    if driver in MARKET_FACTORS and measure in MARKET_CENTRAL:
        return market_swing(measure.removesuffix("_centrale"), driver, end)
    return measure


def drivers(referentiel: Referentiel, ind: Indicator, raw_roots: set[str]) -> list[str]:
    """The indicator's drivers: parameters whose low and high values differ, and the market
    factors when it rests on the market-rent comparison."""
    moving = {p for p in referentiel.parameters_used(ind) if referentiel.parameters[p].basse != referentiel.parameters[p].haute}
    if raw_roots & set(MARKET_CENTRAL):
        moving |= {f for f in MARKET_FACTORS if f == MARKET_RENT_FACTOR
                   or (f in referentiel.parameters and referentiel.parameters[f].basse != referentiel.parameters[f].haute)}
    return sorted(moving)


def label(referentiel: Referentiel, driver: str) -> str:
    if driver in referentiel.parameters:
        return referentiel.parameters[driver].libelle
    return RENT_FACTOR_LABEL if driver == MARKET_RENT_FACTOR else driver


def swing_layers(key: str, central: pl.Expr, ends: list[tuple[pl.Expr, pl.Expr]]) -> list[list[pl.Expr]]:
    """The columns `top_drivers` reads, in two layers to add to the frame one after the other:
    each driver's change at its low and high end (`<key>|<i>|basse`, `…|haute`) and the span
    between them (`…|ecart`), then its rank among the drivers (`…|rang`, 0: widest; ties in the
    order of `ends`). Made as columns, not repeated inside each of `top_drivers`' nine
    expressions: a figure with six drivers would otherwise be an expression of thousands of
    nodes, whose planning cost more than its work on every level."""
    first = []
    for i, (lo, hi) in enumerate(ends):
        first += [(lo - central).alias(_helper(key, i, "basse")), (hi - central).alias(_helper(key, i, "haute")),
                  ((hi - central) - (lo - central)).abs().fill_null(0.0).alias(_helper(key, i, "ecart"))]
    spans = [pl.col(_helper(key, i, "ecart")) for i in range(len(ends))]
    ranks = [pl.sum_horizontal([(spans[j] > spans[i]) if j > i else (spans[j] >= spans[i]) for j in range(len(ends)) if j != i]
                               or [pl.lit(0)]).alias(_helper(key, i, "rang")) for i in range(len(ends))]
    return [first, ranks] if ends else [[], []]


def _helper(key: str, i: int, what: str) -> str:
    return f"{key}|moteur{i}|{what}"


def top_drivers(key: str, central: pl.Expr, names: list[str]) -> dict[str, pl.Expr]:
    """SENSITIVITY_SCHEMA's columns from each driver's values at its low and high ends, over a
    frame with `swing_layers(key, …)`'s columns (drivers in the order of `names`): the widest
    swings first; a driver that moves nothing is not one. Plain comparisons, not lists: a COMMUNE
    run ranks the drivers of hundreds of thousands of figures."""
    if not names:
        return {c: pl.lit(None, t) for c, t in SENSITIVITY_SCHEMA.items()}
    low = [pl.col(_helper(key, i, "basse")) for i in range(len(names))]
    high = [pl.col(_helper(key, i, "haute")) for i in range(len(names))]
    spans = [pl.col(_helper(key, i, "ecart")) for i in range(len(names))]
    ranks = [pl.col(_helper(key, i, "rang")) for i in range(len(names))]
    # a swing below a billionth of the figure is the noise of sums made in another order
    tiny = 1e-9 * central.abs()
    columns: dict[str, pl.Expr] = {}
    for r in range(min(TOP, len(names))):
        def pick(values: list, r: int = r) -> pl.Expr:
            chosen = pl.when((ranks[0] == r) & (spans[0] > tiny)).then(values[0])
            for i in range(1, len(names)):
                chosen = chosen.when((ranks[i] == r) & (spans[i] > tiny)).then(values[i])
            return pl.when(central.is_not_null()).then(chosen.otherwise(None))

        columns[f"moteur_{r + 1}"] = pick([pl.lit(n) for n in names])
        columns[f"moteur_{r + 1}_basse"] = pick(low)
        columns[f"moteur_{r + 1}_haute"] = pick(high)
    return {c: columns.get(c, pl.lit(None)).cast(t) for c, t in SENSITIVITY_SCHEMA.items()}
