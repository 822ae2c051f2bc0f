"""The one way people's decisions are written: enrolment, named coordinators, care plans.

Every write is checked, then appended with who and when; nothing is updated or deleted, so the
history is the table. Callers pass an open connection to a database whose operational schema is
current (stratify.operational.migrate)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

ACTIONS = ("enrolled", "declined", "deferred", "withdrawn")
MAX_TEXT = 500


class RecordError(ValueError):
    """A write that was refused, with the field and the reason."""


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _text(field: str, value: object, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field} must be text")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise RecordError(f"{field} is longer than {MAX_TEXT} characters")
    return value


def _person(con: duckdb.DuckDBPyConnection, person_id: object) -> int:
    if isinstance(person_id, bool) or not isinstance(person_id, int):
        raise RecordError("person_id must be a whole number")
    found = con.execute(
        "SELECT count(*) FROM registry.person WHERE person_id = ?", [person_id]
    ).fetchall()
    if not found[0][0]:
        raise RecordError(f"no registered person {person_id}")
    return person_id


def append_row(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> int:
    """Append one row to an operational table; its record id. Every write here ends in it."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return con.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING record_id", list(row.values())
    ).fetchall()[0][0]


def record_enrolment(
    con: duckdb.DuckDBPyConnection,
    person_id: int,
    action: str,
    recorded_by: str,
    reason: str | None = None,
) -> int:
    """Enrol, decline (with reason), defer (with reason) or withdraw (with reason) one patient."""
    if action not in ACTIONS:
        raise RecordError(f"action must be one of {', '.join(ACTIONS)}")
    row = {
        "person_id": _person(con, person_id),
        "action": action,
        "reason": _text("reason", reason, required=action != "enrolled"),
        "recorded_by": _text("recorded_by", recorded_by),
        "recorded_at": _now(),
    }
    return append_row(con, "ops.enrolment", row)


def record_coordinator(
    con: duckdb.DuckDBPyConnection,
    person_id: int,
    name: str,
    role: str,
    organisation: str,
    accountable_gp: str,
    recorded_by: str,
) -> int:
    """Name the patient's care coordinator (one at a time: the latest record is current)."""
    row = {
        "person_id": _person(con, person_id),
        "coordinator_name": _text("coordinator name", name),
        "coordinator_role": _text("coordinator role", role),
        "organisation": _text("organisation", organisation),
        "accountable_gp": _text("accountable GP", accountable_gp),
        "recorded_by": _text("recorded_by", recorded_by),
        "recorded_at": _now(),
    }
    return append_row(con, "ops.coordinators", row)


@dataclass
class Action:
    """An agreed action in a care plan: what, who owns it, by when."""

    what: str
    owner: str
    due: date


def record_care_plan(
    con: duckdb.DuckDBPyConnection,
    person_id: int,
    goals: list[str],
    actions: list[Action],
    review_date: date,
    family_involved: bool,
    carer_involved: bool,
    recorded_by: str,
    preferences: str | None = None,
    plan_id: str | None = None,
    status: str = "active",
    change_note: str | None = None,
) -> tuple[str, int]:
    """Create a care plan, or (with plan_id) record its next version: a review or a change."""
    person_id = _person(con, person_id)
    if isinstance(goals, str) or not isinstance(goals, list | tuple) or not goals:
        raise RecordError("a care plan needs a list of at least one goal")
    goals = [_text("goal", g) for g in goals]
    checked = []
    for a in actions:
        if not isinstance(a.due, date) or isinstance(a.due, datetime):
            raise RecordError("action due date must be a date")
        checked.append({"what": _text("action", a.what), "owner": _text("action owner", a.owner),
                        "due": a.due.isoformat()})  # fmt: skip
    if not isinstance(review_date, date) or isinstance(review_date, datetime):
        raise RecordError("review date must be a date")
    if review_date > date.today() + timedelta(days=2 * 366):
        raise RecordError("review date must be within two years")
    if status not in ("active", "closed"):
        raise RecordError("status must be active or closed")
    if not isinstance(family_involved, bool) or not isinstance(carer_involved, bool):
        raise RecordError("family_involved and carer_involved must be yes or no")
    if plan_id is None:
        plan_id, version = str(uuid.uuid4()), 1
    else:
        rows = con.execute(
            "SELECT max(version), any_value(person_id) FROM ops.care_plans WHERE plan_id = ?",
            [plan_id],
        ).fetchall()
        if rows[0][0] is None:
            raise RecordError(f"no care plan {plan_id}")
        if rows[0][1] != person_id:
            raise RecordError("that care plan belongs to another person")
        version = rows[0][0] + 1
    append_row(
        con,
        "ops.care_plans",
        {
            "plan_id": plan_id, "version": version, "person_id": person_id,
            "goals": json.dumps(goals), "actions": json.dumps(checked),
            "preferences": _text("preferences", preferences, required=False),
            "family_involved": family_involved, "carer_involved": carer_involved,
            "review_date": review_date, "status": status,
            "change_note": _text("change note", change_note, required=version > 1),
            "recorded_by": _text("recorded_by", recorded_by), "recorded_at": _now(),
        },
    )  # fmt: skip
    return plan_id, version


def revise_care_plan(
    con: duckdb.DuckDBPyConnection,
    person_id: int,
    seen: object,
    goals: list[str],
    review_date: date,
    family_involved: bool,
    carer_involved: bool,
    recorded_by: str,
    preferences: str | None = None,
    change_note: str | None = None,
) -> tuple[str, int]:
    """Start the person's care plan, or record its next version, only over the version the caller
    saw ("plan_id:version", or "" for none): two people saving at once cannot both start a plan or
    overwrite each other unseen. Callers run it under their write lock."""
    latest = con.execute(
        "SELECT plan_id, max(version) FROM ops.care_plans WHERE person_id = ? GROUP BY plan_id "
        "ORDER BY max(recorded_at) DESC LIMIT 1",
        [person_id],
    ).fetchall()
    current = f"{latest[0][0]}:{latest[0][1]}" if latest else ""
    if seen != current:
        raise RecordError("the care plan was changed by someone else since you opened it: reload")
    return record_care_plan(con, person_id, goals, [], review_date, family_involved, carer_involved,
                            recorded_by, preferences, latest[0][0] if latest else None,
                            change_note=change_note)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Case conferences


def record_conference(
    con: duckdb.DuckDBPyConnection,
    cluster_code: str,
    month: str,
    meeting_date: date,
    recorded_by: str,
) -> str:
    """Open the record of one cluster's monthly meeting; returns its id."""
    import re

    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise RecordError("month must be YYYY-MM")
    if not isinstance(meeting_date, date) or isinstance(meeting_date, datetime):
        raise RecordError("meeting date must be a date")
    if meeting_date.strftime("%Y-%m") != month:
        raise RecordError(f"meeting date {meeting_date} is not in {month}")
    cluster = _text("cluster", cluster_code)
    known = con.execute(
        "SELECT count(*) FROM ref.practices WHERE cluster_code = ?", [cluster]
    ).fetchall()
    if not known[0][0]:
        raise RecordError(f"no practice cluster {cluster}")
    held = con.execute(
        "SELECT count(*) FROM ops.conferences WHERE cluster_code = ? AND month = ?",
        [cluster, month],
    ).fetchall()
    if held[0][0]:
        raise RecordError(f"the {month} conference of {cluster} is already recorded; add to it")
    conference_id = str(uuid.uuid4())
    con.execute(
        "INSERT INTO ops.conferences VALUES (?, ?, ?, ?, ?, ?)",
        [conference_id, cluster, month, meeting_date, _text("recorded_by", recorded_by), _now()],
    )
    return conference_id


def _conference(
    con: duckdb.DuckDBPyConnection, conference_id: str, person_id: int | None = None
) -> str:
    """The conference, checked to exist and, given a person, to be their cluster's."""
    found = con.execute(
        "SELECT cluster_code FROM ops.conferences WHERE conference_id = ?", [conference_id]
    ).fetchall()
    if not found:
        raise RecordError(f"no conference {conference_id}")
    if person_id is not None:
        cluster = con.execute(
            "SELECT cluster_code FROM registry.person WHERE person_id = ?", [person_id]
        ).fetchall()
        if not cluster or cluster[0][0] != found[0][0]:
            raise RecordError("that person is not registered in this conference's cluster")
    return conference_id


def record_attendance(
    con: duckdb.DuckDBPyConnection,
    conference_id: str,
    name: str,
    role: str,
    organisation: str,
    recorded_by: str,
) -> int:
    row = {
        "conference_id": _conference(con, conference_id),
        "professional_name": _text("name", name),
        "professional_role": _text("role", role),
        "organisation": _text("organisation", organisation),
        "recorded_by": _text("recorded_by", recorded_by),
        "recorded_at": _now(),
    }
    return append_row(con, "ops.conference_attendance", row)


def record_outcome(
    con: duckdb.DuckDBPyConnection,
    conference_id: str,
    person_id: int,
    outcome: str,
    recorded_by: str,
) -> int:
    row = {
        "conference_id": _conference(con, conference_id, _person(con, person_id)),
        "person_id": person_id,
        "outcome": _text("outcome", outcome),
        "recorded_by": _text("recorded_by", recorded_by),
        "recorded_at": _now(),
    }
    return append_row(con, "ops.conference_outcomes", row)


def record_action(
    con: duckdb.DuckDBPyConnection,
    conference_id: str,
    person_id: int,
    description: str,
    owner: str,
    owner_role: str,
    due_date: date,
    recorded_by: str,
) -> str:
    """A new action agreed at a conference; returns its id (progress is recorded against it)."""
    if not isinstance(due_date, date) or isinstance(due_date, datetime):
        raise RecordError("due date must be a date")
    if due_date > date.today() + timedelta(days=2 * 366):
        raise RecordError("due date must be within two years")
    action_id = str(uuid.uuid4())
    append_row(
        con,
        "ops.conference_actions",
        {
            "action_id": action_id,
            "conference_id": _conference(con, conference_id, _person(con, person_id)),
            "person_id": person_id, "description": _text("action", description),
            "owner": _text("owner", owner), "owner_role": _text("owner role", owner_role),
            "due_date": due_date, "status": "open", "recorded_by": _text("recorded_by", recorded_by),
            "recorded_at": _now(),
        },
    )  # fmt: skip
    return action_id


def record_action_status(
    con: duckdb.DuckDBPyConnection, action_id: str, status: str, recorded_by: str
) -> int:
    """Mark an action done, cancelled or open again: a new row, the history kept."""
    if status not in ("open", "done", "cancelled"):
        raise RecordError("status must be open, done or cancelled")
    latest = con.execute(
        "SELECT conference_id, person_id, description, owner, owner_role, due_date FROM ops.conference_actions "
        "WHERE action_id = ? ORDER BY record_id DESC LIMIT 1",
        [action_id],
    ).fetchall()
    if not latest:
        raise RecordError(f"no action {action_id}")
    conference_id, person_id, description, owner, owner_role, due_date = latest[0]
    return append_row(
        con,
        "ops.conference_actions",
        {
            "action_id": action_id, "conference_id": conference_id, "person_id": person_id,
            "description": description, "owner": owner, "owner_role": owner_role, "due_date": due_date,
            "status": status, "recorded_by": _text("recorded_by", recorded_by), "recorded_at": _now(),
        },
    )  # fmt: skip
