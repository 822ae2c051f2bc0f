"""Case conference (practice cluster): the month's list with reasons, the meeting record
(attendance, outcomes, actions) and the pack. Identifiable: the user's own clusters only."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from dash import Input, Output, State, dcc, html

from dashboards import access
from dashboards.components import field, grid, notice, page, refused
from dashboards.recording import parse_date, recorder
from stratify import pack
from stratify.care import records

PATH = "/conference"
NAME = "Case conference"
LIST_COLUMNS = {
    "list_order": "#", "person_id": "Open", "patient_name": "Patient", "nhs_number": "NHS number",
    "age": "Age", "practice_name": "Practice", "why_discuss": "Why discuss", "tier": "Risk tier",
    "risk_pct": "Risk %", "risk_change_pct": "Change (points)", "top_reasons": "Top reasons",
    "frailty_category": "Frailty", "enrolment_status": "Enrolment", "coordinator_name": "Coordinator",
    "care_plan_status": "Care plan",
}  # fmt: skip
ACTION_COLUMNS = {
    "patient_name": "Patient", "practice_code": "Practice", "action": "Action", "owner": "Owner",
    "owner_role": "Role", "due_date": "Due", "status": "Status", "agreed_at": "Agreed",
}  # fmt: skip


def layout(cluster: str | None = None, month: str | None = None, **_query) -> html.Main:
    try:
        user = access.page_user("conference")
    except access.Refused as exc:
        return refused(str(exc))
    clusters = list(user.clusters)
    chosen = cluster if cluster in clusters else clusters[0]
    months = _months(chosen)
    chosen_month = month if month in months else (months[0] if months else None)
    return page(
        NAME,
        html.Div(
            [
                field(
                    "Practice cluster",
                    dcc.Dropdown(
                        id="conf-cluster", options=clusters, value=chosen, clearable=False
                    ),
                ),
                field(
                    "Month",
                    dcc.Dropdown(
                        id="conf-month", options=months, value=chosen_month, clearable=False
                    ),
                ),
            ],  # fmt: skip
            className="row",
        ),
        dcc.Store(id="conf-refresh", data=0),
        html.Div(id="conf-message", role="status"),
        html.Div(id="conf-body", children=body(user, chosen, chosen_month)),
        note="Patients to discuss this month, why, and what the team decides. Contains "
        "patient-identifiable information: for the direct-care team of this cluster only.",
    )


def _months(cluster: str) -> list[str]:
    if not access.store().has_table("care", "conference_list"):
        return []
    return access.store().read("conference_months", cluster=cluster)["month"].to_list()


def body(user, cluster: str, month: str | None) -> list:
    """Everything below the choosers for one cluster and month (scope already checked)."""
    store = access.store()
    if month is None:
        return [notice("No list has been made for this cluster yet: run `stratify conference`.")]
    access.log_view(user, "conference", cluster, detail=f"list {month}")
    listed = store.read("conference_list", cluster=cluster, month=month)
    meeting = store.read("conference_meeting", cluster=cluster, month=month)
    actions = store.read("care/conference_actions", cluster=cluster)
    patients = [{"label": f"{r['list_order']}. {r['patient_name']} ({r['nhs_number']})", "value": r["person_id"]}
                for r in listed.select("list_order", "patient_name", "nhs_number", "person_id").to_dicts()]  # fmt: skip
    parts = [
        html.Div(
            [
                html.Span(
                    f"{listed.height} patients listed for {cluster}, {month}.", className="count"
                ),
                html.A(
                    "Download pack (Excel)",
                    href=f"/export/conference/{cluster}/{month}.xlsx",
                    className="button secondary",
                    id="conf-pack-xlsx",
                ),
                html.A(
                    "Download pack (PDF)",
                    href=f"/export/conference/{cluster}/{month}.pdf",
                    className="button secondary",
                    id="conf-pack-pdf",
                ),
            ],  # fmt: skip
            className="toolbar",
        ),
        grid(
            "conf-list", listed, LIST_COLUMNS, links={"person_id": "/patient?person="}, height=460
        ),
        html.H2("Meeting record"),
    ]
    if meeting.height == 0:
        parts.append(
            html.Div(
                [
                    notice("No meeting recorded for this month yet."),
                    field(
                        "Meeting date",
                        dcc.Input(
                            id="conf-meeting-date",
                            type="text",
                            placeholder="YYYY-MM-DD",
                            maxLength=10,
                        ),
                    ),
                    html.Button("Open the meeting record", id="conf-open", className="button"),
                ],  # fmt: skip
                className="form",
            )
        )
    else:
        parts += _meeting(meeting.row(0, named=True), patients)
    parts += [
        html.H2("Actions for this cluster"),
        grid("conf-actions", actions, ACTION_COLUMNS, height=260),
        html.Div(
            [
                field(
                    "Action",
                    dcc.Dropdown(
                        id="conf-action-id",
                        options=[
                            {
                                "label": f"{r['patient_name']}: {r['action']} ({r['status']})",
                                "value": r["action_id"],
                            }
                            for r in actions.to_dicts()
                        ],
                    ),
                ),
                field(
                    "New status",
                    dcc.Dropdown(id="conf-action-status", options=["done", "cancelled", "open"]),
                ),
                html.Button("Update action", id="conf-action-update", className="button"),
            ],  # fmt: skip
            className="form row",
        ),
    ]
    return parts


def _meeting(meeting: dict, patients: list[dict]) -> list:
    store = access.store()
    cid = meeting["conference_id"]
    attendance = store.read("care/conference_attendance", conference_id=cid)
    outcomes = store.read("care/conference_outcomes", conference_id=cid)
    return [
        html.P(f"Meeting on {meeting['meeting_date']}, opened by {meeting['recorded_by']}."),
        html.H3("Attendance"),
        grid("conf-attendance", attendance,
             {"professional_name": "Name", "professional_role": "Role", "organisation": "Organisation"},
             height=180),
        html.Div(
            [
                field("Name", dcc.Input(id="conf-att-name", maxLength=200)),
                field("Role", dcc.Input(id="conf-att-role", maxLength=200)),
                field("Organisation", dcc.Input(id="conf-att-org", maxLength=200)),
                html.Button("Add attendee", id="conf-att-add", className="button"),
            ],
            className="form row",
        ),
        html.H3("Outcomes"),
        grid("conf-outcomes", outcomes,
             {"patient_name": "Patient", "nhs_number": "NHS number", "outcome": "Outcome",
              "recorded_by": "Recorded by"}, height=220),
        html.Div(
            [
                field("Patient", dcc.Dropdown(id="conf-out-person", options=patients)),
                field("Outcome", dcc.Textarea(id="conf-out-text", maxLength=500)),
                html.Button("Record outcome", id="conf-out-add", className="button"),
            ],
            className="form",
        ),
        html.H3("Agree an action"),
        html.Div(
            [
                field("Patient", dcc.Dropdown(id="conf-act-person", options=patients)),
                field("Action", dcc.Input(id="conf-act-text", maxLength=500)),
                field("Owner", dcc.Input(id="conf-act-owner", maxLength=200)),
                field("Owner's role", dcc.Input(id="conf-act-role", maxLength=200)),
                field("Due", dcc.Input(id="conf-act-due", placeholder="YYYY-MM-DD", maxLength=10)),
                html.Button("Agree action", id="conf-act-add", className="button"),
            ],
            className="form",
        ),
        dcc.Store(id="conf-id", data=cid),
    ]  # fmt: skip


def _write(kind: str, cluster: str, month: str, values: dict) -> str:
    """One write of the meeting record; the conference is found from the cluster and month the
    user may see, never taken from the browser."""
    user = access.page_user("conference")
    cluster = access.cluster_in_scope(user, cluster, "conference")
    store = access.store()
    meeting = store.read("conference_meeting", cluster=cluster, month=month)
    who = user.username
    if kind == "open":
        if month not in _months(cluster):
            raise records.RecordError("choose a month that has a list")
        store.write(
            records.record_conference,
            cluster,
            month,
            parse_date(values["date"], "meeting date"),
            who,
        )
        message = "Meeting record opened."
    else:
        if meeting.height == 0:
            raise records.RecordError("open the meeting record first")
        cid = meeting["conference_id"][0]
        if kind == "attendee":
            store.write(
                records.record_attendance, cid, values["name"], values["role"], values["org"], who
            )
            message = "Attendee added."
        elif kind == "outcome":
            pid = access.patient_in_scope(user, values["person"], "conference")
            store.write(records.record_outcome, cid, pid, values["text"], who)
            message = "Outcome recorded."
        elif kind == "action":
            pid = access.patient_in_scope(user, values["person"], "conference")
            store.write(records.record_action, cid, pid, values["text"], values["owner"],
                        values["role"], parse_date(values["due"], "due date"), who)  # fmt: skip
            message = "Action agreed."
        else:
            _action_in_cluster(user, values["action_id"], cluster)
            store.write(records.record_action_status, values["action_id"], values["status"], who)
            message = "Action updated."
    store.log(user.username, user.role, "record", "conference", cluster, None, f"{kind} {month}")
    return message


def _action_in_cluster(user, action_id: object, cluster: str) -> None:
    """An action of this cluster's conferences; any other id (a forged one) is refused and logged."""
    actions = access.store().read("care/conference_actions", cluster=cluster)
    if not isinstance(action_id, str) or action_id not in set(actions["action_id"].to_list()):
        access.store().log(user.username, user.role, "refused", "conference", cluster,
                           detail="action outside scope")  # fmt: skip
        raise records.RecordError("choose an action of this cluster")


def write_pack(cluster: str, month: str, path: Path) -> Path | None:
    """The pack as a file (Excel or PDF) from the stored list, for the export route."""
    store = access.store()
    full = store.read("conference_pack_list", cluster=cluster, month=month)
    if full.height == 0:
        return None
    actions = store.read("care/conference_actions", cluster=cluster).filter(
        pl.col("status") == "open"
    )
    meeting = store.read("conference_meeting", cluster=cluster, month=month)
    if meeting.height:
        cid = meeting["conference_id"][0]
        attendance = store.read("care/conference_attendance", conference_id=cid)
        outcomes = store.read("care/conference_outcomes", conference_id=cid)
    else:
        attendance, outcomes = pl.DataFrame(), pl.DataFrame()
    title = f"Case conference: cluster {cluster}, {month}"
    if path.suffix == ".xlsx":
        return pack.write_workbook(path, full, actions, attendance, outcomes, title)
    return pack.write_pdf(path, full, actions, outcomes, title)


def register(app) -> None:
    @app.callback(
        Output("conf-month", "options"),
        Output("conf-month", "value"),
        Input("conf-cluster", "value"),
        prevent_initial_call=True,
    )
    def choose_cluster(cluster):
        try:
            user = access.page_user("conference")
            cluster = access.cluster_in_scope(user, cluster, "conference")
        except access.Refused:
            return [], None
        months = _months(cluster)
        return months, (months[0] if months else None)

    @app.callback(
        Output("conf-body", "children"),
        Input("conf-month", "value"),
        Input("conf-refresh", "data"),
        State("conf-cluster", "value"),
        prevent_initial_call=True,
    )
    def show(month, _refresh, cluster):
        try:
            user = access.page_user("conference")
            cluster = access.cluster_in_scope(user, cluster, "conference")
        except access.Refused as exc:
            return [notice(str(exc), "error")]
        if month not in _months(cluster):
            return [notice("No list for that month.")]
        return body(user, cluster, month)

    def writer(kind: str, button: str, fields: list[tuple[str, str]]) -> None:
        recorder(app, "conf", button, [("conf-cluster", "value"), ("conf-month", "value")], fields,
                 lambda given, values: _write(kind, given[0], given[1], values))  # fmt: skip

    writer("open", "conf-open", [("date", "conf-meeting-date")])
    writer(
        "attendee",
        "conf-att-add",
        [("name", "conf-att-name"), ("role", "conf-att-role"), ("org", "conf-att-org")],
    )
    writer("outcome", "conf-out-add", [("person", "conf-out-person"), ("text", "conf-out-text")])
    writer(
        "action",
        "conf-act-add",
        [
            ("person", "conf-act-person"),
            ("text", "conf-act-text"),
            ("owner", "conf-act-owner"),
            ("role", "conf-act-role"),
            ("due", "conf-act-due"),
        ],
    )
    writer(
        "status",
        "conf-action-update",
        [("action_id", "conf-action-id"), ("status", "conf-action-status")],
    )
