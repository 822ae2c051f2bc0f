"""Sessions live on the server behind an HttpOnly, SameSite=Strict cookie that changes at sign-in
and dies at sign-out; every patient-level view and every export lands in the access log."""

from __future__ import annotations

import json

from app_users import MONTH, PASSWORDS

from dashboards.client import AppClient


def test_the_session_cookie_is_http_only_strict_and_carries_no_data(server):
    client = AppClient(server.url)
    response = client.login("clin_a", PASSWORDS["clin_a"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "clin_a" not in cookie  # only a signed random id: the session itself is server-side


def test_sign_in_issues_a_new_session_id(server):
    client = AppClient(server.url)
    client.get("/login")
    client.http.cookies.set(
        "stratify_session", "planted-by-an-attacker", domain="127.0.0.1", path="/"
    )
    client.login("clin_a", PASSWORDS["clin_a"])
    assert client.http.cookies.get("stratify_session") != "planted-by-an-attacker"


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


def test_refusals_are_logged_too(server, app_data):
    clinician = AppClient(server.url)
    clinician.login("clin_a", PASSWORDS["clin_a"])
    clinician.page("/patient", f"?person={app_data.person_b}")
    admin = AppClient(server.url)
    admin.login("admin", PASSWORDS["admin"])
    log = _grid_rows(admin.page("/admin").json(), "adm-log")
    assert any(r["username"] == "clin_a" and r["action"] == "refused" for r in log)


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
