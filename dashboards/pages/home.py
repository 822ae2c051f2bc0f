"""Home: what this user can do here, by role."""

from __future__ import annotations

from dash import html

from dashboards import access
from dashboards.components import NAV, page, refused

PATH = "/"
NAME = "Home"
WHAT = {
    "conference": "Prepare and record this month's case conference for your practice cluster.",
    "enrolment": "Eligible and enrolled people over time, by cluster and practice.",
    "audit": "Protocol adherence by step and practice, over time; drill down to a practice.",
    "model": "How good the risk model is, and for whom it works less well.",
    "quality": "The latest registry build: rows accepted, quarantined and late feeds.",
    "admin": "Users, roles and the access log.",
}


def layout(**_query) -> html.Main:
    try:
        user = access.page_user("home")
    except access.Refused as exc:
        return refused(str(exc))
    items = [
        html.Li([html.A(label, href=href), html.Span(f" {WHAT[key]}")])
        for key, href, label in NAV
        if key in WHAT and access.may_open(user, key)
    ]
    clusters = f" Practice clusters: {', '.join(user.clusters)}." if user.clusters else ""
    return page(f"Welcome, {user.display_name}", html.Ul(items, className="tasks"),
                note=f"Signed in as {user.role.replace('_', ' ')}.{clusters}")  # fmt: skip


def register(app) -> None:
    """No callbacks: the page is links only."""
