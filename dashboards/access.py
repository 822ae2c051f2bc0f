"""What the signed-in user may see, decided on the server for every page, callback and export.

Everything here reads the username from the server-side session; a value the browser sends (a
cluster, a month, a person id) is only a request, checked against the user's scope and refused
(and logged) when it falls outside it."""

from __future__ import annotations

import time

from flask import current_app, g, request, session

from dashboards.auth import User, Users
from dashboards.store import Store

PAGE_ROLES: dict[str, frozenset[str]] = {
    "home": frozenset({"clinician", "commissioner", "audit_lead", "admin"}),
    "conference": frozenset({"clinician", "audit_lead"}),
    "patient": frozenset({"clinician", "audit_lead"}),
    "enrolment": frozenset({"commissioner", "audit_lead", "clinician"}),
    "audit": frozenset({"audit_lead"}),
    "model": frozenset({"clinician", "commissioner", "audit_lead", "admin"}),
    "quality": frozenset({"clinician", "audit_lead", "admin"}),
    "admin": frozenset({"admin"}),
}
PATIENT_PAGES = frozenset({"conference", "patient"})


class Refused(Exception):
    """The user may not see this; the message is safe to show (it reveals nothing)."""


def users() -> Users:
    return current_app.extensions["stratify_users"]


def store() -> Store:
    return current_app.extensions["stratify_store"]


def current_user() -> User | None:
    """The session's user, while the session still matches them: a password change, disabling
    or re-enabling the user ends every session they had."""
    if "stratify_user" not in g:  # once per request: the gate and the page both ask
        user = users().get(session.get("username"))
        valid = user and session.get("stamp") == users().stamp(user) and _still_active()
        g.stratify_user = user if valid else None
    return g.stratify_user


def _still_active() -> bool:
    """False once the session has gone `STRATIFY_IDLE_SECONDS` without a request, or is
    `STRATIFY_SESSION_SECONDS` old however busy it is (no activity extends that). The last
    request time is written at most every tenth of the idle limit (and at most once a minute),
    so the session store is not rewritten on every callback."""
    idle = current_app.config["STRATIFY_IDLE_SECONDS"]
    now, seen = time.time(), session.get("seen", 0.0)
    if now - seen > idle:
        return False
    if now - session.get("signed_in", 0.0) > current_app.config["STRATIFY_SESSION_SECONDS"]:
        return False
    if now - seen > min(60.0, idle / 10):
        session["seen"] = now
    return True


def may_open(user: User, page: str) -> bool:
    if user.role not in PAGE_ROLES[page]:
        return False
    return user.sees_patients if page in PATIENT_PAGES else True


def page_user(page: str) -> User:
    """The signed-in user, if this page is theirs to open; refusals are logged."""
    user = current_user()
    if user is None:
        raise Refused("Please sign in.")
    if not may_open(user, page):
        store().log(user.username, user.role, "refused", page, detail="page not in role")
        raise Refused("This page is not available to your role.")
    return user


def cluster_in_scope(user: User, cluster: object, page: str) -> str:
    if not user.may_see_cluster(cluster):
        store().log(user.username, user.role, "refused", page, detail="cluster outside scope")
        raise Refused("No such list for your practice clusters.")
    return str(cluster)


def patient_in_scope(user: User, person_id: object, page: str) -> int:
    """A person id the user may see: a whole number, registered in one of the user's clusters.
    Unknown and out-of-scope people get the same answer, so a probe learns nothing."""
    try:
        pid = int(str(person_id)) if str(person_id).isdigit() and len(str(person_id)) < 19 else None
    except (TypeError, ValueError):
        pid = None
    cluster = store().cluster_of(pid) if pid is not None else None
    if cluster is None or not user.may_see_cluster(cluster):
        store().log(user.username, user.role, "refused", page, detail="patient outside scope")
        raise Refused("No patient with that id in your practice clusters.")
    return pid


def patient_user(person_id: object) -> tuple[User, int]:
    """The signed-in user and the person, if the patient page is theirs and the person in scope."""
    user = page_user("patient")
    return user, patient_in_scope(user, person_id, "patient")


def log_view(
    user: User,
    page: str,
    cluster: str | None = None,
    person_id: int | None = None,
    detail: str | None = None,
) -> None:
    store().log(user.username, user.role, "view", page, cluster, person_id, detail or request.path)
