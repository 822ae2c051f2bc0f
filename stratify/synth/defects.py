"""Deliberate data-quality problems, each at a configured rate, each written to ground truth with
the outcome its contract promises.

Outcomes (column `outcome` of ground_truth/defects.parquet; `rejected` kept for compatibility):
- rejected: the row cannot be used (duplicates, dates after the data cut, discharge before
  admission); `check` names the contract check that must reject it;
- flagged: the row is kept, the value set to NULL and the defect recorded (codes from the wrong
  code system, invalid diagnoses, invalid NHS numbers where demographics travel with the record);
- normalised: sent the way suppliers write it and staged as if sent cleanly (NHS numbers with
  spaces, dd/mm/yyyy dates in the feed whose contract declares them, HbA1c in DCCT %, ICD-10
  with the dot);
- kept: noise a contract must accept and later stages must cope with (missing or invalid NHS
  numbers, typos in names, dates of birth and postcodes, codes in no code list, missing optional
  fields).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from stratify import codelists, sctid
from stratify.synth import identity
from stratify.synth.config import QualityRates

# Valid SCTIDs (concept partition, Verhoeff check digit) that are in no code list.
UNKNOWN_SNOMED = np.array([sctid.with_check_digit(f"999999{i}00") for i in (1, 2, 3)])
UNKNOWN_ICD10 = np.array(["R69X", "Z999"])
# Codes of the wrong code system: ICU chart item numbers and a SNOMED code with a mistyped check
# digit where SNOMED CT is expected; RxNorm concept numbers where dm+d is expected.
WRONG_SNOMED = np.array(["220045", "220179", "223761", "38341004", "7321100"])
RXNORM = np.array(["197361", "308136", "314076", "1049221", "310965"])
INVALID_ICD10 = np.array(["pneumonia", "J1", "9999", "J18.99X", "XX"])
PERCENT_PRACTICE = "E85600"  # the practice whose laboratory reports HbA1c in DCCT %
assert all(sctid.is_concept_id(c) for c in UNKNOWN_SNOMED)
assert not any(sctid.is_concept_id(c) for c in (*WRONG_SNOMED, *RXNORM))

# What each planted defect must become: (outcome, the check that must catch it, if any).
OUTCOMES: dict[str, tuple[str, str | None]] = {
    "future_date": ("rejected", "not_after_data_cut"),
    "discharge_before_admission": ("rejected", "discharge_not_before_admission"),
    "duplicate_row": ("rejected", "unique_key"),
    "unknown_code": ("kept", None),
    "wrong_code_system": ("flagged", "code_system"),
    "invalid_diagnosis": ("flagged", "code_system"),
    "icd10_dotted": ("normalised", None),
    "nhs_number_spaces": ("normalised", None),
    "uk_date": ("normalised", None),
    "hba1c_percent": ("normalised", None),
    "missing_optional": ("kept", None),
    "nhs_number_missing": ("kept", None),
    "nhs_number_invalid": ("flagged", "code_system"),
    "name_typo": ("kept", None),
    "date_of_birth_error": ("kept", None),
    "postcode_typo": ("kept", None),
    # Planted by identity.py (linkage): the contracts flag them, the row is kept.
    "date_of_birth_missing": ("flagged", "required"),
    "date_of_birth_impossible": ("flagged", None),
    "given_name_missing": ("flagged", "required"),
    "family_name_missing": ("flagged", "required"),
    "name_missing": ("flagged", "required"),
    # Identity corruption that stays a value (linkage copes with it): kept as sent.
    "name_swap": ("kept", None),
    "nickname": ("kept", None),
    "initial_only": ("kept", None),
    "surname_variant": ("kept", None),
    "dob_day_month_swap": ("kept", None),
    "dob_year_digit": ("kept", None),
    "postcode_old_address": ("kept", None),
}
TRUTH_SCHEMA = {
    "row": pl.Int64,
    "column": pl.String,
    "defect": pl.String,
    "rejected": pl.Boolean,
    "outcome": pl.String,
    "check": pl.String,
}


@dataclass(frozen=True)
class FeedShape:
    """Where in a feed each kind of problem can be planted."""

    date: str
    end: str | None = None  # a column that must not precede `date`
    code: str | None = None
    unknown_codes: np.ndarray | None = None
    wrong_codes: np.ndarray | None = None  # codes of another code system (flagged)
    invalid_codes: np.ndarray | None = None  # not codes at all (flagged)
    dotted: bool = False  # ICD-10 codes may be written with the dot
    identity: bool = False  # carries name, date of birth, sex and postcode for linkage
    optional: str | None = None  # an optional column suppliers leave empty
    dates: tuple[str, ...] = ()  # every date column (written as text in the dd/mm/yyyy feed)
    hba1c: bool = False  # observations, HbA1c among them


def _outcome(kind: str, rejected: bool) -> tuple[str, str | None]:
    return OUTCOMES.get(kind, ("rejected" if rejected else "kept", None))


def _spaced(numbers: list[str | None], rng: np.random.Generator) -> list[str | None]:
    """NHS numbers as people write them: 3-3-4 with spaces, sometimes hyphens."""
    seps = rng.choice([" ", "-"], size=len(numbers), p=[0.8, 0.2])
    return [
        None if n is None else f"{n[:3]}{s}{n[3:6]}{s}{n[6:]}"
        for n, s in zip(numbers, seps, strict=True)
    ]


def _scatter(df: pl.DataFrame, column: str, rows: np.ndarray, values) -> pl.DataFrame:
    series = pl.Series(values, dtype=df[column].dtype) if len(rows) else None
    return df.with_columns(df[column].scatter(rows, series)) if len(rows) else df


def _as_text_dates(df: pl.DataFrame, columns: tuple[str, ...], uk: np.ndarray) -> pl.DataFrame:
    """Day numbers as text: dd/mm/yyyy on the rows in `uk`, ISO elsewhere."""
    mask = np.zeros(df.height, dtype=bool)
    mask[uk] = True
    is_uk = pl.Series(mask)
    exprs = []
    for c in columns:
        day = pl.col(c).cast(pl.Int32).cast(pl.Date)
        exprs.append(
            pl.when(is_uk).then(day.dt.strftime("%d/%m/%Y")).otherwise(day.dt.strftime("%Y-%m-%d"))
            .alias(c)
        )  # fmt: skip
    return df.with_columns(exprs)


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
    wrong, order = identity.take(
        rng, order, rates.wrong_code_system if shape.wrong_codes is not None else 0.0
    )
    invalid, order = identity.take(
        rng, order, rates.invalid_diagnosis if shape.invalid_codes is not None else 0.0
    )
    dotted, order = identity.take(rng, order, rates.icd10_dotted if shape.dotted else 0.0)
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
        for rows, pool, kind in (
            (unknown, shape.unknown_codes, "unknown_code"),
            (wrong, shape.wrong_codes, "wrong_code_system"),
            (invalid, shape.invalid_codes, "invalid_diagnosis"),
        ):
            if pool is not None:
                df = _scatter(df, shape.code, rows, pool[rng.integers(0, len(pool), len(rows))])
                planted.append((rows, shape.code, kind, False))
        if shape.dotted:
            codes = df[shape.code].to_numpy()[dotted]
            df = _scatter(df, shape.code, dotted, [f"{c[:3]}.{c[3:]}" for c in codes])
            planted.append((dotted, shape.code, "icd10_dotted", False))
    if shape.hba1c:
        df, rows = _hba1c_in_percent(df, rates.hba1c_percent, rng)
        planted.append((rows, "value", "hba1c_percent", False))
    if shape.optional:
        rows = np.flatnonzero(rng.random(n) < rates.missing_optional.get(feed, 0.0))
        df = _scatter(df, shape.optional, rows, [None] * len(rows))
        planted.append((rows, shape.optional, "missing_optional", False))
    spaced = np.flatnonzero(rng.random(n) < rates.nhs_spaces.get(feed, 0.0))
    if len(spaced):
        numbers = df["nhs_number"].to_numpy()[spaced].tolist()
        df = _scatter(df, "nhs_number", spaced, _spaced(numbers, rng))
    planted.append((spaced, "nhs_number", "nhs_number_spaces", False))
    if shape.identity:
        df, noise = identity.plant_identity_noise(df, feed, shape.date, rates, rng)
        planted += noise
    if feed == rates.uk_date_feed and shape.dates:
        uk = np.flatnonzero(rng.random(n) < rates.uk_date)
        df = _as_text_dates(df, shape.dates, uk)
        planted.append((uk, shape.date, "uk_date", False))
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
        _truth(new_pos[rows], column, kind, rejected) for rows, column, kind, rejected in planted
    ]
    truth.append(_truth(new_pos[dup_src] + 1, None, "duplicate_row", True))
    return df, pl.concat(truth).with_columns(feed=pl.lit(feed))


def _truth(rows: np.ndarray, column: str | None, kind: str, rejected: bool) -> pl.DataFrame:
    outcome, check = _outcome(kind, rejected)
    return pl.DataFrame(
        {
            "row": rows,
            "column": column,
            "defect": kind,
            "rejected": outcome == "rejected",
            "outcome": outcome,
            "check": check,
        },
        schema=TRUTH_SCHEMA,
    )


def _hba1c_in_percent(
    df: pl.DataFrame, share: float, rng: np.random.Generator
) -> tuple[pl.DataFrame, np.ndarray]:
    """One practice's laboratory reports HbA1c in DCCT % (to 0.1 %), not IFCC mmol/mol."""
    codes = codelists.load("hba1c").code_values
    hit = (
        (df["practice_code"] == PERCENT_PRACTICE)
        & df["snomed_code"].is_in(codes)
        & (df["unit"] == "mmol/mol")
    ).fill_null(False)
    rows = np.flatnonzero(hit.to_numpy() & (rng.random(df.height) < share))
    if not len(rows):
        return df, rows
    percent = np.round(df["value"].to_numpy()[rows] / 10.929 + 2.15, 1)
    df = _scatter(df, "value", rows, percent)
    return _scatter(df, "unit", rows, ["%"] * len(rows)), rows
