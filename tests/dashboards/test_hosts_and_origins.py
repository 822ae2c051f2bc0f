"""Only the configured host names are served (no DNS rebinding), and a state-changing request
must show it comes from this site: Origin, or without one Referer, matching scheme, host and port."""

from __future__ import annotations

import shutil

import pytest
import requests
from app_users import PASSWORDS

from dashboards.app import create_app
from dashboards.client import AppClient

SIGN_IN = {"username": "clin_a", "password": PASSWORDS["clin_a"]}


def _post_login(server, headers: dict) -> requests.Response:
    return requests.post(
        f"{server.url}/login", data=SIGN_IN, headers=headers, allow_redirects=False, timeout=30
    )


def test_a_foreign_host_with_a_matching_origin_is_refused(server):
    port = server.port
    response = _post_login(
        server, {"Host": f"rebind.example:{port}", "Origin": f"http://rebind.example:{port}"}
    )
    assert response.status_code == 400
    assert "stratify_session" not in response.headers.get("Set-Cookie", "")


def test_a_signed_in_session_gets_nothing_through_a_foreign_host(server):
    client = AppClient(server.url)
    assert client.login("clin_a", PASSWORDS["clin_a"]).status_code == 302
    response = client.get("/_dash-layout", headers={"Host": f"rebind.example:{server.port}"})
    assert response.status_code == 400
    assert "conference" not in response.text


def test_a_foreign_referer_without_an_origin_is_refused(server):
    assert _post_login(server, {"Referer": "http://evil.example/page"}).status_code == 403


def test_a_post_with_neither_origin_nor_referer_is_refused(server):
    assert _post_login(server, {}).status_code == 403


@pytest.mark.parametrize(
    "origin", ["https://127.0.0.1:{port}", "http://127.0.0.1:1", "http://localhost:{port}", "null"]
)
def test_an_origin_differing_in_scheme_host_or_port_is_refused(server, origin):
    assert _post_login(server, {"Origin": origin.format(port=server.port)}).status_code == 403


def test_the_sites_own_referer_without_an_origin_is_accepted(server):
    assert _post_login(server, {"Referer": f"{server.url}/login?next=/"}).status_code == 302


def test_an_allowed_host_name_is_served_and_others_are_not(app_data, tmp_path):
    db = tmp_path / "hosts.duckdb"
    shutil.copy(app_data.db.with_name("pristine.duckdb"), db)
    client = create_app(
        db, app_data.users, allowed_hosts=("stratify.trust.nhs.uk",)
    ).server.test_client()
    ours = {"Host": "stratify.trust.nhs.uk", "Origin": "http://stratify.trust.nhs.uk"}
    assert client.post("/login", data=SIGN_IN, headers=ours).status_code == 302
    assert client.get("/login", headers={"Host": "localhost"}).status_code == 400
