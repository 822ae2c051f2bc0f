"""How well the registry finds the conditions the generator gave people: prevalence both ways."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from stratify import features
from stratify.registry.models import query


def compare(con: duckdb.DuckDBPyConnection, truth: Path, index_date: date) -> pl.DataFrame:
    """Registry against true prevalence per long-term condition on `index_date` (one row each)."""
    features.compute(con, index_date)
    links = pl.read_parquet(Path(truth) / "links.parquet").filter(pl.col("feed") == "patients")
    con.register("truth_links", links.to_arrow())
    con.register("truth_conditions", pl.read_parquet(Path(truth) / "conditions.parquet").to_arrow())
    try:
        return query(con, "synth/condition_prevalence", {"index_date": index_date})
    finally:
        con.unregister("truth_links")
        con.unregister("truth_conditions")
