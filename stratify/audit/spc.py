"""XmR (individuals) charts in the NHS England "Making Data Count" style.

An XmR chart separates common-cause variation (the noise a stable process always makes) from
special causes worth investigating, so that audit measures are read as a process over time
rather than as a pass/fail against one month's figure.

Limits come from the moving ranges of a baseline: mean +/- 2.66 x average moving range. Four
rules find special causes, and every point that takes part in a signal is flagged. Rules are
scanned within each period, so a rebase starts a new process with its own mean and limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

LIMIT_FACTOR = 2.66  # 3 sigma / d2 (1.128) for moving ranges of two points
MR_SCREEN_FACTOR = 3.267  # upper range limit (D4) for moving ranges of two points
RUN_LENGTH = 7
TREND_LENGTH = 7

BEYOND_LIMIT = "beyond_limit"
RUN = "run"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
RULES = (BEYOND_LIMIT, RUN, TREND, TWO_OF_THREE)

Direction = Literal["up", "down", "neither"]
DIRECTIONS = ("up", "down", "neither")

IMPROVEMENT = "improvement"
CONCERN = "concern"
NEITHER = "neither"

COMMON_CAUSE = "common cause"
SPECIAL_CAUSE_IMPROVEMENT = "special cause improvement"
SPECIAL_CAUSE_CONCERN = "special cause concern"
SPECIAL_CAUSE_NEITHER = "special cause neither"

CONSISTENTLY_PASSING = "consistently passing"
CONSISTENTLY_FAILING = "consistently failing"
HIT_AND_MISS = "hit and miss"


@dataclass(frozen=True)
class Period:
    """One stable stretch of the process: points [start, stop) and the limits from its baseline."""

    start: int
    stop: int
    baseline: int  # how many points from `start` the mean and limits were computed from
    mean: float
    mr_bar: float
    lower: float
    upper: float
    excluded_moving_ranges: int  # moving ranges screened out before the final MR-bar


@dataclass(frozen=True)
class SPCResult:
    """Per-point values, limits and signals, with the icons for the latest point.

    `points` has one row per input value, in input order: index, period, value, moving_range,
    baseline (used for the limits), mean, lower, upper, rules (list of rule names broken),
    special_cause, signal ("high", "low", "mixed" or null) and meaning ("improvement",
    "concern", "neither" or null).
    """

    points: pl.DataFrame
    periods: tuple[Period, ...]
    direction: str
    target: float | None
    variation: str
    assurance: str | None
    warnings: tuple[str, ...]


def _as_values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Reject what cannot be charted, with a message that says which point is wrong."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"an XmR chart needs a one-dimensional series; got shape {x.shape}")
    if x.size < 2:
        raise ValueError(f"an XmR chart needs at least 2 points; got {x.size}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"value at position {int(bad[0])} is {x[bad[0]]}; remove or fill missing points "
            "before charting (an XmR chart cannot skip a point)"
        )
    return x


def _periods(n: int, rebase: Sequence[int]) -> list[tuple[int, int]]:
    """Split 0..n into periods that start at each rebase index."""
    starts = sorted(set(int(i) for i in rebase))
    for i in starts:
        if not 0 < i < n:
            raise ValueError(f"rebase point {i} is outside the series (must be 1 to {n - 1})")
    bounds = [0, *starts, n]
    periods = list(zip(bounds[:-1], bounds[1:], strict=True))
    for start, stop in periods:
        if stop - start < 2:
            raise ValueError(
                f"the period starting at {start} has {stop - start} point; each period needs 2"
            )
    return periods


def moving_ranges(x: np.ndarray) -> np.ndarray:
    """|x_i - x_(i-1)|: the point-to-point noise the limits are built from."""
    return np.abs(np.diff(np.asarray(x, dtype=float)))


def average_moving_range(mr: np.ndarray, screen: bool = False) -> tuple[float, int]:
    """MR-bar, optionally recomputed once without ranges above 3.267 x MR-bar.

    Screening stops one freak jump from widening the limits so much that real signals hide.
    Returns (MR-bar, number of ranges excluded).
    """
    mr_bar = float(np.mean(mr))
    if not screen:
        return mr_bar, 0
    keep = mr <= MR_SCREEN_FACTOR * mr_bar
    return float(np.mean(mr[keep])), int(np.count_nonzero(~keep))


def _period(x: np.ndarray, start: int, stop: int, baseline: int | None, screen: bool) -> Period:
    """Mean and process limits of one period from its own first `baseline` points."""
    k = stop - start if baseline is None else min(baseline, stop - start)
    base = x[start : start + k]
    mean = float(np.mean(base))
    mr_bar, excluded = average_moving_range(moving_ranges(base), screen)
    half = LIMIT_FACTOR * mr_bar
    return Period(start, stop, k, mean, mr_bar, mean - half, mean + half, excluded)


def _runs(signs: np.ndarray, length: int) -> np.ndarray:
    """Keep each nonzero sign only where it sits in a run of at least `length` equal signs.

    A zero breaks a run: it is a point on the mean, or a tie between neighbours.
    """
    out = np.zeros_like(signs)
    i = 0
    while i < signs.size:
        j = i
        while j + 1 < signs.size and signs[j + 1] == signs[i]:
            j += 1
        if signs[i] != 0 and j - i + 1 >= length:
            out[i : j + 1] = signs[i]
        i = j + 1
    return out


def rule_beyond_limits(x: Sequence[float] | np.ndarray, lower: float, upper: float) -> np.ndarray:
    """+1 above the upper limit, -1 below the lower; a point on a limit is inside."""
    x = np.asarray(x, dtype=float)
    return np.where(x > upper, 1, np.where(x < lower, -1, 0)).astype(np.int8)


def rule_run(x: Sequence[float] | np.ndarray, mean: float, length: int = RUN_LENGTH) -> np.ndarray:
    """+1/-1 for every point in a run of `length`+ points on one side of the mean."""
    return _runs(np.sign(np.asarray(x, dtype=float) - mean).astype(np.int8), length)


def rule_trend(x: Sequence[float] | np.ndarray, length: int = TREND_LENGTH) -> np.ndarray:
    """+1/-1 for every point in `length`+ points each higher (lower) than the one before.

    Counts points, not steps: 7 points are 6 increases. A tie breaks the trend.
    """
    steps = _runs(np.sign(np.diff(np.asarray(x, dtype=float))).astype(np.int8), length - 1)
    out = np.zeros(len(x), dtype=np.int8)
    for i in np.flatnonzero(steps):
        out[i] = out[i + 1] = steps[i]  # a step joins the points on both sides of it
    return out


def rule_two_of_three(
    x: Sequence[float] | np.ndarray, mean: float, lower: float, upper: float
) -> np.ndarray:
    """+1/-1 for points beyond two thirds of the way to a limit, when 2 of 3 in a row are,
    on the same side. Only the points beyond are flagged, not the one between them."""
    x = np.asarray(x, dtype=float)
    high = x > mean + 2 / 3 * (upper - mean)
    low = x < mean - 2 / 3 * (mean - lower)
    out = np.zeros(x.size, dtype=np.int8)
    for i in range(max(1, x.size - 2)):
        window = slice(i, i + 3)
        if np.count_nonzero(high[window]) >= 2:
            out[window][high[window]] = 1
        if np.count_nonzero(low[window]) >= 2:
            out[window][low[window]] = -1
    return out


def _signals(x: np.ndarray, p: Period) -> dict[str, np.ndarray]:
    """Every rule's +1/-1/0 signal for the points of one period."""
    seg = x[p.start : p.stop]
    return {
        BEYOND_LIMIT: rule_beyond_limits(seg, p.lower, p.upper),
        RUN: rule_run(seg, p.mean),
        TREND: rule_trend(seg),
        TWO_OF_THREE: rule_two_of_three(seg, p.mean, p.lower, p.upper),
    }


def _signal(sides: set[int]) -> str | None:
    """Whether the rules point "high" or "low"; "mixed" if they disagree."""
    if not sides:
        return None
    if len(sides) > 1:
        return "mixed"
    return "high" if 1 in sides else "low"


def _rows(x: np.ndarray, number: int, p: Period, direction: str) -> list[dict]:
    """One output row per point of a period, with the rules it breaks and what that means."""
    signals = _signals(x, p)
    rows = []
    for offset in range(p.stop - p.start):
        i = p.start + offset
        broken = [rule for rule in RULES if signals[rule][offset]]
        signal = _signal({int(signals[rule][offset]) for rule in broken})
        rows.append(
            {
                "index": i,
                "period": number,
                "value": float(x[i]),
                "moving_range": None if offset == 0 else float(abs(x[i] - x[i - 1])),
                "baseline": offset < p.baseline,
                "mean": p.mean,
                "lower": p.lower,
                "upper": p.upper,
                "rules": broken,
                "special_cause": bool(broken),
                "signal": signal,
                "meaning": _meaning(signal, direction),
            }
        )
    return rows


def _meaning(signal: str | None, direction: str) -> str | None:
    """What a high or low signal means for this measure."""
    if signal is None:
        return None
    if direction == NEITHER or signal == "mixed":
        return NEITHER
    good = "high" if direction == "up" else "low"
    return IMPROVEMENT if signal == good else CONCERN


def variation_icon(meaning: str | None) -> str:
    """The Making Data Count variation icon for one point's meaning."""
    return COMMON_CAUSE if meaning is None else f"special cause {meaning}"


def assurance_icon(target: float | None, lower: float, upper: float, direction: str) -> str | None:
    """Whether the process, as it is, will meet the target.

    Passing means at or beyond the target in the improvement direction, so a target on the
    lower limit of an "up" measure is still consistently passing. No icon without a target,
    or when no direction is better.
    """
    if target is None or direction == NEITHER:
        return None
    if direction == "up":
        passing, failing = target <= lower, target > upper
    else:
        passing, failing = target >= upper, target < lower
    if passing:
        return CONSISTENTLY_PASSING
    return CONSISTENTLY_FAILING if failing else HIT_AND_MISS


def _check_options(direction: str, baseline: int | None, target: float | None) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}")
    if baseline is not None and (isinstance(baseline, bool) or int(baseline) != baseline):
        raise ValueError(f"baseline must be a whole number of points; got {baseline!r}")
    if baseline is not None and baseline < 2:
        raise ValueError(f"a baseline needs at least 2 points; got {baseline}")
    if target is not None and not math.isfinite(target):
        raise ValueError(f"target must be a finite number; got {target}")


def xmr(
    values: Sequence[float] | np.ndarray,
    *,
    baseline: int | None = None,
    rebase: Sequence[int] = (),
    screen_moving_ranges: bool = False,
    direction: Direction = "neither",
    target: float | None = None,
) -> SPCResult:
    """An XmR chart of `values` in time order.

    baseline: points at the start of each period used for its mean and limits (default all).
    rebase: indices where a new period starts, e.g. after a change in the process.
    screen_moving_ranges: drop moving ranges above 3.267 x MR-bar and recompute MR-bar once.
    direction: which way is better ("up", "down" or "neither").
    target: gives an assurance icon from the latest period's limits.
    """
    _check_options(direction, baseline, target)
    x = _as_values(values)
    periods = tuple(
        _period(x, a, b, baseline, screen_moving_ranges) for a, b in _periods(x.size, rebase)
    )

    rows = [row for number, p in enumerate(periods) for row in _rows(x, number, p, direction)]
    warnings = [
        f"period {number} (from point {p.start}): the baseline moving ranges are all zero, so "
        "the limits equal the mean and any change is beyond them"
        for number, p in enumerate(periods)
        if p.mr_bar == 0
    ]
    points = pl.DataFrame(rows, schema=_SCHEMA)
    last = periods[-1]
    return SPCResult(
        points=points,
        periods=periods,
        direction=direction,
        target=None if target is None else float(target),
        variation=variation_icon(rows[-1]["meaning"]),
        assurance=assurance_icon(target, last.lower, last.upper, direction),
        warnings=tuple(warnings),
    )


_SCHEMA = {
    "index": pl.Int64,
    "period": pl.Int64,
    "value": pl.Float64,
    "moving_range": pl.Float64,
    "baseline": pl.Boolean,
    "mean": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "rules": pl.List(pl.String),
    "special_cause": pl.Boolean,
    "signal": pl.String,
    "meaning": pl.String,
}
