"""The audit's former per-month computation (a features build and one measures query per
month), kept only as the reference the one-pass measures are tested against."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stratify import features
from stratify.protocols.adherence import run as run_adherence
from stratify.registry.models import run_model


def practice_measures(con: duckdb.DuckDBPyConnection, months: list[date]) -> pl.DataFrame:
    """audit.measures at practice level, month by month, as the audit computed them before."""
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("DROP TABLE IF EXISTS audit.measures")
    for month_end in months:
        run_adherence(con, month_end)
        features.compute(con, month_end.replace(day=1))
        run_model(
            con,
            "audit/measures_practice",
            {"month_start": month_end.replace(day=1), "month_end": month_end},
        )
    return con.sql("SELECT * FROM audit.measures ORDER BY ALL").pl()
