"""The monthly run while the app serves: prepare, build, train and score the successor file while
five clinicians keep recording, promote it, and the app switches between requests: it then
serves the new registry, every acknowledged recording is in the live file, no request failed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import duckdb
from app_users import PASSWORDS

from dashboards.client import AppClient
from stratify.registry.successor import marker_of, previous_of, successor_of

CLINICIANS = 5


def _cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "stratify.cli", *args, "--quiet"], capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, f"{args[0]}: {done.stderr[-2000:]}"


def test_the_monthly_run_switches_the_serving_app_and_loses_no_recording(
    fresh_server, app_data, small_population, tmp_path
):
    server, db = fresh_server
    feeds = small_population[0] / "feeds"
    stop = threading.Event()
    acknowledged: list[str] = []
    failures: list[tuple[int, str]] = []

    def clinician(i: int) -> None:
        client = AppClient(server.url)
        assert client.login("clin_a", PASSWORDS["clin_a"]).status_code == 302
        n = 0
        while not stop.is_set():
            reason = f"successor test {i}-{n}"
            response = client.callback(
                "pat-refresh.data", {"pat-en-save.n_clicks": 1},
                {"pat-id.data": app_data.person_a, "pat-refresh.data": 0, "pat-en-action.value": "deferred",
                 "pat-en-reason.value": reason}, changed="pat-en-save.n_clicks",
            )  # fmt: skip
            if response.status_code == 200 and "Decision saved" in response.text:
                acknowledged.append(reason)
            else:
                failures.append((response.status_code, response.text[:300]))
            n += 1
            time.sleep(0.1)

    workers = [threading.Thread(target=clinician, args=(i,)) for i in range(CLINICIANS)]
    for w in workers:
        w.start()
    try:
        nxt = str(successor_of(db))
        _cli("prepare", "--db", str(db))
        _cli("build", "--feeds", str(feeds), "--db", nxt)
        _cli("train", "--db", nxt, "--card", str(tmp_path / "card.html"))
        _cli("score", "--db", nxt)
        con = duckdb.connect(nxt, read_only=True)
        new_build = con.execute(
            "SELECT build_id FROM meta.builds ORDER BY built_at DESC LIMIT 1"
        ).fetchone()[0]
        con.close()
        before = len(acknowledged)
        _cli("promote", "--db", str(db))
        deadline = time.time() + 60
        while marker_of(db).exists() and time.time() < deadline:
            time.sleep(0.2)
        assert not marker_of(db).exists(), "the app did not switch"
        time.sleep(3)  # recording carries on in the new file
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert failures == [], "a request failed during the run or the switch"
    assert len(acknowledged) > before > 0
    viewer = AppClient(server.url)
    viewer.login("clin_b", PASSWORDS["clin_b"])
    assert f"Build {new_build[:8]}" in viewer.page("/quality").text, (
        "the app serves the old registry"
    )
    server.stop()
    con = duckdb.connect(str(db), read_only=True)
    stored = {
        r[0]
        for r in con.execute(
            "SELECT reason FROM ops.enrolment WHERE reason LIKE 'successor test %'"
        ).fetchall()
    }
    ids = con.execute("SELECT count(*), count(DISTINCT record_id) FROM ops.enrolment").fetchone()
    switched = con.execute(
        "SELECT count(*) FROM ops.access_log WHERE page = 'registry switch'"
    ).fetchone()[0]
    con.close()
    assert stored == set(acknowledged), "an acknowledged recording was lost"
    assert ids[0] == ids[1], "a record id was reused after the switch"
    assert switched == 1
    assert previous_of(db).exists()
