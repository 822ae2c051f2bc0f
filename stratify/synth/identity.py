"""Identity noise in the records that carry name, date of birth, sex and postcode for linkage:
what real community, mental health and social care systems do to them, each at a configured rate,
each written to ground truth.

Names: typos, given and family name swapped, a short form for the given name ("Bill" for William),
the initial only, one part of a double-barrelled surname or its hyphen lost, the given name
missing. Dates of birth: a day or month or year off, day and month transposed, one digit of the
year wrong, missing. Postcodes: typos, and the old postcode of someone who has moved (the generator
writes the postcode at the time of the contact; this module records which rows carry the old one).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stratify import nhs_number
from stratify.synth import reference as ref
from stratify.synth.config import QualityRates

# The generator marks each identity row written with a pre-move postcode in this column; it is
# turned into ground truth here and never reaches a feed.
OLD_ADDRESS = "old_address"


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


def _surname_variant(name: str, rng: np.random.Generator) -> str:
    """One part of a two-part surname, or the hyphen dropped / added."""
    parts = name.replace("-", " ").split(" ")
    kind = int(rng.integers(0, 3))
    if kind < 2:
        return parts[kind]
    return " ".join(parts) if "-" in name else "-".join(parts)


def _rows(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Rows among the eligible ones (a boolean mask), each picked with probability `rate`."""
    return np.flatnonzero(eligible & (rng.random(len(eligible)) < rate))


def _names(df: pl.DataFrame, rates: QualityRates, rng: np.random.Generator):
    given = np.array(df["given_name"].to_list(), dtype=object)
    family = np.array(df["family_name"].to_list(), dtype=object)
    n = len(given)
    noise = []
    everyone = np.ones(n, dtype=bool)
    two_part = np.array([("-" in f) or (" " in f) for f in family], dtype=bool)
    rows = _rows(rng, two_part, rates.identity.surname_variant)
    family[rows] = [_surname_variant(f, rng) for f in family[rows]]
    noise.append((rows, "family_name", "surname_variant", False))
    short = np.array([g in ref.NICKNAMES for g in given], dtype=bool)
    rows = _rows(rng, short, rates.identity.nickname)
    given[rows] = [
        ref.NICKNAMES[g][int(rng.integers(0, len(ref.NICKNAMES[g])))] for g in given[rows]
    ]
    noise.append((rows, "given_name", "nickname", False))
    rows = _rows(rng, everyone, rates.identity.initial_only)
    given[rows] = [g[0] for g in given[rows]]
    noise.append((rows, "given_name", "initial_only", False))
    for column, values in (("given_name", given), ("family_name", family)):
        rows = _rows(rng, np.array([len(v) > 1 for v in values], dtype=bool), rates.name_typo)
        values[rows] = [_typo(v, rng) for v in values[rows]]
        noise.append((rows, column, "name_typo", False))
    rows = _rows(rng, everyone, rates.identity.name_swap)
    given[rows], family[rows] = family[rows], given[rows].copy()
    noise += [(rows, "given_name", "name_swap", False), (rows, "family_name", "name_swap", False)]
    # A missing name is planted only where no other defect touched it: a blank overwrites the
    # nickname or initial, and ground truth must not claim a defect the file no longer holds.
    touched = np.zeros(n, dtype=bool)
    for rows, column, _, _ in noise:
        if column == "given_name":
            touched[rows] = True
    rows = _rows(rng, ~touched, rates.identity.given_missing)
    given[rows] = None
    noise.append((rows, "given_name", "given_name_missing", False))
    return given, family, noise


def _year_digit(dob: np.ndarray, when: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same day in a year with one digit changed (units or tens), never after `when`."""
    dates = pl.Series(dob).cast(pl.Int32).cast(pl.Date)
    year = dates.dt.year().to_numpy()
    step = np.where(rng.random(len(dob)) < 0.7, 1, 10) * np.where(rng.random(len(dob)) < 0.5, 1, -1)
    units = year % 10 if len(year) else year
    # Change the digit without carrying into the next: 1959 -> 1958, never 1960.
    step = np.where((np.abs(step) == 1) & (units + step > 9), -1, step)
    step = np.where((np.abs(step) == 1) & (units + step < 0), 1, step)
    late = pl.DataFrame({"y": year + step, "m": dates.dt.month(), "d": dates.dt.day()})
    moved = late.select(pl.date("y", "m", pl.min_horizontal("d", 28))).to_series()
    moved = moved.cast(pl.Int32).to_numpy().astype(np.int64)
    earlier = year - np.abs(step)
    back = pl.DataFrame({"y": earlier, "m": dates.dt.month(), "d": dates.dt.day()})
    back = back.select(pl.date("y", "m", pl.min_horizontal("d", 28))).to_series()
    back = back.cast(pl.Int32).to_numpy().astype(np.int64)
    keep_day = dates.dt.day().to_numpy() <= 28
    moved = np.where(keep_day, moved, dob)  # 29-31 of a month: leave the row (rare, simpler)
    back = np.where(keep_day, back, dob)
    return np.where(moved > when, back, moved)


def _dates_of_birth(df: pl.DataFrame, date_col: str, rates: QualityRates, rng):
    n = df.height
    noise = []
    dob = df["date_of_birth"].to_numpy().astype(np.int64).copy()
    when = df[date_col].to_numpy()
    rows = np.flatnonzero(rng.random(n) < rates.dob_error)
    delta = rng.choice(np.array([-365, -31, -1, 1, 31, 365]), len(rows))
    dob[rows] = np.where(
        dob[rows] + delta > when[rows], dob[rows] - np.abs(delta), dob[rows] + delta
    )
    noise.append((rows, "date_of_birth", "date_of_birth_error", False))
    dates = pl.Series(dob).cast(pl.Int32).cast(pl.Date)
    day, month = dates.dt.day().to_numpy(), dates.dt.month().to_numpy()
    rows = _rows(rng, (day <= 12) & (day != month), rates.identity.dob_day_month_swap)
    swapped = pl.DataFrame(
        {"y": dates.dt.year().to_numpy()[rows], "m": day[rows], "d": month[rows]}
    )
    swapped = swapped.select(pl.date("y", "m", "d")).to_series().cast(pl.Int32).to_numpy()
    ok = swapped <= when[rows]  # a transposition that lands after the contact is left out
    rows, swapped = rows[ok], swapped[ok]
    dob[rows] = swapped
    noise.append((rows, "date_of_birth", "dob_day_month_swap", False))
    rows = _rows(rng, np.ones(n, dtype=bool), rates.identity.dob_year_digit)
    changed = _year_digit(dob[rows], when[rows], rng)
    differs = changed != dob[rows]
    rows = rows[differs]
    dob[rows] = changed[differs]
    noise.append((rows, "date_of_birth", "dob_year_digit", False))
    touched = np.zeros(n, dtype=bool)  # as for names: a blank only where no error was planted
    for rows, _, _, _ in noise:
        touched[rows] = True
    missing = _rows(rng, ~touched, rates.identity.dob_missing)
    noise.append((missing, "date_of_birth", "date_of_birth_missing", False))
    present = np.ones(n, dtype=bool)
    present[missing] = False
    column = pl.Series("date_of_birth", dob).set(pl.Series(~present), None)
    return column, noise


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
    given, family, named = _names(df, rates, rng)
    columns["given_name"] = pl.Series("given_name", given.tolist(), dtype=pl.String)
    columns["family_name"] = pl.Series("family_name", family.tolist(), dtype=pl.String)
    noise += named
    columns["date_of_birth"], dated = _dates_of_birth(df, date_col, rates, rng)
    noise += dated
    rows = np.flatnonzero(rng.random(n) < rates.postcode_typo)
    pcs = np.array(df["postcode"].to_list(), dtype=object)
    pcs[rows] = [_postcode_typo(v, rng) for v in pcs[rows]]
    columns["postcode"] = pl.Series("postcode", pcs.tolist(), dtype=pl.String)
    noise.append((rows, "postcode", "postcode_typo", False))
    if OLD_ADDRESS in df.columns:
        moved = np.flatnonzero(df[OLD_ADDRESS].to_numpy())
        noise.append((moved, "postcode", "postcode_old_address", False))
        df = df.drop(OLD_ADDRESS)
    return df.with_columns(**columns), noise
