"""The audit's window of months: bounded by months.yaml (the last `window_months` months with
`history_months` of data behind them), so records back to 1971 cannot make it unbounded."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import yaml

from stratify.models.train import TrainError, data_cut

SETTINGS = Path(__file__).with_name("months.yaml")


def settings() -> dict:
    return yaml.safe_load(SETTINGS.read_text())


def month_ends(first: date, last: date) -> list[date]:
    """Month-end dates from the month of `first` to `last` (the last one may be mid-month)."""
    out, current = [], first.replace(day=1)
    while current <= last:
        end = (current.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        out.append(min(end, last))
        current = end + timedelta(days=1)
    return out


def months_back(cut: date, n: int) -> list[date]:
    """The `n` months ending with the month of `cut`."""
    first = cut.replace(day=1)
    for _ in range(n - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return month_ends(first, cut)


def default_months(con: duckdb.DuckDBPyConnection, cut: date | None = None) -> list[date]:
    """The last `window_months` months up to the data cut that have `history_months` of
    hospital spells behind them."""
    first = con.execute("SELECT min(admission_date) FROM registry.spells").fetchall()[0][0]
    if first is None:  # no accepted spell: no month has a year of admissions behind it
        raise TrainError(
            "no accepted hospital spell in the registry; run stratify build on a delivery "
            "whose apc_spells feed passes its contract"
        )
    conf = settings()
    cut = cut or data_cut(con)
    window = months_back(cut, conf["window_months"])
    history = conf["history_months"]
    start = date(
        first.year + (first.month - 1 + history) // 12, (first.month - 1 + history) % 12 + 1, 1
    )
    return [m for m in window if m >= start]
