"""Twenty people recording at once lose nothing: every write goes through one lock, in its own
transaction, into append-only tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import duckdb
from app_users import MONTH, PASSWORDS

from dashboards.client import AppClient

WRITERS = 20


def at_once(server, n: int, fire) -> list[str]:
    """`n` clinicians, each signed in, fire(client, i) at the same moment; their answers."""
    clients = []
    for _ in range(n):
        client = AppClient(server.url)
        client.login("clin_a", PASSWORDS["clin_a"])
        client.dependencies()
        clients.append(client)
    start = Barrier(n)

    def one(i: int) -> str:
        start.wait()
        return fire(clients[i], i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_twenty_simultaneous_writers_lose_no_record(fresh_server, app_data):
    server, db = fresh_server
    opener = AppClient(server.url)
    opener.login("clin_a", PASSWORDS["clin_a"])
    opened = opener.callback(
        "conf-refresh.data", {"conf-open.n_clicks": 1},
        {"conf-cluster.value": app_data.cluster_a, "conf-month.value": MONTH, "conf-refresh.data": 0,
         "conf-meeting-date.value": f"{MONTH}-15"}, changed="conf-open.n_clicks",
    )  # fmt: skip
    assert "Meeting record opened" in opened.text

    def write(client: AppClient, i: int) -> str:
        return client.callback(
            "conf-refresh.data", {"conf-act-add.n_clicks": 1},
            {"conf-cluster.value": app_data.cluster_a, "conf-month.value": MONTH, "conf-refresh.data": 0,
             "conf-act-person.value": app_data.person_a, "conf-act-text.value": f"concurrent action {i}",
             "conf-act-owner.value": f"owner {i}", "conf-act-role.value": "district nurse",
             "conf-act-due.value": "2026-12-15"}, changed="conf-act-add.n_clicks",
        ).text  # fmt: skip

    answers = at_once(server, WRITERS, write)
    assert all("Action agreed" in a for a in answers), [
        a[:300] for a in answers if "Action agreed" not in a
    ][:3]
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


def test_people_saving_one_care_plan_at_once_cannot_fork_or_overwrite_it(fresh_server, app_data):
    """Eight people save a first care plan for the same patient at the same moment: one plan is
    made, the other seven are told it changed under them; nothing is silently hidden."""
    server, db = fresh_server
    savers = 8

    def save(client: AppClient, i: int) -> str:
        return client.callback(
            "pat-refresh.data", {"pat-cp-save.n_clicks": 1},
            {"pat-id.data": app_data.person_a, "pat-refresh.data": 0, "pat-cp-seen.data": "",
             "pat-cp-goals.value": f"goal from saver {i}", "pat-cp-prefs.value": None,
             "pat-cp-review.value": "2027-03-01", "pat-cp-involved.value": ["family"], "pat-cp-note.value": None},
            changed="pat-cp-save.n_clicks",
        ).text  # fmt: skip

    answers = at_once(server, savers, save)
    assert sum("Care plan saved" in a for a in answers) == 1
    assert sum("changed by someone else" in a for a in answers) == savers - 1
    server.stop()
    con = duckdb.connect(str(db), read_only=True)
    plans = con.execute(
        "SELECT count(DISTINCT plan_id), count(*) FROM ops.care_plans WHERE person_id = ?",
        [app_data.person_a],
    ).fetchall()[0]
    con.close()
    assert plans == (1, 1)
