"""Deliberate data-quality problems, each at a configured rate, each written to ground truth.

Two kinds: rows a contract must reject (duplicates, dates after the data cut, discharge before
admission) and noise a contract must accept but later stages must cope with (missing or invalid NHS
numbers, typos in names, dates of birth and postcodes, codes that are in no code list).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from stratify import nhs_number
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


def _take(rng: np.random.Generator, pool: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Pick about rate * len(pool) rows from pool; return (picked, rest)."""
    k = rng.binomial(len(pool), rate) if len(pool) else 0
    return pool[:k], pool[k:]


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word + "e"
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(0, 3)
    if kind == 0:  # transpose two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    letter = "aeiou"[int(rng.integers(0, 5))] if word[i] not in "aeiou" else "r"
    return word[:i] + letter + word[i + 1 :]


def _postcode_typo(code: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return code.replace(" ", "")
    last = "ABDEFGHJLNPQRSTUWXY"[int(rng.integers(0, 19))]
    return code[:-1] + (last if last != code[-1] else "Z")


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
    future, order = _take(rng, order, rates.future_date)
    backwards, order = _take(rng, order, rates.discharge_before_admission if shape.end else 0.0)
    unknown, order = _take(rng, order, rates.unknown_code if shape.code else 0.0)
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
        df, noise = _identity_noise(df, feed, shape.date, rates, rng)
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


def _identity_noise(
    df: pl.DataFrame, feed: str, date_col: str, rates: QualityRates, rng: np.random.Generator
) -> tuple[pl.DataFrame, list[tuple[np.ndarray, str, str, bool]]]:
    n = df.height
    noise: list[tuple[np.ndarray, str, str, bool]] = []
    order = rng.permutation(n)
    missing, order = _take(rng, order, rates.nhs_missing.get(feed, 0.0))
    invalid, _ = _take(rng, order, rates.nhs_invalid.get(feed, 0.0))
    nhs = np.array(df["nhs_number"].to_list(), dtype=object)
    nhs[missing] = None
    if len(invalid):
        broken = nhs_number.corrupt(np.array([int(x) for x in nhs[invalid]], dtype=np.int64), rng)
        nhs[invalid] = [str(x) for x in broken]
    noise += [
        (missing, "nhs_number", "nhs_number_missing", False),
        (invalid, "nhs_number", "nhs_number_invalid", False),
    ]
    columns = {"nhs_number": pl.Series("nhs_number", nhs.tolist(), dtype=pl.String)}
    for column in ("given_name", "family_name"):
        rows = np.flatnonzero(rng.random(n) < rates.name_typo)
        values = np.array(df[column].to_list(), dtype=object)
        values[rows] = [_typo(v, rng) for v in values[rows]]
        columns[column] = pl.Series(column, values.tolist(), dtype=pl.String)
        noise.append((rows, column, "name_typo", False))
    rows = np.flatnonzero(rng.random(n) < rates.dob_error)
    dob = df["date_of_birth"].to_numpy().copy()
    delta = rng.choice(np.array([-365, -31, -1, 1, 31, 365]), len(rows))
    when = df[date_col].to_numpy()[rows]
    dob[rows] = np.where(dob[rows] + delta > when, dob[rows] - np.abs(delta), dob[rows] + delta)
    columns["date_of_birth"] = pl.Series("date_of_birth", dob)
    noise.append((rows, "date_of_birth", "date_of_birth_error", False))
    rows = np.flatnonzero(rng.random(n) < rates.postcode_typo)
    pcs = np.array(df["postcode"].to_list(), dtype=object)
    pcs[rows] = [_postcode_typo(v, rng) for v in pcs[rows]]
    columns["postcode"] = pl.Series("postcode", pcs.tolist(), dtype=pl.String)
    noise.append((rows, "postcode", "postcode_typo", False))
    return df.with_columns(**columns), noise
