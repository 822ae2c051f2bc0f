"""Audit (audit leads): protocol adherence by step and practice as funnel plots and SPC over time,
with a drill-down to one practice. Practice-level aggregates only: no patient appears here."""

from __future__ import annotations

from functools import lru_cache

from dash import Input, Output, dcc, html

from dashboards import access
from dashboards.components import field, funnel_chart, grid, notice, page, refused, spc_chart

PATH = "/audit"
NAME = "Audit"
ADHERENCE_COLUMNS = {"protocol": "Protocol", "protocol_version": "Version", "step_title": "Step",
                     "practice_code": "Practice", "cluster_code": "Cluster", "applicable": "Applicable",
                     "met": "Met", "not_met": "Not met", "due_soon": "Due soon", "pending": "Pending",
                     "met_pct": "Met %"}  # fmt: skip


def layout(measure: str | None = None, practice: str | None = None, **_query) -> html.Main:
    try:
        access.page_user("audit")
    except access.Refused as exc:
        return refused(str(exc))
    store = access.store()
    if not store.has_table("audit", "spc"):
        return page(NAME, notice("No audit has been run yet: run `stratify audit`."))
    measures = _measures()
    options = [{"label": r["title"], "value": r["measure"]} for r in measures.to_dicts()]
    values = measures["measure"].to_list()
    chosen = measure if measure in values else next((m for m in values if "." in m), values[0])
    practices = _practices(chosen)
    return page(
        NAME,
        html.Div(
            [
                field(
                    "Measure",
                    dcc.Dropdown(id="aud-measure", options=options, value=chosen, clearable=False),
                ),
                field(
                    "Practice (drill-down)",
                    dcc.Dropdown(
                        id="aud-practice",
                        options=practices,
                        value=practice if practice in practices else None,
                    ),
                ),
            ],  # fmt: skip
            className="row",
        ),
        html.Div(
            id="aud-charts", children=charts(chosen, practice if practice in practices else None)
        ),
        note="Practices compared on a funnel plot (never ranked), and each over time on an XmR chart.",
    )


@lru_cache(maxsize=256)
def _practices(measure: str) -> list[str]:
    units = access.store().read("spc_units", measure=measure)
    return [u for lvl, u in units.select("level", "unit_code").iter_rows() if lvl == "practice"]


@lru_cache(maxsize=1)
def _measures():
    return access.store().read("audit_measures")


@lru_cache(maxsize=4096)
def charts(measure: str, practice: str | None) -> list:
    """Built once per process: derived tables cannot change while the server holds the database."""
    store = access.store()
    level, unit = ("practice", practice) if practice else ("system", "system")
    rows = store.read("spc_series", measure=measure, level=level, unit=unit)
    parts = []
    if rows.height >= 2:
        where = f"practice {practice}" if practice else "whole system"
        parts.append(spc_chart(rows, f"{rows['title'][0]}: {where}", "aud-spc"))
    else:
        parts.append(notice("Too few months for an SPC chart here."))
    funnel = store.read("funnel", measure=measure)
    if funnel.height >= 3:
        parts.append(
            funnel_chart(
                funnel, f"{funnel['title'][0]}: practices, {funnel['month'][0]}", "aud-funnel"
            )
        )
    adherence = store.read("adherence_practices", practice=practice)
    if "." in measure and not practice:  # one step across practices; a practice shows every step
        protocol, step = measure.split(".", 1)
        adherence = adherence.filter(
            (adherence["protocol"] == protocol) & (adherence["step"] == step)
        )
    parts += [html.H2("Adherence by step and practice" + (f": {practice}" if practice else "")),
              grid("aud-adherence", adherence, ADHERENCE_COLUMNS, height=380)]  # fmt: skip
    return parts


def register(app) -> None:
    @app.callback(
        Output("aud-practice", "options"),
        Input("aud-measure", "value"),
        prevent_initial_call=True,
    )
    def practices(measure):
        try:
            access.page_user("audit")
        except access.Refused:
            return []
        return _practices(str(measure))

    @app.callback(
        Output("aud-charts", "children"),
        Input("aud-measure", "value"),
        Input("aud-practice", "value"),
        prevent_initial_call=True,
    )
    def choose(measure, practice):
        try:
            access.page_user("audit")
        except access.Refused as exc:
            return [notice(str(exc), "error")]
        known = _measures()["measure"].to_list()
        if measure not in known:
            return [notice("Unknown measure.", "error")]
        return charts(measure, practice if practice in _practices(measure) else None)
