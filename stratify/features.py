"""Features as at an index date, computed in DuckDB from registry events strictly before it.

The SQL models in sql/features are run in order with $index_date bound; the result is
features.person_features (one row per person registered and alive on the index date)."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stratify.registry.models import run_model

MODELS = (
    "features/population",
    "features/conditions",
    "features/efi",
    "features/utilisation",
    "features/observations",
    "features/coverage",
    "features/person_features",
)
# Columns that describe a person but are not model inputs.
NOT_FEATURES = (
    "person_id",
    "index_date",
    "practice_code",
    "cluster_code",
    "imd_quintile",
    "efi_category",
    "gp_record",
    "incomplete_record",
    "incomplete_because",
)
# Features read from the GP record and the practice-level community and mental health feeds: a
# person whose record lacks one of these feeds (features.coverage) is scored without them.
GP_DERIVED = (
    "diabetes_type1", "diabetes_type2", "hypertension", "copd", "asthma", "heart_failure",
    "atrial_fibrillation", "ischaemic_heart_disease", "stroke", "ckd", "dementia", "depression",
    "severe_mental_illness", "cancer", "osteoporosis", "parkinsonism", "thyroid_disease",
    "long_term_conditions", "efi_deficits", "efi", "repeat_medicines", "gp_encounters_12m",
    "latest_hba1c", "latest_systolic_bp", "latest_diastolic_bp",
)  # fmt: skip
PRACTICE_FEED_PREFIXES = ("community_contacts_", "mental_health_contacts_")
CATEGORICAL = ("ethnic_group",)


def compute(con: duckdb.DuckDBPyConnection, index_date: date) -> pl.DataFrame:
    """Every feature of every person on `index_date`, from events strictly before it."""
    con.execute("CREATE SCHEMA IF NOT EXISTS features")
    for model in MODELS:
        run_model(con, model, {"index_date": index_date})
    return con.sql("SELECT * FROM features.person_features ORDER BY person_id").pl()


def outcome(con: duckdb.DuckDBPyConnection, index_date: date) -> pl.DataFrame:
    """Emergency admission (and death) in the 12 months from `index_date`, per person."""
    run_model(con, "features/outcome", {"index_date": index_date})
    return con.sql("SELECT * FROM features.outcome ORDER BY person_id").pl()


def model_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in NOT_FEATURES]


def known_columns(columns: list[str]) -> list[str]:
    """The features known for everyone, whatever their record lacks: demographics, hospital,
    A&E, outpatient and social care activity."""
    return [c for c in columns if c not in GP_DERIVED and not c.startswith(PRACTICE_FEED_PREFIXES)]
