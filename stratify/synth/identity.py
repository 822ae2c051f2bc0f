"""Identity noise in the records that carry name, date of birth, sex and postcode for linkage:
what real community, mental health and social care systems do to them, each at a configured rate,
each written to ground truth.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stratify import nhs_number
from stratify.synth.config import QualityRates


def take(rng: np.random.Generator, pool: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
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


def plant_identity_noise(
    df: pl.DataFrame, feed: str, date_col: str, rates: QualityRates, rng: np.random.Generator
) -> tuple[pl.DataFrame, list[tuple[np.ndarray, str, str, bool]]]:
    n = df.height
    noise: list[tuple[np.ndarray, str, str, bool]] = []
    order = rng.permutation(n)
    missing, order = take(rng, order, rates.nhs_missing.get(feed, 0.0))
    invalid, _ = take(rng, order, rates.nhs_invalid.get(feed, 0.0))
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
