"""The audit's months: which need computing (their inputs changed since audit.months recorded
them, or --recompute) and the one-pass computation of their measures."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from stratify.audit import adherence
from stratify.protocols import load_all
from stratify.registry.models import run_model


def _register(con: duckdb.DuckDBPyConnection, name: str, months: list[date]) -> None:
    frame = pl.DataFrame(
        {"month_start": [m.replace(day=1) for m in months], "month_end": months},
        schema={"month_start": pl.Date, "month_end": pl.Date},
    )
    con.register("__months", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM __months")
    con.unregister("__months")


def inputs(con: duckdb.DuckDBPyConnection, months: list[date]) -> pl.DataFrame:
    """Per month what it is computed from, and the fingerprint of that."""
    build_id = con.execute("SELECT build_id FROM registry.build_info").fetchall()[0][0]
    protocols = ",".join(f"{p.protocol}:{p.version}" for p in load_all().values())
    _register(con, "audit_requested", months)
    run_model(con, "audit/month_inputs", {"build_id": str(build_id), "protocols": protocols})
    return con.sql("SELECT * FROM audit_month_inputs ORDER BY month_end").pl()


def compute(
    con: duckdb.DuckDBPyConnection, months: list[date], recompute: bool = False, say=lambda _m: None
) -> list[date]:
    """Bring audit.measures (practice level) and audit.months up to date for `months` and only
    them; return the months computed (the others were unchanged)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    run_model(con, "audit/months_table")
    wanted = inputs(con, months)
    stored = con.sql("SELECT month_end, fingerprint FROM audit.months").pl()
    known = dict(stored.iter_rows())
    todo = [
        m
        for m, fp in wanted.select("month_end", "fingerprint").iter_rows()
        if recompute or known.get(m) != fp
    ]
    # Months outside the window are dropped; changed months are replaced, never appended.
    _register(con, "audit_todo", todo)
    run_model(con, "audit/months_forget")
    if todo:
        run_model(con, "audit/measures_months")
        adherence.run_months(con, todo, say=say)  # protocol status as at each month's end
        for month_end in todo:
            run_model(con, "audit/measures_adherence", {"month_end": month_end})
    con.register("__inputs", wanted.filter(pl.col("month_end").is_in(todo)).to_arrow())
    con.execute(
        "INSERT INTO audit.months SELECT month_start, month_end, build_id, protocol_versions, "
        "ops_records, fingerprint, current_timestamp FROM __inputs"
    )
    con.unregister("__inputs")
    return todo
