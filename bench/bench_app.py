"""Load benchmark of the app: N concurrent users (default 10) working through their pages on a
built, scored, audited database with this month's lists; prints p50/p95/p99 per request kind.

A page's first render is three requests a browser makes in turn once its scripts are cached: the
page itself, the layout, and the router callback that renders the page; each is timed, and so is
their sum. Callbacks are the ones the pages fire when a user chooses something.

    python bench/bench_app.py --db PATH [--users 10] [--seconds 60] [--think 2] [--json]

Each user pauses `--think` seconds on average (uniformly between half and one and a half times it)
after every page and every choice, as a person reading the screen does; `--think 0` sends the next
request at once, a stress test in which ten users keep the server busier than a much larger team.

The database is served as it is (the access log grows); use a copy."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from app_server import Server  # noqa: E402  (the same server harness the tests use)

from dashboards.auth import User, create_users_file  # noqa: E402
from dashboards.client import AppClient  # noqa: E402
from stratify import database  # noqa: E402

PASSWORD = "bench-password-1"


def setup(db: Path, folder: Path) -> tuple[Path, dict]:
    con = database.connect(db, read_only=True)
    cluster, month = con.execute(
        "SELECT cluster_code, max(month) FROM care.conference_list GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchall()[0]
    # The listed patients and 2,000 others of the cluster: teams open both, and nothing per
    # patient is cached, so the pool's size only keeps the sample honest.
    people = [r[0] for r in con.execute(
        "SELECT person_id FROM care.conference_list WHERE cluster_code = ? AND month = ? UNION "
        "(SELECT person_id FROM registry.person WHERE cluster_code = ? ORDER BY hash(person_id) LIMIT 2000)",
        [cluster, month, cluster],
    ).fetchall()]  # fmt: skip
    measures = [
        r[0] for r in con.execute("SELECT DISTINCT measure FROM audit.spc ORDER BY 1").fetchall()
    ]
    practices = [r[0] for r in con.execute(
        "SELECT DISTINCT unit_code FROM audit.spc WHERE level = 'practice' ORDER BY 1").fetchall()]  # fmt: skip
    units = [f"{a}:{b}" for a, b in con.execute(
        "SELECT DISTINCT level, unit_code FROM audit.spc_published WHERE measure = 'enrolment_rate'").fetchall()]  # fmt: skip
    patients = con.execute("SELECT count(*) FROM registry.person").fetchall()[0][0]
    con.close()
    users = folder / "users.yaml"
    book = create_users_file(users, "admin", PASSWORD)
    book.save(User("clin", "Clinician", "clinician", (cluster,)), PASSWORD)
    book.save(User("comm", "Commissioner", "commissioner", ()), PASSWORD)
    book.save(User("auditor", "Audit lead", "audit_lead", ()), PASSWORD)
    return users, {"cluster": cluster, "month": month, "people": people, "measures": measures,
                   "practices": practices, "units": units, "patients": patients}  # fmt: skip


THINK = [0.0]  # mean pause between a user's actions, seconds (set from --think)


def pause() -> None:
    if THINK[0] > 0:
        time.sleep(random.uniform(0.5 * THINK[0], 1.5 * THINK[0]))


def first_render(c: AppClient, path: str, search: str, timings: dict, then: tuple = ()) -> None:
    """The requests a browser makes in turn to show a page; `then` are the callbacks the page
    fires as soon as it is shown (counted in the sum too)."""
    total = 0.0
    for kind, call in (
        ("page html", lambda: c.get(path + search, headers={"Accept": "text/html"})),
        ("layout", lambda: c.get("/_dash-layout")),
        (f"render {path}", lambda: c.page(path, search)),
        *then,
    ):
        t = time.perf_counter()
        r = call()
        dt = time.perf_counter() - t
        assert r.status_code == 200, f"{kind} {path}: HTTP {r.status_code}"
        timings[kind].append(dt)
        total += dt
    timings["first render (sum)"].append(total)
    pause()


def timed(timings: dict, kind: str, call) -> None:
    t = time.perf_counter()
    r = call()
    timings[kind].append(time.perf_counter() - t)
    assert r.status_code in (200, 204), f"{kind}: HTTP {r.status_code}"
    pause()


def clinician(c: AppClient, ctx: dict, timings: dict) -> None:
    first_render(c, "/conference", "", timings)
    timed(timings, "callback conference list", lambda: c.callback(
        "conf-body.children", {"conf-month.value": ctx["month"], "conf-refresh.data": 0},
        {"conf-cluster.value": ctx["cluster"]}))  # fmt: skip
    person = random.choice(ctx["people"])
    block = {"pat-timeline.getRowsRequest": {"startRow": 0, "endRow": 100}}
    timeline = ("callback timeline block", lambda: c.callback("pat-timeline.getRowsResponse", block,
                                                              {"pat-id.data": person}))  # fmt: skip
    first_render(c, "/patient", f"?person={person}", timings, then=(timeline,))
    timed(timings, "callback patient refresh", lambda: c.callback(
        "pat-body.children", {"pat-refresh.data": 1}, {"pat-id.data": person}))  # fmt: skip


def commissioner(c: AppClient, ctx: dict, timings: dict) -> None:
    first_render(c, "/enrolment", "", timings)
    unit = random.choice(ctx["units"])
    timed(
        timings,
        "callback enrolment unit",
        lambda: c.callback("enr-charts.children", {"enr-unit.value": unit}),
    )
    first_render(c, "/model", "", timings)


def audit_lead(c: AppClient, ctx: dict, timings: dict) -> None:
    first_render(c, "/audit", "", timings)
    measure = random.choice(ctx["measures"])
    practice = random.choice(ctx["practices"])
    timed(timings, "callback audit drill-down", lambda: c.callback(
        "aud-charts.children", {"aud-measure.value": measure, "aud-practice.value": practice}))  # fmt: skip
    first_render(c, "/quality", "", timings)


ROLES = (("clin", clinician), ("comm", commissioner), ("auditor", audit_lead))


def run(url: str, ctx: dict, users: int, seconds: float) -> dict:
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    stop = time.time() + seconds
    errors: list[str] = []

    def user(i: int) -> None:
        username, scenario = ROLES[i % len(ROLES)]
        c = AppClient(url)
        c.login(username, PASSWORD)
        c.dependencies()
        mine: dict[str, list[float]] = defaultdict(list)
        while time.time() < stop:
            try:
                scenario(c, ctx, mine)
            except AssertionError as exc:
                errors.append(str(exc))
        with lock:
            for k, v in mine.items():
                timings[k] += v

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"timings": timings, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between actions (s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-app-"))
    db = folder / "stratify.duckdb"
    shutil.copy(args.db, db)
    users_file, ctx = setup(db, folder)
    THINK[0] = args.think
    server = Server(db, users_file)
    try:
        run(server.url, ctx, args.users, args.warmup)  # caches warm, as in steady use
        result = run(server.url, ctx, args.users, args.seconds)
    finally:
        server.stop()
    rows = []
    for kind, values in sorted(result["timings"].items()):
        ms = np.array(values) * 1000
        rows.append({"request": kind, "n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 1),
                     "p95_ms": round(float(np.percentile(ms, 95)), 1),
                     "p99_ms": round(float(np.percentile(ms, 99)), 1)})  # fmt: skip
    summary = {"patients": ctx["patients"], "users": args.users, "seconds": args.seconds, "think": args.think,
               "errors": len(result["errors"]), "requests": rows}  # fmt: skip
    if args.json:
        print(json.dumps(summary))
        return
    print(f"{ctx['patients']:,} registered patients, {args.users} concurrent users, {args.seconds:.0f} s, "
          f"think time {args.think:g} s "
          f"({len(result['errors'])} errors)")  # fmt: skip
    print(f"{'request':<34}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for r in rows:
        print(f"{r['request']:<34}{r['n']:>7}{r['p50_ms']:>10}{r['p95_ms']:>10}{r['p99_ms']:>10}")


if __name__ == "__main__":
    main()
