"""The app's HTTP endpoints, called directly as an attacker would: nothing without sign-in, nothing
outside the user's scope, nothing identifiable for commissioners, small numbers suppressed, and
bad input refused or escaped."""

from __future__ import annotations

import json
import re

import pytest
from app_users import MONTH, PASSWORDS

from dashboards.client import AppClient, find_component

# An NHS number as a token of its own: ten digits from the 999 test range, not the digits of a
# longer number such as a probability in a chart (0.0599912345...).
NHS_NUMBER = r"(?<![\d.])999\d{7}(?!\d)"
PAGES = ["/", "/conference", "/patient", "/enrolment", "/audit", "/model", "/quality", "/admin"]


def signed_in(server, username: str) -> AppClient:
    client = AppClient(server.url)
    assert client.login(username, PASSWORDS[username]).status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    ["/_dash-layout", "/_dash-dependencies", "/export/conference/X/2026-11.xlsx", "/conference?x=1"]
    + ["/_dash-component-suites/dash/dcc/dash_core_components.js"],
)
def test_no_endpoint_answers_without_sign_in(server, path):
    response = AppClient(server.url).get(path)
    assert response.status_code in (302, 401)
    assert "patient" not in response.text.lower() or response.status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_no_page_opens_without_sign_in(server, path):
    response = AppClient(server.url).get(path, headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_no_callback_answers_without_sign_in(server, app_data):
    anonymous = AppClient(server.url)
    anonymous._deps = signed_in(server, "clin_a").dependencies()  # the shapes, learnt elsewhere
    response = anonymous.callback(
        "conf-body.children", {"conf-month.value": MONTH, "conf-refresh.data": 1},
        {"conf-cluster.value": app_data.cluster_a},
    )  # fmt: skip
    assert response.status_code == 401
    assert app_data.cluster_a not in response.text


def test_a_wrong_password_is_refused_and_an_unknown_user_alike(server):
    assert AppClient(server.url).login("clin_a", "not-the-password").status_code == 401
    assert AppClient(server.url).login("nobody", "not-the-password").status_code == 401


def test_a_clinician_sees_their_own_clusters_list_with_names(server, app_data):
    page = signed_in(server, "clin_a").page("/conference").text
    assert app_data.cluster_a in page
    assert re.search(NHS_NUMBER, page)


def test_a_forged_request_for_another_clusters_list_gets_nothing_of_it(server, app_data):
    client = signed_in(server, "clin_a")
    forged = client.callback(
        "conf-body.children", {"conf-month.value": MONTH, "conf-refresh.data": 1},
        {"conf-cluster.value": app_data.cluster_b},
    ).text  # fmt: skip
    assert "No such list" in forged
    assert not any(n in forged for n in app_data.nhs_numbers_b)
    page = client.page("/conference", f"?cluster={app_data.cluster_b}").text
    assert not any(n in page for n in app_data.nhs_numbers_b)


def test_a_forged_request_for_another_clusters_patient_gets_nothing_of_it(server, app_data):
    client = signed_in(server, "clin_a")
    page = client.page("/patient", f"?person={app_data.person_b}").text
    assert "No patient with that id" in page
    assert not any(n in page for n in app_data.nhs_numbers_b)
    refreshed = client.callback(
        "pat-body.children", {"pat-refresh.data": 1}, {"pat-id.data": app_data.person_b}
    )
    assert not any(n in refreshed.text for n in app_data.nhs_numbers_b)
    export = client.get(f"/export/conference/{app_data.cluster_b}/{MONTH}.xlsx")
    assert export.status_code == 403
    rows = client.callback(
        "pat-timeline.getRowsResponse", {"pat-timeline.getRowsRequest": {"startRow": 0, "endRow": 100}},
        {"pat-id.data": app_data.person_b},
    ).json()  # fmt: skip
    assert rows["response"]["pat-timeline"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}


def test_the_timeline_sends_only_the_block_the_grid_asks_for(server, app_data):
    client = signed_in(server, "clin_a")
    ask = {"pat-timeline.getRowsRequest": {"startRow": 0, "endRow": 5}}
    block = client.callback(
        "pat-timeline.getRowsResponse", ask, {"pat-id.data": app_data.person_a}
    ).json()
    answer = block["response"]["pat-timeline"]["getRowsResponse"]
    assert len(answer["rowData"]) == min(5, answer["rowCount"]) and answer["rowCount"] > 0
    greedy = {"pat-timeline.getRowsRequest": {"startRow": 0, "endRow": 10**9}}
    big = client.callback(
        "pat-timeline.getRowsResponse", greedy, {"pat-id.data": app_data.person_a}
    ).json()
    assert len(big["response"]["pat-timeline"]["getRowsResponse"]["rowData"]) <= 1000


def test_a_forged_write_for_another_clusters_patient_is_refused(server, app_data):
    client = signed_in(server, "clin_a")
    response = client.callback(
        "pat-refresh.data", {"pat-co-save.n_clicks": 1},
        {"pat-id.data": app_data.person_b, "pat-refresh.data": 0, "pat-co-name.value": "X", "pat-co-role.value": "Y",
         "pat-co-org.value": "Z", "pat-co-gp.value": "W"},
        changed="pat-co-save.n_clicks",
    )  # fmt: skip
    assert "No patient with that id" in response.text


@pytest.mark.parametrize("path", ["/", "/enrolment", "/model", "/conference", "/patient", "/audit"])
def test_a_commissioner_reaches_no_identifiable_field(server, app_data, path):
    client = signed_in(server, "comm")
    text = client.page(path, f"?person={app_data.person_a}").text
    assert not re.search(NHS_NUMBER, text), "an NHS number reached a commissioner"
    assert not any(name in text for name in app_data.names_b[:200])


def test_every_commissioner_figure_is_suppressed_or_rounded(server):
    client = signed_in(server, "comm")
    units = json.loads(client.page("/enrolment").text)
    dropdown = find_component(units, "enr-unit")
    assert dropdown, "the enrolment page offers a choice of unit"
    for option in dropdown["options"][:12]:
        response = client.callback(
            "enr-charts.children", {"enr-unit.value": option["value"]}
        ).json()
        for shown in _displayed_counts(response):
            assert shown == "*" or int(shown) % 5 == 0, f"{shown} is neither suppressed nor rounded"


def test_the_model_cards_counts_are_suppressed_for_a_commissioner(server):
    page = signed_in(server, "comm").page("/model").json()
    rows = find_component(page, "model-groups")["rowData"]
    shown = [str(r[k]).replace(",", "") for r in rows for k in ("people", "events")]
    assert shown and all(v == "*" or int(v) % 5 == 0 for v in shown)
    assert all(r["auroc"] == "*" for r in rows if r["events"] == "*"), (
        "metrics would reveal the count"
    )
    population = re.search(r"Population ([\d,*]+)", json.dumps(page)).group(1).replace(",", "")
    assert population == "*" or int(population) % 5 == 0


def test_a_commissioner_cannot_open_patient_level_pages_even_by_callback(server, app_data):
    client = signed_in(server, "comm")
    response = client.callback(
        "conf-body.children", {"conf-month.value": MONTH, "conf-refresh.data": 1},
        {"conf-cluster.value": app_data.cluster_a},
    )  # fmt: skip
    assert "not available to your role" in response.text
    assert not re.search(NHS_NUMBER, response.text)


def test_too_long_and_wrongly_typed_input_is_refused(server, app_data):
    client = signed_in(server, "clin_a")
    base = {"pat-id.data": app_data.person_a, "pat-refresh.data": 0}
    long = client.callback(
        "pat-refresh.data", {"pat-en-save.n_clicks": 1},
        {**base, "pat-en-action.value": "declined", "pat-en-reason.value": "x" * 5000}, changed="pat-en-save.n_clicks",
    )  # fmt: skip
    assert "longer than 500" in long.text
    wrong = client.callback(
        "pat-refresh.data", {"pat-en-save.n_clicks": 1},
        {**base, "pat-en-action.value": {"$gt": ""}, "pat-en-reason.value": None}, changed="pat-en-save.n_clicks",
    )  # fmt: skip
    assert "action must be one of" in wrong.text
    not_a_person = client.page("/patient", "?person=1;DROP TABLE x").text
    assert "No patient with that id" in not_a_person


def test_script_bearing_input_is_stored_as_text_and_sent_back_as_text(server, app_data):
    client = signed_in(server, "clin_a")
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    saved = client.callback(
        "pat-refresh.data", {"pat-en-save.n_clicks": 1},
        {"pat-id.data": app_data.person_a, "pat-refresh.data": 0, "pat-en-action.value": "deferred",
         "pat-en-reason.value": script}, changed="pat-en-save.n_clicks",
    )  # fmt: skip
    assert "Decision saved" in saved.text
    page = client.page("/patient", f"?person={app_data.person_a}").json()
    texts = list(_strings(page))
    assert any(script in t for t in texts), "the text comes back as a string child"
    assert not _find_type(page, "Script"), "never as an element"


def test_the_login_page_escapes_what_it_echoes(server):
    response = AppClient(server.url).get('/login?next=/"><script>alert(1)</script>')
    assert "<script>alert(1)</script>" not in response.text


def _find_type(node, type_name) -> bool:
    if isinstance(node, dict):
        return node.get("type") == type_name or any(_find_type(v, type_name) for v in node.values())
    if isinstance(node, list):
        return any(_find_type(v, type_name) for v in node)
    return False


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _displayed_counts(response) -> list[str]:
    """Every count the commissioner is shown: grid cells and chart tooltips."""
    shown = []
    for text in _strings(response):
        shown += re.findall(r"(?:Numerator|Denominator): ([*\d]+)\b", text)
    grids = []

    def collect(node):
        if isinstance(node, dict):
            if "rowData" in node:
                grids.append(node["rowData"])
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    collect(response)
    for rows in grids:
        for row in rows:
            for key in ("numerator_display", "denominator_display"):
                if row.get(key) is not None:
                    shown.append(str(row[key]))
    assert shown, "the response shows some counts"
    return shown


def _add_user(client: AppClient, username: str, cluster: str):
    return client.callback(
        "adm-users.children", {"adm-save.n_clicks": 1},
        {"adm-username.value": username, "adm-name.value": "New Nurse", "adm-role.value": "clinician",
         "adm-clusters.value": [cluster], "adm-password.value": "a long new password", "adm-active.value": ["active"]},
    )  # fmt: skip


def test_only_an_administrator_can_add_users(server, app_data):
    refused = _add_user(signed_in(server, "clin_a"), "sneaky", app_data.cluster_a)
    assert "not available to your role" in refused.text
    added = _add_user(signed_in(server, "admin"), "newnurse", app_data.cluster_a)
    assert "Saved newnurse" in added.text
    assert AppClient(server.url).login("newnurse", "a long new password").status_code == 302
    assert AppClient(server.url).login("sneaky", "a long new password").status_code == 401
