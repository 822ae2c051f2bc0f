"""Monthly case-conference lists per practice cluster, the patient timeline, and what was decided.

The list is for the direct-care team: it carries names and NHS numbers, so it is stored in the
database and written to the pack, never printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import yaml

from stratify import care
from stratify.models.train import data_cut
from stratify.registry.models import query, run_model

CONFIG = Path(__file__).parent / "care" / "conference.yaml"
IDENTIFIABLE = ("patient_name", "nhs_number")


class ConferenceError(Exception):
    """The list cannot be made (unknown cluster, bad month, nothing scored)."""


@dataclass
class ConferenceList:
    cluster: str
    month: str
    since: date
    rows: pl.DataFrame  # one row per listed patient, in discussion order
    config_version: str


def load_config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def month_start(month: str) -> date:
    try:
        year, mon = (int(x) for x in month.split("-"))
        return date(year, mon, 1)
    except ValueError as exc:
        raise ConferenceError(f"month must be YYYY-MM, not {month!r}") from exc


def _since(
    con: duckdb.DuckDBPyConnection, cluster: str, start: date, cut: date, default_days: int
) -> date:
    """The cluster's last meeting before this month, or the default look-back from the data cut."""
    rows = con.execute(
        "SELECT max(meeting_date) FROM ops.conferences WHERE cluster_code = ? AND meeting_date < ?",
        [cluster, start],
    ).fetchall()
    return rows[0][0] or cut - timedelta(days=default_days)


def build_list(
    con: duckdb.DuckDBPyConnection, cluster: str, month: str, config: dict | None = None
) -> ConferenceList:
    """Choose and order this month's patients for one cluster; store it in care.conference_list."""
    cfg = config or load_config()
    start = month_start(month)
    if not con.execute(
        "SELECT count(*) FROM ref.practices WHERE cluster_code = ?", [cluster]
    ).fetchall()[0][0]:
        clusters = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cluster_code FROM ref.practices ORDER BY 1"
            ).fetchall()
        ]
        raise ConferenceError(
            f"no practice cluster {cluster!r}; clusters are {', '.join(clusters)}"
        )
    cut = data_cut(con)
    if not con.execute(
        "SELECT count(*) FROM risk.scores WHERE index_date <= ?", [start]
    ).fetchall()[0][0]:
        raise ConferenceError(f"no risk scores on or before {start}; run stratify score first")
    care.candidates(con)
    _ensure_adherence(con, cut)
    since = _since(con, cluster, start, cut, cfg["days_since_when_no_conference"])
    run_model(
        con,
        "care/conference_candidates",
        {"cluster": cluster, "month_start": start, "since": since, "as_of": cut,
         "recent_start": cut - timedelta(days=cfg["recent_days"])},
    )  # fmt: skip
    frame = con.sql("SELECT * FROM care.conference_candidates").pl()
    rules = [r["id"] for r in cfg["rules"]]
    labels = {r["id"]: r["label"] for r in cfg["rules"]}
    chosen = (
        frame.with_columns(
            why_discuss=pl.concat_list(
                [pl.when(pl.col(r)).then(pl.lit(labels[r])) for r in rules]
            ).list.drop_nulls(),
            urgency=pl.min_horizontal(
                [pl.when(pl.col(r)).then(pl.lit(i)) for i, r in enumerate(rules)]
            ),
        )
        .filter(pl.col("why_discuss").list.len() > 0)
        .sort(
            ["urgency", pl.col("why_discuss").list.len(), "probability", "person_id"],
            descending=[False, True, True, False],
        )
        .with_columns(rank_in_practice=pl.int_range(pl.len()).over("practice_code") + 1)
        .filter(pl.col("rank_in_practice") <= cfg["cap_per_practice"])
        .with_columns(
            why_discuss=pl.col("why_discuss").list.join("; "), list_order=pl.int_range(pl.len()) + 1
        )
        .drop(rules + ["urgency", "rank_in_practice"])
    )
    _store(con, cluster, month, chosen)
    return ConferenceList(cluster, month, since, chosen, cfg["version"])


def _ensure_adherence(con: duckdb.DuckDBPyConnection, cut: date) -> None:
    from stratify.protocols.adherence import run

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'care' AND table_name = 'adherence'"
    ).fetchall()[0][0]
    if (
        not exists
        or not con.execute("SELECT count(*) FROM care.adherence WHERE as_of = ?", [cut]).fetchall()[
            0
        ][0]
    ):
        run(con, cut)


def _store(con: duckdb.DuckDBPyConnection, cluster: str, month: str, rows: pl.DataFrame) -> None:
    con.register(
        "__list", rows.with_columns(cluster_code=pl.lit(cluster), month=pl.lit(month)).to_arrow()
    )
    con.execute("CREATE TABLE IF NOT EXISTS care.conference_list AS SELECT * FROM __list LIMIT 0")
    con.execute(
        "DELETE FROM care.conference_list WHERE cluster_code = ? AND month = ?", [cluster, month]
    )
    con.execute("INSERT INTO care.conference_list BY NAME SELECT * FROM __list")
    con.unregister("__list")


def open_actions(con: duckdb.DuckDBPyConnection, cluster: str) -> pl.DataFrame:
    """Every action still open for the cluster's patients, with who owns it and when it is due."""
    actions = query(con, "care/conference_actions", {"cluster": cluster})
    return actions.filter(pl.col("status") == "open")


def last_outcomes(
    con: duckdb.DuckDBPyConnection, cluster: str, before: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The previous meeting of the cluster: who attended, and the outcome per patient."""
    conf = con.execute(
        "SELECT conference_id FROM ops.conferences WHERE cluster_code = ? AND meeting_date < ? "
        "ORDER BY meeting_date DESC, recorded_at DESC LIMIT 1",
        [cluster, before],
    ).fetchall()
    if not conf:
        return pl.DataFrame(), pl.DataFrame()
    conference_id = conf[0][0]
    attendance = query(con, "care/conference_attendance", {"conference_id": conference_id})
    outcomes = query(con, "care/conference_outcomes", {"conference_id": conference_id})
    return attendance, outcomes


def timeline(con: duckdb.DuckDBPyConnection, person_id: int) -> pl.DataFrame:
    """Everything known about one person across every setting, in date order."""
    return query(con, "care/timeline", {"person_id": person_id})
