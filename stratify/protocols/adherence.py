"""Adherence to the shared protocols: per patient and step, met / not met / due soon / not
applicable, with the evidence or what is missing; rolled up per practice and cluster."""

from __future__ import annotations

import time
from datetime import date, timedelta

import duckdb
import polars as pl

from stratify import features, protocols
from stratify.protocols import PROTOCOL_DIR, Protocol
from stratify.registry.models import run_model

STATUSES = ("met", "due_soon", "not_met", "not_applicable")


def _calendar(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """protocol_calendar(day, working_index): working days counted from `start`, weekends and
    England and Wales bank holidays excluded."""
    holidays = pl.read_csv(PROTOCOL_DIR / "bank_holidays.csv", try_parse_dates=True)["date"]
    if end > holidays.max().replace(month=12, day=31):
        raise protocols.ProtocolError(
            f"bank_holidays.csv ends in {holidays.max().year}; add the bank holidays up to {end}"
        )
    days = pl.date_range(start, end, eager=True).alias("day")
    frame = (
        pl.DataFrame({"day": days})
        .with_columns(
            working=(pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(holidays.implode())
        )
        .with_columns(working_index=pl.col("working").cast(pl.Int64).cum_sum())
    )
    con.register("__calendar", frame.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE protocol_calendar AS SELECT * FROM __calendar")
    con.unregister("__calendar")


def _params(step) -> dict:
    p = step.model_dump(exclude={"id", "title", "kind"})
    if "codelists" in p:
        p["lists"] = p.pop("codelists")
    return p


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """care.adherence, shared by the data-cut run and the audit's monthly one."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS care.adherence (as_of DATE, protocol VARCHAR, protocol_version VARCHAR, "
        "source VARCHAR, step VARCHAR, step_title VARCHAR, owner VARCHAR, person_id BIGINT, "
        "practice_code VARCHAR, cluster_code VARCHAR, status VARCHAR, evidence_date DATE, "
        "evidence VARCHAR, missing VARCHAR, pending BOOLEAN)"
    )
    # pending: due soon because the deadline has not come yet (not done, not late): left out of
    # the roll-ups' numerator and denominator alike.
    con.execute("ALTER TABLE care.adherence ADD COLUMN IF NOT EXISTS pending BOOLEAN")


def run(con: duckdb.DuckDBPyConnection, as_of: date, say=lambda _m: None) -> dict:
    """Evaluate every protocol on `as_of`; store care.adherence and care.adherence_by_practice."""
    t0 = time.perf_counter()
    con.execute("CREATE SCHEMA IF NOT EXISTS care")
    features.compute(con, as_of + timedelta(days=1))  # on or before the as-of date
    loaded = protocols.load_all()
    lookback = max(p.population.lookback_days for p in loaded.values())
    _calendar(con, as_of - timedelta(days=lookback + 31), as_of)  # covers every discharge looked at
    agreement = protocols.roles()
    ensure_table(con)
    con.execute("DELETE FROM care.adherence WHERE as_of = ?", [as_of])
    for protocol in loaded.values():
        _run_protocol(con, protocol, as_of, agreement)
        say(f"{protocol.protocol} v{protocol.version}: {len(protocol.steps)} steps")
    run_model(con, "care/adherence_by_practice", {"as_of": as_of})
    run_model(con, "care/adherence_by_cluster", {"as_of": as_of})
    summary = (
        con.sql(
            "SELECT protocol, step, step_title, sum(applicable) AS applicable, sum(met) AS met, "
            "sum(due_soon) AS due_soon, sum(not_met) AS not_met, sum(pending) AS pending "
            "FROM care.adherence_by_practice "
            "WHERE as_of = ? GROUP BY ALL ORDER BY protocol, min(step_order)",
            params=[as_of],
        )
        .pl()
        .to_dicts()
    )
    return {
        "as_of": as_of.isoformat(),
        "steps": summary,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _run_protocol(con, protocol: Protocol, as_of: date, agreement: protocols.RoleAgreement) -> None:
    population = protocol.population
    run_model(
        con,
        f"protocols/population_{population.name}",
        {"as_of": as_of, "lookback_days": population.lookback_days, "value": population.value},
    )
    for step in protocol.steps:
        params = {"as_of": as_of, "protocol": protocol.protocol, **_params(step)}
        run_model(con, f"protocols/step_{step.kind}", params)
        owner = "; ".join(
            f"{r.provider}: {r.role} ({r.scope})"
            for r in agreement.owners(protocol.protocol, step.id)
        )
        con.execute(
            "INSERT INTO care.adherence SELECT ?, ?, ?, ?, ?, ?, ?, r.person_id, p.practice_code, "
            "p.cluster_code, r.status, r.evidence_date, r.evidence, r.missing, "
            "r.status = 'due_soon' AND ? FROM step_result AS r JOIN protocol_population AS p USING (person_id)",
            [
                as_of,
                protocol.protocol,
                protocol.version,
                protocol.source,
                step.id,
                step.title,
                owner,
                step.kind == "contact_after_discharge",
            ],
        )
