"""Funnel plots: each unit's proportion against its denominator, with control limits that
narrow as the denominator grows.

Why a funnel and not a league table: a ranking always has a bottom, and small practices top and
tail it by chance. A funnel shows which units differ from the system by more than chance would
explain at their size. Units are returned in their input order and never ranked.

Overdispersion follows Spiegelhalter (2005), "Funnel plots for comparing institutional
performance", Statistics in Medicine 24:1185-1202, as used by PHE and NHS England: z-scores
winsorised at 10 % in each tail, phi = mean of their squares, then either a multiplicative
inflation of the limits or an additive random-effects variance tau^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

Z95 = 1.959964
Z998 = 3.090232
LEVELS = {"95": Z95, "998": Z998}  # column suffix: z

Method = Literal["none", "multiplicative", "additive"]
METHODS = ("none", "multiplicative", "additive")
WINSOR_FRACTION = 0.10


@dataclass(frozen=True)
class FunnelResult:
    """Units in input order with limits and positions, and the system-level estimates.

    `units` columns: unit, numerator, denominator, rate, z, then for each level (95, 998):
    lower_<level>, upper_<level>, position_<level> ("inside", "above" or "below").
    """

    units: pl.DataFrame
    theta: float
    phi: float  # winsorised dispersion ratio, always estimated
    tau2: float  # additive between-unit variance, always estimated
    method: str
    adjusted: bool  # whether the limits were actually widened for overdispersion

    def limits(self, n: float | np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits at denominator(s) n, with this result's adjustment."""
        phi, tau2 = applied_adjustment(self.method, self.phi, self.tau2)
        return control_limits(self.theta, n, z, phi=phi, tau2=tau2)

    def curves(self, n: np.ndarray | None = None, points: int = 200) -> pl.DataFrame:
        """Limits over a grid of denominators, for drawing smooth funnel curves.

        The default grid is log-spaced from half the smallest to 1.1 x the largest denominator.
        """
        if n is None:
            d = self.units["denominator"].to_numpy()
            n = np.geomspace(max(d.min() / 2, 1e-9), d.max() * 1.1, points)
        n = np.asarray(n, dtype=float)
        columns: dict[str, np.ndarray] = {"denominator": n}
        for level, z in LEVELS.items():
            columns[f"lower_{level}"], columns[f"upper_{level}"] = self.limits(n, z)
        return pl.DataFrame(columns)


def system_rate(numerators: np.ndarray, denominators: np.ndarray) -> float:
    """theta = sum r / sum n: the pooled rate every unit is compared with."""
    return float(np.sum(numerators) / np.sum(denominators))


def standard_errors(theta: float, denominators: float | np.ndarray) -> np.ndarray:
    """Binomial standard error of a proportion at the system rate: sqrt(theta(1-theta)/n)."""
    return np.sqrt(theta * (1 - theta) / np.asarray(denominators, dtype=float))


def z_scores(numerators: np.ndarray, denominators: np.ndarray, theta: float) -> np.ndarray:
    """(y_i - theta) / s_i: how many standard errors each unit sits from the system rate."""
    return (numerators / denominators - theta) / standard_errors(theta, denominators)


def winsorise(z: np.ndarray, fraction: float = WINSOR_FRACTION) -> np.ndarray:
    """Pull the lowest and highest `fraction` of z-scores in to the percentile values, so a
    few true outliers do not pass for overdispersion. Percentiles interpolate linearly
    (Excel PERCENTILE.INC, numpy's default)."""
    low, high = np.quantile(z, [fraction, 1 - fraction])
    return np.clip(z, low, high)


def dispersion_ratio(z: np.ndarray, fraction: float = WINSOR_FRACTION) -> float:
    """phi = mean of the winsorised squared z-scores (1 when there is no overdispersion)."""
    return float(np.mean(winsorise(z, fraction) ** 2))


def between_unit_variance(phi: float, standard_errors: np.ndarray) -> float:
    """tau^2 = max(0, (I phi - (I - 1)) / (sum w - sum w^2 / sum w)), w = 1 / s^2."""
    w = 1 / np.asarray(standard_errors, dtype=float) ** 2
    units = w.size
    return max(0.0, float((units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum())))


def control_limits(
    theta: float, n: float | np.ndarray, z: float, *, phi: float = 1.0, tau2: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """theta +/- z sqrt(phi s^2 + tau^2), clipped to [0, 1].

    phi = 1, tau2 = 0 gives the plain binomial limits.
    """
    s = standard_errors(theta, n)
    half = z * np.sqrt(phi * s**2 + tau2)
    return np.clip(theta - half, 0.0, 1.0), np.clip(theta + half, 0.0, 1.0)


def applied_adjustment(method: str, phi: float, tau2: float) -> tuple[float, float]:
    """(phi, tau^2) the limits use: inflate only when phi > 1 (multiplicative), add tau^2
    only for the additive method; otherwise the plain binomial (1, 0)."""
    if method == "multiplicative":
        return max(phi, 1.0), 0.0
    if method == "additive":
        return 1.0, tau2
    return 1.0, 0.0


def _position(rate: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[str]:
    """A unit on a limit is inside it."""
    return np.where(rate > upper, "above", np.where(rate < lower, "below", "inside")).tolist()


def _check(numerators: np.ndarray, denominators: np.ndarray, units: list[str], method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"overdispersion must be one of {METHODS}; got {method!r}")
    if numerators.ndim != 1 or numerators.shape != denominators.shape:
        raise ValueError("numerators and denominators must be two lists of the same length")
    if len(units) != numerators.size:
        raise ValueError(f"{len(units)} unit names for {numerators.size} units")
    if numerators.size < 2:
        raise ValueError(f"a funnel plot compares units; got {numerators.size}")
    if not (np.all(np.isfinite(numerators)) and np.all(np.isfinite(denominators))):
        raise ValueError("numerators and denominators must all be numbers (no NaN or missing)")
    if np.any(denominators <= 0):
        raise ValueError(
            f"every denominator must be positive; {units[int(np.argmin(denominators))]} is not"
        )
    if np.any(numerators < 0) or np.any(numerators > denominators):
        bad = int(np.flatnonzero((numerators < 0) | (numerators > denominators))[0])
        raise ValueError(f"{units[bad]}: numerator must be between 0 and its denominator")


def funnel(
    numerators: Sequence[float] | np.ndarray,
    denominators: Sequence[float] | np.ndarray,
    *,
    units: Sequence[str] | None = None,
    overdispersion: Method = "none",
) -> FunnelResult:
    """Compare units' proportions r_i / n_i with the system rate at 95 % and 99.8 %.

    overdispersion: "none" (binomial limits), "multiplicative" (limits widened by sqrt(phi)
    when phi > 1) or "additive" (random-effects tau^2 added to each unit's variance).
    """
    r = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    names = [str(u) for u in units] if units is not None else [str(i + 1) for i in range(r.size)]
    _check(r, n, names, overdispersion)
    theta = system_rate(r, n)
    if not 0 < theta < 1:
        raise ValueError(
            f"the system rate is {theta:g}: with no events (or all events) every unit is the same "
            "and funnel limits have no width"
        )
    z = z_scores(r, n, theta)
    phi = dispersion_ratio(z)
    tau2 = between_unit_variance(phi, standard_errors(theta, n))
    phi_used, tau2_used = applied_adjustment(overdispersion, phi, tau2)
    rate = r / n
    columns: dict[str, object] = {
        "unit": names,
        "numerator": r,
        "denominator": n,
        "rate": rate,
        "z": z,
    }
    for level, zcrit in LEVELS.items():
        lower, upper = control_limits(theta, n, zcrit, phi=phi_used, tau2=tau2_used)
        columns[f"lower_{level}"] = lower
        columns[f"upper_{level}"] = upper
        columns[f"position_{level}"] = _position(rate, lower, upper)
    return FunnelResult(
        units=pl.DataFrame(columns),
        theta=theta,
        phi=phi,
        tau2=tau2,
        method=overdispersion,
        adjusted=phi_used > 1 or tau2_used > 0,
    )
