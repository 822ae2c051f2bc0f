"""Twenty people recording at once lose nothing: every write goes through one lock, in its own
transaction, into append-only tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import duckdb
from app_users import MONTH, PASSWORDS

from dashboards.client import AppClient

WRITERS = 20


def test_twenty_simultaneous_writers_lose_no_record(fresh_server, app_data):
    server, db = fresh_server
    opener = AppClient(server.url)
    opener.login("clin_a", PASSWORDS["clin_a"])
    opened = opener.callback(
        "conf-refresh.data", {"conf-open.n_clicks": 1},
        {"conf-cluster.value": app_data.cluster_a, "conf-month.value": MONTH, "conf-refresh.data": 0,
         "conf-meeting-date.value": f"{MONTH}-15"}, changed="conf-open.n_clicks",
    )  # fmt: skip
    assert "Meeting record opened" in opened.text or "already recorded" in opened.text
    clients = []
    for _ in range(WRITERS):
        c = AppClient(server.url)
        c.login("clin_a", PASSWORDS["clin_a"])
        c.dependencies()
        clients.append(c)
    start = Barrier(WRITERS)

    def write(i: int) -> str:
        start.wait()
        return clients[i].callback(
            "conf-refresh.data", {"conf-act-add.n_clicks": 1},
            {"conf-cluster.value": app_data.cluster_a, "conf-month.value": MONTH, "conf-refresh.data": 0,
             "conf-act-person.value": app_data.person_a, "conf-act-text.value": f"concurrent action {i}",
             "conf-act-owner.value": f"owner {i}", "conf-act-role.value": "district nurse",
             "conf-act-due.value": "2026-12-15"}, changed="conf-act-add.n_clicks",
        ).text  # fmt: skip

    with ThreadPoolExecutor(WRITERS) as pool:
        answers = list(pool.map(write, range(WRITERS)))
    assert all("Action agreed" in a for a in answers)
    server.stop()
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute(
        "SELECT description FROM ops.conference_actions WHERE description LIKE 'concurrent action %'"
    ).fetchall()
    logged = con.execute(
        "SELECT count(*) FROM ops.access_log WHERE action = 'record' AND detail LIKE 'action%'"
    ).fetchall()
    con.close()
    assert sorted(r[0] for r in stored) == sorted(f"concurrent action {i}" for i in range(WRITERS))
    assert logged[0][0] == WRITERS
