"""Uncertainty by simulation: the 10th, 50th and 90th percentiles of each figure when every
parameter is drawn at random within its low–high range (`acterr compute --simulations N`).

Each driver of the référentiel (sensitivity.py: the parameters whose low and high values differ,
and the market-rent factors) is drawn N times from a triangular distribution on its low, central
and high values (the rent map's interval on −1, 0, 1: its low and high bounds). Draws are
independent, unless the référentiel declares a correlation between two parameters
(`[[correlation]]` in parametres.toml): they are then made by a Gaussian copula, each parameter
keeping its own triangular distribution. The same N draws serve every figure, territory and
level of a run, and a seed (`--graine`) gives the same numbers again (numpy's Generator).

Each draw gives a figure from the one-at-a-time values the sensitivity already computes: for a
driver drawn between its central value and its low one, at a fraction w of the way, the figure
moves by w times its change at the driver's low value (likewise towards the high one). How the
drivers' changes combine is read from the figure itself: its values with every parameter at its
low and at its high value (the scenarios « basse » and « haute ») are computed exactly, and of the
two first-order rules — changes that add up (a sum of terms, each with its own parameter) or
factors that multiply (a product of parameters: a quantity × a unit cost × a share) — the one
that reproduces these two joint values better is used for the figure (per territory and
indicator). A product of uncertain parameters thus keeps its interaction (1,2 × 1,2 = 1,44, not
1,40), a sum has none, and N = 1 000 draws of every figure stay array arithmetic rather than
N evaluations of every formula. Other forms (a ratio of two sums) are approximated by the closer
rule, exact when one parameter moves at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from acterr_cli.engine.measures import MARKET_FACTORS, MARKET_RENT_FACTOR
from acterr_cli.errors import ConfigurationError, UsageError
from acterr_cli.referentiel.model import Referentiel

if TYPE_CHECKING:  # numpy is imported by the functions that draw: 0.1 s off every command's start
    import numpy as np

QUANTILES = {"p10": 0.10, "p50": 0.50, "p90": 0.90}
MAX_DRAWS = 100_000
_CELLS = 4_000_000  # rows × draws handled at once (32 MB of float64)


@dataclass(frozen=True)
class Simulation:
    """What `--simulations N --graine S` asks for."""

    draws: int
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.draws <= MAX_DRAWS:
            raise UsageError(f"--simulations attend un nombre de tirages entre 1 et {MAX_DRAWS:_}".replace("_", " ") + ".")


@dataclass
class Draws:
    """For each driver, the weight of its change at its low value and at its high value in each
    draw (two arrays of N numbers between 0 and 1, never both above 0)."""

    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    count: int


def all_drivers(referentiel: Referentiel) -> list[str]:
    """Every driver of the référentiel, in a fixed order (the draws do not depend on the level)."""
    moving = [p.nom for p in referentiel.parameters.values() if p.basse is not None and p.haute is not None and p.basse < p.haute]
    return sorted(set(moving) | {MARKET_RENT_FACTOR} | {f for f in MARKET_FACTORS if f in moving})


def draw(referentiel: Referentiel, simulation: Simulation) -> Draws:
    import numpy as np

    names = all_drivers(referentiel)
    rng = np.random.default_rng(simulation.seed)
    uniforms = _uniforms(rng, names, referentiel.correlations, simulation.draws)
    low, high = {}, {}
    for i, name in enumerate(names):
        lo, mid, hi = _bounds(referentiel, name)
        theta = _triangular(uniforms[:, i], lo, mid, hi)
        low[name] = np.where(theta < mid, (mid - theta) / (mid - lo) if mid > lo else 0.0, 0.0)
        high[name] = np.where(theta > mid, (theta - mid) / (hi - mid) if hi > mid else 0.0, 0.0)
    return Draws(low, high, simulation.draws)


def _bounds(referentiel: Referentiel, name: str) -> tuple[float, float, float]:
    if name == MARKET_RENT_FACTOR:
        return -1.0, 0.0, 1.0
    p = referentiel.parameters[name]
    return float(p.basse), float(p.centrale), float(p.haute)


def _triangular(u: np.ndarray, lo: float, mid: float, hi: float) -> np.ndarray:
    """The triangular distribution's quantiles at `u` (inverse of its distribution function)."""
    import numpy as np

    split = (mid - lo) / (hi - lo)
    return np.where(u < split, lo + np.sqrt(u * (hi - lo) * (mid - lo)), hi - np.sqrt((1 - u) * (hi - lo) * (hi - mid)))


def _uniforms(rng: np.random.Generator, names: list[str], correlations: list[dict], n: int) -> np.ndarray:
    """N × drivers uniform numbers: independent, or by a Gaussian copula of the declared correlations."""
    import numpy as np

    if not correlations:
        return rng.random((n, len(names)))
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for c in correlations:
        a, b = c["parametres"]
        if a in index and b in index:  # a parameter whose low and high values are equal is not drawn
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = c["coefficient"]
    try:
        lower = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError as exc:
        raise ConfigurationError("parametres.toml : les corrélations déclarées ([[correlation]]) sont incompatibles entre "
                                 "elles (la matrice de corrélation n'est pas définie positive).") from exc
    normal = rng.standard_normal((n, len(names))) @ lower.T
    erf = np.vectorize(math.erf)
    return 0.5 * (1 + erf(normal / math.sqrt(2)))


def quantiles(central: np.ndarray, low: list[np.ndarray], high: list[np.ndarray], drivers: list[str],
              draws: Draws, corners: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """p10, p50, p90 of each row's figure: `central` its central value, `low` / `high` its value
    with each driver (in the order of `drivers`) alone at its low / high value, `corners` its values
    with every driver at its low and at its high value (the module's docstring: they choose between
    added changes and multiplied factors; without them changes add up). Null (NaN) where the
    central value is; a driver without a value at one end moves nothing there.

    Rows that no driver moves keep their central value; a row that one driver moves in one
    direction (the figure rises, or falls, from its low value to its high one) takes its quantiles
    from the driver's own draws, sorted once; the others are drawn in full (matrix product of the
    changes and the weights, then a partial sort of each row)."""
    import numpy as np

    rows = central.shape[0]
    out = {k: central.astype(np.float64, copy=True) for k in QUANTILES}
    if not drivers or rows == 0:
        return out
    d_low = np.column_stack([np.nan_to_num(v - central) for v in low])  # rows × drivers
    d_high = np.column_stack([np.nan_to_num(v - central) for v in high])
    moved = ~np.isnan(central) & ((d_low != 0) | (d_high != 0)).any(axis=1)
    if not moved.any():
        return out
    n = draws.count
    positions = {k: q * (n - 1) for k, q in QUANTILES.items()}  # linear interpolation between order statistics
    kth = sorted({int(math.floor(p)) for p in positions.values()} | {min(n - 1, int(math.floor(p)) + 1) for p in positions.values()})
    movers = (d_low != 0) | (d_high != 0)
    single = moved & (movers.sum(axis=1) == 1)
    index = np.argmax(movers, axis=1)
    lo_one, hi_one = d_low[np.arange(rows), index], d_high[np.arange(rows), index]
    monotone = single & (((lo_one <= 0) & (hi_one >= 0)) | ((lo_one >= 0) & (hi_one <= 0)))
    for j, name in enumerate(drivers):
        these = monotone & (index == j)
        if these.any():
            _one_driver(out, central, lo_one, hi_one, these, np.sort(draws.high[name] - draws.low[name]), positions)
    full = np.flatnonzero(moved & ~monotone)
    w_low = np.vstack([draws.low[d] for d in drivers])  # drivers × N
    w_high = np.vstack([draws.high[d] for d in drivers])
    product = _multiplicative(central, d_low, d_high, corners)
    step = max(1, _CELLS // n)
    for start in range(0, full.shape[0], step):
        part = full[start:start + step]
        changes = d_low[part] @ w_low + d_high[part] @ w_high
        if (times := product[part]).any():
            rows_x, c = part[times], central[part][times, None]
            log_factor = np.zeros((rows_x.shape[0], n))
            for j in range(len(drivers)):  # each driver's factor at its draw, multiplied through their logarithms
                log_factor += np.log1p((d_low[rows_x, j, None] * w_low[j] + d_high[rows_x, j, None] * w_high[j]) / c)
            changes[times] = c * np.expm1(log_factor)
        changes = np.partition(changes, kth, axis=1)
        for k, p in positions.items():
            below = int(math.floor(p))
            above = min(n - 1, below + 1)
            out[k][part] = central[part] + changes[:, below] + (p - below) * (changes[:, above] - changes[:, below])
    return out


def _multiplicative(central: np.ndarray, d_low: np.ndarray, d_high: np.ndarray,
                    corners: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Rows whose drivers' factors multiply: every factor positive (each driver alone keeps the
    figure's sign) and the product of the factors closer than the sum of the changes to the
    figure's values with every driver at its low and at its high value."""
    import numpy as np

    if corners is None:
        return np.zeros(central.shape[0], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = central[:, None]
        f_low, f_high = 1 + d_low / c, 1 + d_high / c
        positive = (central != 0) & (f_low > 0).all(axis=1) & (f_high > 0).all(axis=1)
        both_low, both_high = corners
        added = np.abs(central + d_low.sum(axis=1) - both_low) + np.abs(central + d_high.sum(axis=1) - both_high)
        multiplied = (np.abs(central * f_low.prod(axis=1) - both_low) + np.abs(central * f_high.prod(axis=1) - both_high))
        # a clear improvement only: equal errors (one driver, or no interaction) keep the sum
        return positive & np.isfinite(both_low) & np.isfinite(both_high) & (multiplied < added - 1e-9 * np.abs(central))


def _one_driver(out: dict[str, np.ndarray], central: np.ndarray, low: np.ndarray, high: np.ndarray, rows: np.ndarray,
                position: np.ndarray, positions: dict[str, float]) -> None:
    """Quantiles of the rows one driver moves monotonically: the figure at the driver's sorted
    draws (`position`: −1 at its low value, 0 central, 1 high), taken in reverse when it falls."""
    import numpy as np

    n = position.shape[0]
    c, lo, hi = central[rows], low[rows], high[rows]
    rising = (lo <= 0) & (hi >= 0)

    def value(s: float) -> np.ndarray:
        return c + (lo * -s if s < 0 else hi * s)

    for k, p in positions.items():
        results = []
        for reverse in (False, True):
            q = (n - 1) - p if reverse else p  # the q-th smallest of a falling figure is the (n-1-q)-th of the driver
            below = int(math.floor(q))
            above = min(n - 1, below + 1)
            results.append(value(position[below]) + (q - below) * (value(position[above]) - value(position[below])))
        out[k][rows] = np.where(rising, results[0], results[1])


def columns(frame: pl.DataFrame, central: str, ends: dict[str, tuple[str, str]], draws: Draws,
            corners: tuple[str, str] | None = None) -> dict[str, pl.Series]:
    """The quantiles of one indicator over a frame: `central` its central column, `ends` each
    driver's columns at its low and high value, `corners` its columns with every parameter at its
    low and its high value (the scenarios; absent when the figure is the same in every scenario)."""
    drivers = sorted(ends)

    def values_of(name: str) -> np.ndarray:
        return frame[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()

    both = None if corners is None or not set(corners) <= set(frame.columns) else (values_of(corners[0]), values_of(corners[1]))
    values = quantiles(frame[central].cast(pl.Float64).to_numpy(),
                       [frame[ends[d][0]].cast(pl.Float64).to_numpy() for d in drivers],
                       [frame[ends[d][1]].cast(pl.Float64).to_numpy() for d in drivers], drivers, draws, both)
    return {k: pl.Series(k, v, dtype=pl.Float64).fill_nan(None) for k, v in values.items()}
