"""Data quality: the latest registry build, rows quarantined and why, and late feeds."""

from __future__ import annotations

from functools import lru_cache

from dash import html

from dashboards import access
from dashboards.components import grid, notice, page, refused

PATH = "/quality"
NAME = "Data quality"
FEED_COLUMNS = {"feed": "Feed", "contract_version": "Contract", "rows_read": "Read", "rows_accepted": "Accepted",
                "rows_quarantined": "Quarantined", "rows_flagged": "Flagged", "linked_nhs_number": "Linked by NHS no.",
                "linked_probabilistic": "Linked probabilistically", "unlinked": "Unlinked"}  # fmt: skip
REASON_COLUMNS = {"feed": "Feed", "severity": "Severity", "check_name": "Check", "column_name": "Column",
                  "rows": "Rows"}  # fmt: skip
LATE_COLUMNS = {"practice_code": "Practice", "feed": "Feed", "latest_event_date": "Latest event",
                "days_before_cut": "Days before cut", "status": "Status"}  # fmt: skip


def layout(**_query) -> html.Main:
    try:
        access.page_user("quality")
    except access.Refused as exc:
        return refused(str(exc))
    return _report()


@lru_cache(maxsize=1)
def _report() -> html.Main:
    """Built once per process: the build cannot change while the server holds the database."""
    store = access.store()
    if not store.has_table("registry", "dq_feed_summary"):
        return page(NAME, notice("No registry has been built: run `stratify build`."))
    builds = store.read("dq_builds")
    latest = builds.row(0, named=True) if builds.height else None
    feeds = store.read("dq_feeds")
    late = store.read("dq_late_feeds")
    read, accepted, quarantined = (
        int(feeds[c].sum()) for c in ("rows_read", "rows_accepted", "rows_quarantined")
    )
    return page(
        NAME,
        html.P(f"Build {latest['build_id'][:8]} at {latest['built_at']:%Y-%m-%d %H:%M}, data cut "
               f"{latest['data_cut']}." if latest else "No build recorded."),
        html.P(f"{read:,} rows read = {accepted:,} accepted + {quarantined:,} quarantined"
               + (" (reconciles)." if read == accepted + quarantined else " (DOES NOT RECONCILE)."),
               className="count"),
        html.H2("Feeds"), grid("dq-feeds", feeds, FEED_COLUMNS, height=320),
        html.H2("Why rows were quarantined or flagged"),
        grid("dq-reasons", store.read("dq_quarantine"), REASON_COLUMNS, height=320),
        html.H2(f"Late feeds ({late.height} practice-feed pairs behind the cut)"),
        grid("dq-late", late, LATE_COLUMNS, height=300) if late.height else notice("Every feed is current."),
    )  # fmt: skip


def register(app) -> None:
    """No callbacks: the page is one read."""
