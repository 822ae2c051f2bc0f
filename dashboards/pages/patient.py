"""Patient: everything the team knows about one person across settings, and the records it keeps
(enrolment, named coordinator, care plan). Identifiable: the user's own clusters only; every view
is logged."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

import polars as pl
from dash import Input, Output, State, dcc, html

from dashboards import access
from dashboards.components import (
    field,
    grid,
    notice,
    page,
    page_of,
    paged_grid,
    refused,
    risk_history_chart,
)
from dashboards.recording import parse_date, recorder
from stratify.care import records

PATH = "/patient"
NAME = "Patient"
TIMELINE_COLUMNS = {"event_date": "Date", "setting": "Setting", "kind": "What", "detail": "Detail",
                    "source": "Source"}  # fmt: skip
PROTOCOL_COLUMNS = {"protocol": "Protocol", "protocol_version": "Version", "step_title": "Step",
                    "owner": "Owner", "status": "Status", "evidence_date": "Evidence date",
                    "evidence": "Evidence", "missing": "Missing"}  # fmt: skip


_NO_SCORES = pl.DataFrame(schema={"index_date": pl.Date, "risk_pct": pl.Float64, "tier": pl.String})
_NO_REASONS = pl.DataFrame(schema={"reason": pl.String})


def layout(person: str | None = None, **_query) -> html.Main:
    try:
        user = access.page_user("patient")
        if person is None:
            return page(NAME, notice("Open a patient from a case-conference list."))
        pid = access.patient_in_scope(user, person, "patient")
    except access.Refused as exc:
        return refused(str(exc))
    return page(NAME, dcc.Store(id="pat-id", data=pid), dcc.Store(id="pat-refresh", data=0),
                html.Div(id="pat-message", role="status"),
                html.Div(id="pat-body", children=body(user, pid)))  # fmt: skip


def body(user, pid: int) -> list:
    store = access.store()
    who = store.read("patient", person_id=pid).row(0, named=True)
    access.log_view(user, "patient", who["cluster_code"], pid)
    scored = store.has_table("risk", "scores") and store.has_table("risk", "reasons")
    history = store.read("patient_risk_history", person_id=pid) if scored else _NO_SCORES
    reasons = store.read("patient_reasons", person_id=pid) if scored else _NO_REASONS
    plans = store.read("patient_care_plans", person_id=pid)
    coordinators = store.read("patient_coordinators", person_id=pid)
    enrolment = store.read("patient_enrolment", person_id=pid)
    as_of = _adherence_as_of() if store.has_table("care", "adherence") else None
    protocols = store.read("patient_protocols", person_id=pid, as_of=as_of) if as_of else None
    latest = history.row(-1, named=True) if history.height else None
    return [
        html.Div(
            [
                html.H2(who["patient_name"]),
                html.P(
                    [
                        html.B("NHS number "),
                        who["nhs_number"],
                        html.B("  Born "),
                        str(who["date_of_birth"]),
                        f" (age {who['age']})",
                        html.B("  Sex "),
                        who["sex"] or "",
                        html.B("  Practice "),
                        f"{who['practice_name']} ({who['practice_code']})",
                    ]
                ),  # fmt: skip
                html.P(f"Died {who['date_of_death']}", className="notice notice-error")
                if who["date_of_death"]
                else None,
            ],
            className="card patient-banner",
        ),
        html.Div(
            [
                html.Div(
                    [html.H3("Risk"), _risk(latest, reasons), risk_history_chart(history)],
                    className="card",
                ),
                html.Div(
                    [html.H3("Named coordinator"), _coordinator(coordinators), _coordinator_form()],
                    className="card",
                ),
                html.Div(
                    [html.H3("Enrolment"), _enrolment(enrolment), _enrolment_form()],
                    className="card",
                ),
            ],  # fmt: skip
            className="cards",
        ),
        html.Div(
            [html.H3("Care plan"), _care_plan(plans), _care_plan_form(plans)], className="card"
        ),
        html.H3("Protocol status"),
        grid("pat-protocols", protocols, PROTOCOL_COLUMNS, height=300)
        if protocols is not None
        else notice("Adherence has not been run."),
        html.H3("Timeline across settings, newest first"),
        paged_grid("pat-timeline", TIMELINE_COLUMNS, height=420),
    ]


@lru_cache(maxsize=1)
def _adherence_as_of():
    """The latest adherence run: fixed while the server holds the database."""
    return access.store().read("adherence_latest")["as_of"][0]


def _risk(latest: dict | None, reasons) -> html.Div:
    if latest is None:
        return notice("Not scored.")
    items = [html.Li(r) for r in reasons["reason"].to_list()]
    return html.Div([
        html.P([html.B(f"{latest['risk_pct']:.1f}% "), f"12-month emergency admission risk, tier {latest['tier']} "
                f"(scored {latest['index_date']})."]),
        html.Ol(items, className="reasons") if items else None,
    ])  # fmt: skip


def _coordinator(rows) -> html.Div:
    if rows.height == 0:
        return notice("No named coordinator recorded.", "warn")
    r = rows.row(0, named=True)
    return html.P(
        [
            html.B(r["coordinator_name"]),
            f", {r['coordinator_role']}, {r['organisation']}; "
            f"accountable GP {r['accountable_gp']} (recorded {r['recorded_at']:%Y-%m-%d} by {r['recorded_by']})",
        ]
    )


def _coordinator_form() -> html.Details:
    return html.Details([
        html.Summary("Name a coordinator"),
        field("Name", dcc.Input(id="pat-co-name", maxLength=200)),
        field("Role", dcc.Input(id="pat-co-role", maxLength=200)),
        field("Organisation", dcc.Input(id="pat-co-org", maxLength=200)),
        field("Accountable GP", dcc.Input(id="pat-co-gp", maxLength=200)),
        html.Button("Save coordinator", id="pat-co-save", className="button"),
    ])  # fmt: skip


def _enrolment(rows) -> html.Div:
    if rows.height == 0:
        return html.P("No decision recorded.")
    r = rows.row(0, named=True)
    reason = f": {r['reason']}" if r["reason"] else ""
    return html.P(
        f"{r['action']}{reason} (recorded {r['recorded_at']:%Y-%m-%d} by {r['recorded_by']})"
    )


def _enrolment_form() -> html.Details:
    return html.Details([
        html.Summary("Record a decision"),
        field("Decision", dcc.Dropdown(id="pat-en-action", options=list(records.ACTIONS))),
        field("Reason", dcc.Input(id="pat-en-reason", maxLength=500), "required unless enrolled"),
        html.Button("Save decision", id="pat-en-save", className="button"),
    ])  # fmt: skip


def _care_plan(plans) -> html.Div:
    if plans.height == 0:
        return notice("No care plan recorded.", "warn")
    p = plans.row(0, named=True)
    goals = json.loads(p["goals"])
    actions = json.loads(p["actions"])
    overdue = p["review_date"] < date.today()
    return html.Div([
        html.P([html.B(f"Version {p['version']} ({p['status']}) "),
                f"recorded {p['recorded_at']:%Y-%m-%d} by {p['recorded_by']}; review by {p['review_date']}"
                + (" (overdue)" if overdue else "")]),
        html.Ul([html.Li(g) for g in goals]),
        html.Ul([html.Li(f"{a['what']} ({a['owner']}, by {a['due']})") for a in actions]) if actions else None,
        html.P(f"Preferences: {p['preferences']}") if p["preferences"] else None,
        html.P(f"Family involved: {'yes' if p['family_involved'] else 'no'}; carer involved: "
               f"{'yes' if p['carer_involved'] else 'no'}"),
    ])  # fmt: skip


def _care_plan_form(plans) -> html.Details:
    label = "Review or change the plan" if plans.height else "Agree a care plan"
    return html.Details([
        html.Summary(label),
        field("Goals (one per line)", dcc.Textarea(id="pat-cp-goals", maxLength=2000)),
        field("Preferences", dcc.Input(id="pat-cp-prefs", maxLength=500)),
        field("Review by", dcc.Input(id="pat-cp-review", placeholder="YYYY-MM-DD", maxLength=10)),
        dcc.Checklist(id="pat-cp-involved", options=[{"label": " family involved", "value": "family"},
                                                     {"label": " carer involved", "value": "carer"}], value=[]),
        field("What changed", dcc.Input(id="pat-cp-note", maxLength=500), "required for a review or change"),
        html.Button("Save care plan", id="pat-cp-save", className="button"),
        dcc.Store(id="pat-cp-seen", data=f"{plans['plan_id'][0]}:{plans['version'][0]}" if plans.height else ""),
    ])  # fmt: skip


def _write(kind: str, person: object, values: dict) -> str:
    user, pid = access.patient_user(person)
    store = access.store()
    who = user.username
    if kind == "coordinator":
        store.write(records.record_coordinator, pid, values["name"], values["role"], values["org"],
                    values["gp"], who)  # fmt: skip
    elif kind == "enrolment":
        store.write(records.record_enrolment, pid, values["action"], who, values["reason"])
    else:
        involved = values["involved"] if isinstance(values["involved"], list) else []
        if not all(isinstance(v, str) for v in involved):
            raise records.RecordError("family and carer involvement must be ticked or not")
        goals = [
            g
            for g in (values["goals"] if isinstance(values["goals"], str) else "").splitlines()
            if g.strip()
        ]
        store.write(records.revise_care_plan, pid, values["seen"], goals, parse_date(values["review"], "review date"),
                    "family" in involved, "carer" in involved, who, values["prefs"], values["note"])  # fmt: skip
    store.log(user.username, user.role, "record", "patient", None, pid, kind)
    return {
        "coordinator": "Coordinator saved.",
        "enrolment": "Decision saved.",
        "plan": "Care plan saved.",
    }[kind]


def register(app) -> None:
    @app.callback(
        Output("pat-body", "children"),
        Input("pat-refresh", "data"),
        State("pat-id", "data"),
        prevent_initial_call=True,
    )
    def show(_refresh, person):
        try:
            return body(*access.patient_user(person))
        except access.Refused as exc:
            return [notice(str(exc), "error")]

    @app.callback(
        Output("pat-timeline", "getRowsResponse"),
        Input("pat-timeline", "getRowsRequest"),
        State("pat-id", "data"),
        prevent_initial_call=True,
    )
    def timeline_rows(request, person):
        """Only the block of the timeline the grid is showing goes to the browser."""
        try:
            user, pid = access.patient_user(person)
        except access.Refused:
            return {"rowData": [], "rowCount": 0}
        access.log_view(user, "patient timeline", None, pid)
        frame = access.store().read("care/timeline", person_id=pid).reverse()
        return page_of(frame, request, TIMELINE_COLUMNS)

    def writer(kind: str, button: str, fields: list[tuple[str, str]]) -> None:
        recorder(
            app,
            "pat",
            button,
            [("pat-id", "data")],
            fields,
            lambda given, values: _write(kind, given[0], values),
        )

    writer(
        "coordinator",
        "pat-co-save",
        [
            ("name", "pat-co-name"),
            ("role", "pat-co-role"),
            ("org", "pat-co-org"),
            ("gp", "pat-co-gp"),
        ],
    )
    writer("enrolment", "pat-en-save", [("action", "pat-en-action"), ("reason", "pat-en-reason")])
    writer("plan", "pat-cp-save", [("seen", "pat-cp-seen", "data"), ("goals", "pat-cp-goals"), ("prefs", "pat-cp-prefs"), ("review", "pat-cp-review"),
                                   ("involved", "pat-cp-involved"), ("note", "pat-cp-note")])  # fmt: skip
