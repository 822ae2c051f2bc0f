"""Sessions live on the server behind an HttpOnly, SameSite=Strict cookie that changes at sign-in
and dies at sign-out; every patient-level view and every export lands in the access log."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from app_server import Server
from app_users import MONTH, PASSWORDS

from dashboards.app import create_app
from dashboards.auth import User, Users
from dashboards.client import AppClient


def test_the_session_cookie_is_http_only_strict_and_carries_no_data(server):
    client = AppClient(server.url)
    response = client.login("clin_a", PASSWORDS["clin_a"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "clin_a" not in cookie  # only a signed random id: the session itself is server-side


def test_sign_in_issues_a_new_session_id_and_the_old_one_dies(server):
    client = AppClient(server.url)
    client.login("clin_a", PASSWORDS["clin_a"])
    first = client.http.cookies.get("stratify_session")
    client.login("clin_b", PASSWORDS["clin_b"])  # the next person at the same workstation
    assert client.http.cookies.get("stratify_session") != first
    keeper = AppClient(server.url)
    keeper.http.cookies.set("stratify_session", first, domain="127.0.0.1", path="/")
    assert keeper.get("/_dash-layout").status_code == 401


def test_a_password_reset_or_disabling_ends_the_users_sessions(server, app_data):
    users = Users(app_data.users)
    users.save(
        User("temp_nurse", "Temp Nurse", "clinician", (app_data.cluster_a,)), "first password 1"
    )
    nurse = AppClient(server.url)
    assert nurse.login("temp_nurse", "first password 1").status_code == 302
    assert nurse.get("/_dash-layout").status_code == 200
    users.save(
        User("temp_nurse", "Temp Nurse", "clinician", (app_data.cluster_a,)), "second password 2"
    )
    assert nurse.get("/_dash-layout").status_code == 401
    assert nurse.login("temp_nurse", "second password 2").status_code == 302
    users.save(User("temp_nurse", "Temp Nurse", "clinician", (app_data.cluster_a,), active=False))
    users.save(User("temp_nurse", "Temp Nurse", "clinician", (app_data.cluster_a,), active=True))
    assert nurse.get("/_dash-layout").status_code == 401


def test_a_session_left_idle_ends_while_one_in_use_carries_on(app_data, tmp_path):
    db = tmp_path / "idle.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    server = Server(db, app_data.users, "--idle-minutes", "0.05")  # 3 seconds
    try:
        working, away = AppClient(server.url), AppClient(server.url)
        for client in (working, away):
            assert client.login("clin_a", PASSWORDS["clin_a"]).status_code == 302
            assert client.get("/_dash-layout").status_code == 200
        for _ in range(6):  # 6 s of use, a request a second
            time.sleep(1)
            assert working.get("/_dash-layout").status_code == 200
        assert away.get("/_dash-layout").status_code == 401  # 6 s without a request
        assert away.login("clin_a", PASSWORDS["clin_a"]).status_code == 302  # sign in again
        assert away.get("/_dash-layout").status_code == 200
    finally:
        server.stop()


def test_https_deployments_tell_browsers_to_use_https_only(app_data, tmp_path):
    db = tmp_path / "hsts.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    secure = create_app(db, app_data.users, secure_cookie=True).server.test_client()
    assert secure.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = create_app(db, app_data.users).server.test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\t/evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/%09/evil.example/",
        "/\r\nSet-Cookie:x=1",
    ],
)
def test_sign_in_never_redirects_off_site(server, target):
    response = AppClient(server.url).http.post(
        f"{server.url}/login", data={"username": "clin_a", "password": PASSWORDS["clin_a"], "next": target},
        allow_redirects=False,
    )  # fmt: skip
    location = response.headers["Location"]
    assert location == "/" or (
        location.startswith("/")
        and not location.startswith("//")
        and "evil" not in location.split("?")[0].lstrip("/").split("/")[0]
    )


def test_an_odd_path_sends_an_anonymous_browser_to_sign_in_not_an_error(server):
    response = AppClient(server.url).get("/%0d%0aSet-Cookie:x=1", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cross_site_post_is_refused(server):
    response = AppClient(server.url).http.post(
        f"{server.url}/login", data={"username": "clin_a", "password": PASSWORDS["clin_a"]},
        headers={"Origin": "https://evil.example"}, allow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 403


def test_after_sign_out_the_old_cookie_opens_nothing(server):
    client = AppClient(server.url)
    client.login("clin_a", PASSWORDS["clin_a"])
    stolen = client.http.cookies.get("stratify_session")
    client.get("/logout")
    thief = AppClient(server.url)
    thief.http.cookies.set("stratify_session", stolen, domain="127.0.0.1", path="/")
    assert thief.get("/_dash-layout").status_code == 401


def test_patient_views_and_exports_are_logged_with_who_what_and_when(server, app_data):
    clinician = AppClient(server.url)
    clinician.login("clin_a", PASSWORDS["clin_a"])
    assert clinician.page("/patient", f"?person={app_data.person_a}").status_code == 200
    assert clinician.get(f"/export/conference/{app_data.cluster_a}/{MONTH}.pdf").status_code == 200
    admin = AppClient(server.url)
    admin.login("admin", PASSWORDS["admin"])
    log = _grid_rows(admin.page("/admin").json(), "adm-log")
    views = [
        r
        for r in log
        if r["username"] == "clin_a" and r["action"] == "view" and r["page"] == "patient"
    ]
    assert any(str(r["person_id"]) == str(app_data.person_a) and r["accessed_at"] for r in views)
    assert any(
        r["username"] == "clin_a" and r["action"] == "export" and r["page"] == "pack.pdf"
        for r in log
    )


def _log(server) -> list[dict]:
    admin = AppClient(server.url)
    admin.login("admin", PASSWORDS["admin"])
    return _grid_rows(admin.page("/admin").json(), "adm-log")


def _count(rows, **match) -> int:
    return sum(all(str(r.get(k)) == str(v) for k, v in match.items()) for r in rows)


def test_a_refused_patient_view_is_logged(server, app_data):
    mine = {"username": "clin_a", "action": "refused", "page": "patient"}
    before = _count(_log(server), **mine)
    clinician = AppClient(server.url)
    clinician.login("clin_a", PASSWORDS["clin_a"])
    clinician.page("/patient", f"?person={app_data.person_b}")
    assert _count(_log(server), **mine) == before + 1


def test_each_block_of_the_timeline_is_logged(server, app_data):
    mine = {
        "username": "clin_a",
        "action": "view",
        "page": "patient timeline",
        "person_id": app_data.person_a,
    }
    before = _count(_log(server), **mine)
    clinician = AppClient(server.url)
    clinician.login("clin_a", PASSWORDS["clin_a"])
    ask = {"pat-timeline.getRowsRequest": {"startRow": 0, "endRow": 100}}
    clinician.callback("pat-timeline.getRowsResponse", ask, {"pat-id.data": app_data.person_a})
    assert _count(_log(server), **mine) == before + 1


def test_an_exported_pack_is_not_left_on_the_servers_disk(server, app_data):
    import tempfile
    from pathlib import Path

    def packs() -> int:
        return len(list(Path(tempfile.gettempdir()).glob("stratify-pack-*")))

    before = packs()
    clinician = AppClient(server.url)
    clinician.login("clin_a", PASSWORDS["clin_a"])
    assert clinician.get(f"/export/conference/{app_data.cluster_a}/{MONTH}.xlsx").status_code == 200
    assert packs() <= before


def _grid_rows(node, grid_id):
    text = json.dumps(node)
    assert grid_id in text

    def find(n):
        if isinstance(n, dict):
            if n.get("props", {}).get("id") == grid_id:
                return n["props"]["rowData"]
            for v in n.values():
                found = find(v)
                if found is not None:
                    return found
        elif isinstance(n, list):
            for v in n:
                found = find(v)
                if found is not None:
                    return found
        return None

    return find(node)


def test_a_session_in_constant_use_still_ends_at_its_lifetime(app_data, tmp_path):
    db = tmp_path / "lifetime.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    server = Server(db, app_data.users, "--idle-minutes", "0.05", "--session-hours", str(5 / 3600))
    try:
        client = AppClient(server.url)
        assert client.login("clin_a", PASSWORDS["clin_a"]).status_code == 302
        signed_in = time.time()
        answers = []
        while time.time() - signed_in < 8:  # a request a second, well inside the 3 s idle limit
            answers.append((time.time() - signed_in, client.get("/_dash-layout").status_code))
            time.sleep(1)
        assert all(code == 200 for t, code in answers if t < 4)
        assert all(code == 401 for t, code in answers if t > 6), "activity extended the session"
        assert client.login("clin_a", PASSWORDS["clin_a"]).status_code == 302
        assert client.get("/_dash-layout").status_code == 200
    finally:
        server.stop()
