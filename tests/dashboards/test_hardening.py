"""Smaller hardening findings, one behaviour each: no page behind the favicon path, a lone
surrogate refused, a full disk said in words with the session kept, every forged action id
logged, dates within a window, private files, and a Content-Security-Policy the app passes."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from app_server import Server
from app_users import MONTH, PASSWORDS

from dashboards.client import AppClient
from dashboards.recording import parse_date
from stratify.care.records import RecordError


def signed_in(server, username: str = "clin_a") -> AppClient:
    client = AppClient(server.url)
    assert client.login(username, PASSWORDS[username]).status_code == 302
    return client


def test_the_favicon_path_serves_no_page_without_sign_in(server):
    response = AppClient(server.url).get("/favicon.ico")
    assert response.status_code in (204, 404)
    assert "_dash-config" not in response.text and "react-entry-point" not in response.text


def test_a_lone_surrogate_in_a_text_field_is_refused_not_a_server_error(server, app_data):
    response = signed_in(server).callback(
        "pat-refresh.data", {"pat-en-save.n_clicks": 1},
        {"pat-id.data": app_data.person_a, "pat-refresh.data": 0, "pat-en-action.value": "deferred",
         "pat-en-reason.value": "reason \ud800 here"}, changed="pat-en-save.n_clicks",
    )  # fmt: skip
    assert response.status_code == 400
    assert "surrogate" in response.text


def _admin_log(server) -> list[dict]:
    page = signed_in(server, "admin").page("/admin").json()
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "adm-log":
                found.extend(node["props"]["rowData"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(page)
    return found


def test_a_forged_action_id_is_refused_and_logged(fresh_server, app_data):
    server, _ = fresh_server
    client = signed_in(server)
    context = {
        "conf-cluster.value": app_data.cluster_a,
        "conf-month.value": MONTH,
        "conf-refresh.data": 0,
    }
    opened = client.callback("conf-refresh.data", {"conf-open.n_clicks": 1},
                             {**context, "conf-meeting-date.value": f"{MONTH}-15"}, changed="conf-open.n_clicks")  # fmt: skip
    assert "Meeting record opened" in opened.text
    for forged in ("forged-action-id", "' OR 1=1 --"):
        response = client.callback(
            "conf-refresh.data", {"conf-action-update.n_clicks": 1},
            {**context, "conf-action-id.value": forged, "conf-action-status.value": "done"},
            changed="conf-action-update.n_clicks",
        )  # fmt: skip
        assert "choose an action of this cluster" in response.text
    refusals = [r for r in _admin_log(server) if r["username"] == "clin_a" and r["action"] == "refused"
                and r["detail"] == "action outside scope"]  # fmt: skip
    assert len(refusals) == 2


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31", "1900-01-01"])
def test_a_date_far_from_today_is_refused(typed):
    with pytest.raises(RecordError, match="must be between"):
        parse_date(typed, "due date", today=date(2026, 12, 2))


def test_a_date_within_the_window_is_accepted():
    assert parse_date("2027-03-01", "review date", today=date(2026, 12, 2)) == date(2027, 3, 1)
    assert parse_date("2026-01-15", "meeting date", today=date(2026, 12, 2)) == date(2026, 1, 15)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_servers_files_are_the_owners_alone(fresh_server):
    server, db = fresh_server
    signed_in(server)
    sessions = db.with_name(db.name + ".sessions")
    assert _mode(sessions) == 0o700
    assert all(_mode(f) == 0o600 for f in sessions.iterdir())
    assert _mode(db.with_name(db.name + ".secret")) == 0o600
    for extra in db.parent.glob(db.name + ".wal"):
        assert _mode(extra) == 0o600


def test_a_conference_pack_written_by_the_cli_is_the_owners_alone(app_data, tmp_path):
    db = tmp_path / "conf.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    out = tmp_path / "pack"
    done = subprocess.run([sys.executable, "-m", "stratify.cli", "conference", "--db", str(db), "--cluster",
                           app_data.cluster_a, "--month", MONTH, "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    packs = list(tmp_path.glob("pack.*"))
    assert packs and all(_mode(p) == 0o600 for p in packs)


def test_every_response_carries_a_content_security_policy_without_inline_script(server):
    for response in (
        AppClient(server.url).get("/login"),
        signed_in(server).get("/", headers={"Accept": "text/html"}),
    ):
        policy = response.headers["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]+)", policy).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        assert "frame-ancestors 'none'" in policy


def test_the_apps_page_has_no_inline_script(server):
    html = signed_in(server).get("/", headers={"Accept": "text/html"}).text
    assert "_dash-renderer" in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script {tag}"


def _mount_small_disk(folder: Path, megabytes: int) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(folder)],
                          capture_output=True)  # fmt: skip
    return done.returncode == 0


def test_a_full_disk_is_said_in_words_and_the_session_kept(app_data, tmp_path):
    source = app_data.db.with_name("pristine.duckdb")
    disk = tmp_path / "disk"
    size = source.stat().st_size // 2**20 + 24
    if not _mount_small_disk(disk, size):
        pytest.skip("needs a small tmpfs (root) to fill")
    server = None
    try:
        db = disk / "stratify.duckdb"
        shutil.copy(source, db)
        server = Server(db, app_data.users)
        client = signed_in(server)
        filler = disk / "filler"
        with filler.open("wb") as f:  # fill the disk to the last byte
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        answers = [client.callback(
            "pat-refresh.data", {"pat-en-save.n_clicks": 1},
            {"pat-id.data": app_data.person_a, "pat-refresh.data": 0, "pat-en-action.value": "deferred",
             "pat-en-reason.value": f"a reason written on a full disk {i} " + "x" * 400}, changed="pat-en-save.n_clicks",
        ) for i in range(20)]  # fmt: skip
        failed = [a for a in answers if "Decision saved" not in a.text]
        assert failed, "the disk never filled"
        for answer in failed:
            assert answer.status_code == 200, "a bare server error"
            assert "disk is full" in answer.text and "still signed in" in answer.text
        filler.unlink()
        assert client.get("/_dash-layout").status_code == 200, "the session was lost"
    finally:
        if server is not None and server.proc.poll() is None:
            server.stop()
        subprocess.run(["umount", str(disk)], capture_output=True)
