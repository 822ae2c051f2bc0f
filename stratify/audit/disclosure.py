"""Small-number suppression, applied in one place so every output agrees.

NHS statistical disclosure control: small counts could identify people, so counts from 1 to 7
are shown as "*", zero is shown as 0, and every other count is rounded to the nearest 5 (half
up). Rates are recomputed from the rounded figures, never from the true ones, because a rate
from true counts next to rounded counts lets a reader work the true counts back out.

Tables, chart tooltips and exports all take their figures from `disclose` (a DataFrame) or
`disclose_count` (one number), so the same value appears everywhere. Thresholds live in
disclosure.yaml with a version that outputs can quote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml

RULES_FILE = Path(__file__).with_name("disclosure.yaml")


@dataclass(frozen=True)
class DisclosureRules:
    """Counts in [suppress_min, suppress_max] are suppressed; others are rounded to round_to."""

    version: str
    suppress_min: int = 1
    suppress_max: int = 7
    round_to: int = 5
    marker: str = "*"

    def __post_init__(self) -> None:
        for name in ("suppress_min", "suppress_max", "round_to"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"disclosure rule {name} must be a whole number; got {value!r}")
        if not 0 <= self.suppress_min <= self.suppress_max:
            raise ValueError(
                "disclosure rules need 0 <= suppress_min <= suppress_max; got "
                f"{self.suppress_min} and {self.suppress_max}"
            )
        if self.round_to < 1:
            raise ValueError(
                f"round_to must be at least 1 (1 means no rounding); got {self.round_to}"
            )
        if not isinstance(self.marker, str) or not self.marker:
            raise ValueError("the suppression marker must be a non-empty string")


def load_rules(path: Path | str | None = None, **overrides: object) -> DisclosureRules:
    """Rules from a YAML file (default disclosure.yaml), with keyword overrides on top."""
    known = {f.name for f in fields(DisclosureRules)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown disclosure rule(s) {unknown}; known: {sorted(known)}")
    rules = _file_rules(str(path or RULES_FILE))
    return replace(rules, **overrides) if overrides else rules


@lru_cache(maxsize=8)
def _file_rules(path: str) -> DisclosureRules:
    """Read once per file: every output in a run uses the same rules."""
    raw = yaml.safe_load(Path(path).read_text())
    if not isinstance(raw, dict) or "version" not in raw:
        raise ValueError(f"{path}: disclosure rules must be a mapping with a version")
    unknown = sorted(set(raw) - {f.name for f in fields(DisclosureRules)})
    if unknown:
        raise ValueError(f"{path}: unknown disclosure rule(s) {unknown}")
    return DisclosureRules(**{**raw, "version": str(raw["version"])})


def _rules(rules: DisclosureRules | None) -> DisclosureRules:
    return load_rules() if rules is None else rules


def round_half_up(count: int, base: int) -> int:
    """Nearest multiple of base, halves up (12 -> 10, 13 -> 15 for base 5), in integers."""
    return (2 * count + base) // (2 * base) * base


def _whole(count: object) -> int:
    if isinstance(count, bool) or count is None:
        raise TypeError(f"a count must be a whole number; got {count!r}")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    try:
        value = int(count.__index__())  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        raise TypeError(f"a count must be a whole number; got {count!r}") from None
    if value < 0:
        raise ValueError(f"a count cannot be negative; got {value}")
    return value


def disclose_count(count: int, rules: DisclosureRules | None = None) -> tuple[str, int | None]:
    """(what to show, the releasable value): ("*", None) when suppressed, else the rounded
    count as text and as a number."""
    r = _rules(rules)
    value = _whole(count)
    if r.suppress_min <= value <= r.suppress_max:
        return r.marker, None
    rounded = round_half_up(value, r.round_to)
    return str(rounded), rounded


def disclose_rate(
    numerator: int, denominator: int, rules: DisclosureRules | None = None
) -> float | None:
    """The rate from the rounded numerator and denominator; None if either is suppressed or
    the rounded denominator is zero."""
    _, num = disclose_count(numerator, rules)
    _, den = disclose_count(denominator, rules)
    if num is None or den is None or den == 0:
        return None
    return num / den


def _count_column(df: pl.DataFrame, name: str) -> pl.Series:
    """The column as Int64, refusing anything that is not a non-negative whole count."""
    if name not in df.columns:
        raise ValueError(f"no column {name!r} to disclose; columns are {df.columns}")
    s = df[name]
    if s.dtype.is_float():
        whole = s.drop_nulls()
        if whole.len() and not (whole == whole.round(0)).all():
            raise TypeError(f"column {name!r} holds fractions; only counts can be disclosed")
    elif not s.dtype.is_integer():
        raise TypeError(f"column {name!r} is {s.dtype}; only counts can be disclosed")
    s = s.cast(pl.Int64)
    low = s.min()
    if low is not None and low < 0:
        raise ValueError(f"column {name!r} has a negative count ({low})")
    return s


def _count_exprs(name: str, r: DisclosureRules) -> tuple[pl.Expr, pl.Expr]:
    """(rounded value or null, display text) for one count column; nulls stay null."""
    c = pl.col(name)
    suppressed = c.is_between(r.suppress_min, r.suppress_max)
    rounded = (2 * c + r.round_to) // (2 * r.round_to) * r.round_to
    value = pl.when(suppressed).then(None).otherwise(rounded).alias(name)
    display = (
        pl.when(c.is_null())
        .then(None)
        .when(suppressed)
        .then(pl.lit(r.marker))
        .otherwise(rounded.cast(pl.String))
        .alias(f"{name}_display")
    )
    return value, display


def _rate_expr(name: str, numerator: str, denominator: str) -> pl.Expr:
    """Rate from already-rounded columns; null when either is suppressed or the denominator 0."""
    num, den = pl.col(numerator), pl.col(denominator)
    return (
        pl.when(num.is_null() | den.is_null() | (den == 0))
        .then(None)
        .otherwise(num.cast(pl.Float64) / den.cast(pl.Float64))
        .alias(name)
    )


def disclose(
    df: pl.DataFrame,
    counts: Sequence[str],
    rates: Mapping[str, tuple[str, str]] | None = None,
    rules: DisclosureRules | None = None,
) -> pl.DataFrame:
    """A releasable copy of `df`.

    Each count column is replaced by its rounded value (null when suppressed) and followed by a
    `<name>_display` text column. Each rate in `rates` ({rate: (numerator, denominator)}) is
    recomputed from the rounded columns, replacing a column of that name if there is one. A
    rate's numerator and denominator are disclosed even if not listed in `counts`, since a
    rate must never sit beside true counts.
    """
    r = _rules(rules)
    rates = dict(rates or {})
    names = list(dict.fromkeys([*counts, *(c for pair in rates.values() for c in pair)]))
    out = df.with_columns(_count_column(df, name) for name in names)
    exprs = [e for name in names for e in _count_exprs(name, r)]
    out = out.with_columns(exprs)
    if rates:
        out = out.with_columns(_rate_expr(name, *pair) for name, pair in rates.items())
    return out.select(_ordered(df.columns, names, list(rates)))


def _ordered(original: list[str], counts: list[str], rates: list[str]) -> list[str]:
    """Original order with each display column right after its count; new rates at the end."""
    order: list[str] = []
    for column in original:
        order.append(column)
        if column in counts:
            order.append(f"{column}_display")
    return order + [rate for rate in rates if rate not in original]
