"""Users (administrators): who may use the app in which role, and the access log."""

from __future__ import annotations

import polars as pl
from dash import Input, Output, State, dcc, html, no_update

from dashboards import access
from dashboards.auth import ROLES, User, UserError
from dashboards.components import field, grid, notice, page, refused

PATH = "/admin"
NAME = "Users"
USER_COLUMNS = {"username": "Username", "display_name": "Name", "role": "Role", "clusters": "Clusters",
                "active": "Active"}  # fmt: skip
LOG_COLUMNS = {"accessed_at": "When", "username": "Who", "role": "Role", "action": "Action", "page": "What",
               "cluster_code": "Cluster", "person_id": "Person", "detail": "Detail"}  # fmt: skip


def layout(**_query) -> html.Main:
    try:
        access.page_user("admin")
    except access.Refused as exc:
        return refused(str(exc))
    clusters = access.store().read("clusters")["cluster_code"].to_list()
    return page(
        NAME,
        html.Div(id="adm-users", children=_users()),
        html.H2("Add or change a user"),
        html.Div(
            [
                field("Username", dcc.Input(id="adm-username", maxLength=40)),
                field("Name", dcc.Input(id="adm-name", maxLength=100)),
                field("Role", dcc.Dropdown(id="adm-role", options=list(ROLES))),
                field(
                    "Practice clusters",
                    dcc.Dropdown(id="adm-clusters", options=clusters, multi=True),
                ),
                field(
                    "Password",
                    dcc.Input(id="adm-password", type="password", maxLength=200),
                    "at least 12 characters; leave blank to keep the current one",
                ),
                dcc.Checklist(
                    id="adm-active",
                    options=[{"label": " active", "value": "active"}],
                    value=["active"],
                ),
                html.Button("Save user", id="adm-save", className="button"),
            ],  # fmt: skip
            className="form",
        ),
        html.Div(id="adm-message", role="status"),
        html.H2("Access log (latest 500)"),
        grid("adm-log", access.store().read("access_log", limit=500), LOG_COLUMNS, height=420),
    )


def _users() -> object:
    rows = [{"username": u.username, "display_name": u.display_name, "role": u.role,
             "clusters": ", ".join(u.clusters), "active": u.active}
            for u in access.users().all().values()]  # fmt: skip
    return grid("adm-user-grid", pl.DataFrame(rows), USER_COLUMNS, height=260)


def register(app) -> None:
    @app.callback(
        Output("adm-users", "children"),
        Output("adm-message", "children"),
        Input("adm-save", "n_clicks"),
        State("adm-username", "value"),
        State("adm-name", "value"),
        State("adm-role", "value"),
        State("adm-clusters", "value"),
        State("adm-password", "value"),
        State("adm-active", "value"),
        prevent_initial_call=True,
    )
    def save(n_clicks, username, name, role, clusters, password, active):
        if not n_clicks:
            return no_update, no_update
        try:
            admin = access.page_user("admin")
            if not all(isinstance(v, str | None) for v in (username, name, role, password)):
                raise UserError("every field must be text")
            known = set(access.store().read("clusters")["cluster_code"].to_list())
            clusters = [c for c in clusters or [] if isinstance(c, str)]
            if set(clusters) - known:
                raise UserError("unknown practice cluster")
            user = User(username=(username or "").strip(), display_name=(name or username or "").strip()[:100],
                        role=role or "", clusters=tuple(clusters), active="active" in (active or []))  # fmt: skip
            saved = access.users().save(user, password or None)
        except (access.Refused, UserError) as exc:
            return no_update, notice(str(exc), "error")
        access.store().log(
            admin.username, admin.role, "record", "admin", None, None, f"user {saved.username}"
        )
        return _users(), notice(f"Saved {saved.username}.", "ok")
