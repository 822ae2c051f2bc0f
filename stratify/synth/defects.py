"""Deliberate data-quality problems, each at a configured rate, each written to ground truth.

Two kinds: rows a contract must reject (duplicates, dates after the data cut, discharge before
admission) and noise a contract must accept but later stages must cope with (missing or invalid NHS
numbers, typos in names, dates of birth and postcodes, codes that are in no code list).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from stratify.synth import identity
from stratify.synth.config import QualityRates

UNKNOWN_SNOMED = np.array(["1000004", "1000119", "1000201"])  # valid in shape, in no code list
UNKNOWN_ICD10 = np.array(["R69X", "Z999"])


@dataclass(frozen=True)
class FeedShape:
    """Where in a feed each kind of problem can be planted."""

    date: str
    end: str | None = None  # a column that must not precede `date`
    code: str | None = None
    unknown_codes: np.ndarray | None = None
    identity: bool = False  # carries name, date of birth, sex and postcode for linkage


def plant(
    df: pl.DataFrame,
    feed: str,
    shape: FeedShape,
    rates: QualityRates,
    cut_day: int,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the feed chunk with its problems planted, and one truth row per planted problem.

    Rows are numbered from 0 within the chunk in their final order (after duplicates are inserted).
    """
    n = df.height
    order = rng.permutation(n)
    future, order = identity.take(rng, order, rates.future_date)
    backwards, order = identity.take(
        rng, order, rates.discharge_before_admission if shape.end else 0.0
    )
    unknown, order = identity.take(rng, order, rates.unknown_code if shape.code else 0.0)
    planted: list[tuple[np.ndarray, str, str, bool]] = []

    def offsets(rows: np.ndarray, values: np.ndarray) -> pl.Series:
        out = np.zeros(n, dtype=np.int64)
        out[rows] = values
        return pl.Series(out)

    # A future date lands 1 month to 10 years after the data cut; an end date moves with it.
    landing = cut_day + rng.integers(30, 3650, len(future))
    shift = offsets(future, landing - df[shape.date].to_numpy()[future])
    df = df.with_columns(pl.col(shape.date) + shift)
    planted.append((future, shape.date, "future_date", True))
    if shape.end:
        back = offsets(backwards, rng.integers(1, 11, len(backwards)))
        df = df.with_columns(
            (pl.col(shape.end) + shift).alias(shape.end),
        ).with_columns(
            pl.when(back > 0)
            .then(pl.col(shape.date) - back)
            .otherwise(pl.col(shape.end))
            .alias(shape.end)
        )
        planted.append((backwards, shape.end, "discharge_before_admission", True))
    if shape.code:
        codes = shape.unknown_codes[rng.integers(0, len(shape.unknown_codes), len(unknown))]
        df = df.with_columns(df[shape.code].scatter(unknown, pl.Series(codes, dtype=pl.String)))
        planted.append((unknown, shape.code, "unknown_code", False))
    if shape.identity:
        df, noise = identity.plant_identity_noise(df, feed, shape.date, rates, rng)
        planted += noise
    # Duplicates last: an exact copy of a row, placed right after it.
    dup_src = (
        np.sort(rng.choice(n, size=rng.binomial(n, rates.duplicate_row), replace=False))
        if n
        else np.array([], dtype=np.int64)
    )
    final = np.sort(np.concatenate([np.arange(n), dup_src]), kind="stable")
    df = df[final]
    shift_before = np.searchsorted(dup_src, np.arange(n), side="left")
    new_pos = np.arange(n) + shift_before
    truth = [
        pl.DataFrame(
            {"row": new_pos[rows], "column": column, "defect": kind, "rejected": rejected},
            schema={
                "row": pl.Int64,
                "column": pl.String,
                "defect": pl.String,
                "rejected": pl.Boolean,
            },
        )
        for rows, column, kind, rejected in planted
    ]
    truth.append(
        pl.DataFrame(
            {
                "row": new_pos[dup_src] + 1,
                "column": None,
                "defect": "duplicate_row",
                "rejected": True,
            },
            schema={
                "row": pl.Int64,
                "column": pl.String,
                "defect": pl.String,
                "rejected": pl.Boolean,
            },
        )
    )
    return df, pl.concat(truth).with_columns(feed=pl.lit(feed))
