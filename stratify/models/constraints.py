"""Monotone constraints from risk.yaml: which features the model may only read one way.

A stem names a feature or every window of a count (`emergency_admissions` covers
`emergency_admissions_3m` ... `_24m`). The same directions constrain LightGBM
(`monotone_constraints`) and bound the signs of the logistic start's coefficients."""

from __future__ import annotations

import re


def _matches(stem: str, column: str) -> bool:
    return column == stem or re.fullmatch(rf"{re.escape(stem)}_\d+m", column) is not None


def directions(columns: list[str], monotone: dict) -> dict[str, int]:
    """Feature -> 1 (risk never falls as it rises) or -1 (never rises), for the constrained ones."""
    out = {}
    for column in columns:
        for stem, rule in monotone.items():
            if _matches(stem, column):
                out[column] = int(rule["direction"])
    return out


def vector(columns: list[str], monotone: dict) -> list[int]:
    """LightGBM's `monotone_constraints`: one entry per column, 0 where free."""
    d = directions(columns, monotone)
    return [d.get(c, 0) for c in columns]


def listing(columns: list[str], monotone: dict) -> list[dict]:
    """The card's table: each constraint, its reason and the features it covers."""
    return [
        {
            "stem": stem,
            "direction": "a higher value never lowers risk"
            if rule["direction"] > 0
            else "a higher value never raises risk",
            "reason": rule["reason"],
            "features": [c for c in columns if _matches(stem, c)],
        }
        for stem, rule in monotone.items()
    ]
