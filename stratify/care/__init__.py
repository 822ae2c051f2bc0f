"""Proactive care: candidates for enrolment, and the records people keep about them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from stratify.registry.models import run_model

CONFIG = Path(__file__).with_name("enrolment.yaml")


def candidates(con: duckdb.DuckDBPyConnection) -> dict:
    """Rebuild care.candidates from the latest scores and the operational records."""
    cfg = yaml.safe_load(CONFIG.read_text())
    con.execute("CREATE SCHEMA IF NOT EXISTS care")
    run_model(con, "care/candidates", {"cohorts": cfg["cohorts"], "tiers": cfg["tiers"]})
    rows = con.execute(
        "SELECT enrolment_status, count(*) FROM care.candidates GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    return {"criteria_version": cfg["version"], "by_status": dict(rows)}
