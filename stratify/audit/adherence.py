"""Protocol adherence for the audit's months: stratify.protocols.adherence's evaluation, month by
month, on only the person features the protocol populations read (population, conditions and
eFI from stratify/features' SQL), not a whole features build per month."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from stratify import protocols
from stratify.protocols import adherence as protocol_adherence
from stratify.protocols.adherence import _calendar, _run_protocol
from stratify.registry.models import run_model

FEATURE_MODELS = ("features/population", "features/conditions", "features/efi")


def run_months(con: duckdb.DuckDBPyConnection, months: list[date], say=lambda _m: None) -> None:
    """care.adherence (and its practice and cluster roll-ups) as at each month's end."""
    con.execute("CREATE SCHEMA IF NOT EXISTS care")
    con.execute("CREATE SCHEMA IF NOT EXISTS features")
    loaded = protocols.load_all()
    lookback = max(p.population.lookback_days for p in loaded.values())
    agreement = protocols.roles()
    protocol_adherence.ensure_table(con)
    for i, as_of in enumerate(months):
        index_date = as_of + timedelta(days=1)  # on or before the as-of date
        for model in FEATURE_MODELS:
            run_model(con, model, {"index_date": index_date})
        run_model(con, "audit/adherence_people")
        _calendar(con, as_of - timedelta(days=lookback + 31), as_of)
        con.execute("DELETE FROM care.adherence WHERE as_of = ?", [as_of])
        for protocol in loaded.values():
            _run_protocol(con, protocol, as_of, agreement)
        run_model(con, "care/adherence_by_practice", {"as_of": as_of})
        run_model(con, "care/adherence_by_cluster", {"as_of": as_of})
        say(f"audit adherence {as_of} ({i + 1}/{len(months)})")
