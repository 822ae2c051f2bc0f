"""Fixtures for the app tests (registered in tests/conftest.py). A real app on a real database: the small population audited, with this month's lists, five
users (two clusters' clinicians, a commissioner, an audit lead, an administrator), served by
`stratify serve` (waitress) in its own process on a free port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests
from app_users import MONTH, PASSWORDS

from dashboards.auth import User, Users, create_users_file
from stratify import conference, operational
from stratify.audit.run import month_ends, run


@dataclass
class AppData:
    db: Path
    users: Path
    cluster_a: str
    cluster_b: str
    person_a: int  # listed this month in cluster A
    person_b: int  # listed this month in cluster B
    nhs_numbers_b: list[str]  # everyone registered in cluster B
    names_b: list[str]
    all_nhs_numbers: list[str]


@pytest.fixture(scope="session")
def app_data(scored_registry, tmp_path_factory) -> AppData:
    source, _, _ = scored_registry
    folder = tmp_path_factory.mktemp("app")
    db = folder / "stratify.duckdb"
    shutil.copy(source, db)
    operational.migrate(db)
    con = duckdb.connect(str(db))
    run(con, month_ends(date(2026, 6, 1), date(2026, 10, 31)))
    clusters = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT cluster_code FROM ref.practices ORDER BY 1"
        ).fetchall()
    ]
    assert len(clusters) >= 2, "the app tests need two practice clusters"
    a, b = clusters[:2]
    for cluster in clusters:
        conference.build_list(con, cluster, MONTH)

    def first_listed(cluster: str) -> int:
        return con.execute(
            "SELECT person_id FROM care.conference_list WHERE cluster_code = ? AND month = ? ORDER BY list_order LIMIT 1",
            [cluster, MONTH],
        ).fetchall()[0][0]

    b_people = con.execute(
        "SELECT nhs_number, given_name || ' ' || family_name FROM registry.person WHERE cluster_code = ?",
        [b],
    ).fetchall()
    everyone = [r[0] for r in con.execute("SELECT nhs_number FROM registry.person").fetchall()]
    data = AppData(db, folder / "users.yaml", a, b, first_listed(a), first_listed(b),
                   [r[0] for r in b_people], [r[1] for r in b_people], everyone)  # fmt: skip
    con.close()
    shutil.copy(
        db, folder / "pristine.duckdb"
    )  # for servers of their own, before any server writes
    users = create_users_file(data.users, "admin", PASSWORDS["admin"])
    for username, role, clusters in (
        ("clin_a", "clinician", (a,)), ("clin_b", "clinician", (b,)),
        ("comm", "commissioner", ()), ("auditor", "audit_lead", ()),
    ):  # fmt: skip
        users.save(
            User(username, username.replace("_", " ").title(), role, clusters), PASSWORDS[username]
        )
    assert isinstance(Users(data.users), Users)
    return data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`stratify serve` in a child process; stop() releases the database file."""

    def __init__(self, db: Path, users: Path, *options: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = db.with_suffix(".serve.log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stratify.cli", "serve", "--db", str(db), "--users", str(users),
             "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"), env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.3)
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def server(app_data):
    s = Server(app_data.db, app_data.users)
    yield s
    s.stop()


@pytest.fixture
def fresh_server(app_data, tmp_path):
    """A server of its own on a copy of the database, for tests that look inside afterwards."""
    db = tmp_path / "stratify.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    s = Server(db, app_data.users)
    yield s, db
    if s.proc.poll() is None:
        s.stop()


@pytest.fixture(scope="session")
def card(app_data) -> dict:
    """The served model's card, as train stored it (before any disclosure)."""
    con = duckdb.connect(str(app_data.db.with_name("pristine.duckdb")), read_only=True)
    raw = con.execute(
        "SELECT card FROM models.trained ORDER BY trained_at DESC LIMIT 1"
    ).fetchone()[0]
    con.close()
    return json.loads(raw) if isinstance(raw, str) else raw


def page_as(server: Server, user: str, path: str) -> dict:
    """The page body at path as this test user's browser receives it."""
    from dashboards.client import AppClient

    client = AppClient(server.url)
    assert client.login(user, PASSWORDS[user]).status_code == 302
    return client.page(path).json()
