"""Enrolment (commissioners): eligible against enrolled over time as SPC charts, by cluster and
practice, and a funnel plot of enrolment rate. Commissioners see the published (suppressed,
rounded) figures only; audit leads see the unsuppressed aggregates."""

from __future__ import annotations

from functools import lru_cache

from dash import Input, Output, dcc, html

from dashboards import access
from dashboards.components import field, funnel_chart, grid, notice, page, refused, spc_chart

PATH = "/enrolment"
NAME = "Enrolment"
MEASURES = ("eligible_people", "enrolment_rate", "coordinator_coverage")
LATEST_COLUMNS = {"level": "Level", "unit_code": "Unit", "title": "Measure", "numerator_display": "Numerator",
                  "denominator_display": "Denominator", "value": "Value"}  # fmt: skip


def published_only(user) -> bool:
    """Anyone who is not an audit lead sees only what is released outside the care team."""
    return user.role != "audit_lead"


def layout(unit: str | None = None, **_query) -> html.Main:
    try:
        user = access.page_user("enrolment")
    except access.Refused as exc:
        return refused(str(exc))
    if not access.store().has_table("audit", "spc_published"):
        return page(NAME, notice("No audit has been run yet: run `stratify audit`."))
    units = _units(user)
    chosen = (
        unit
        if unit in units
        else "system:system"
        if "system:system" in units
        else (units[0] if units else None)
    )
    return page(
        NAME,
        field(
            "Where",
            dcc.Dropdown(
                id="enr-unit",
                options=[{"label": _label(u), "value": u} for u in units],
                value=chosen,
                clearable=False,
            ),
        ),  # fmt: skip
        html.Div(id="enr-charts", children=charts(user, chosen)),
        note=(
            "Published figures: counts of 1-7 shown as *, others rounded to 5."
            if published_only(user)
            else "Unsuppressed aggregates (audit lead)."
        ),
    )


def _units(user) -> list[str]:
    return _unit_list(published_only(user))


@lru_cache(maxsize=4)
def _unit_list(published: bool) -> list[str]:
    model = "spc_published_units" if published else "spc_units"
    frame = access.store().read(model, measure="enrolment_rate")
    if frame.height == 0:
        frame = access.store().read(model, measure="eligible_people")
    return [f"{r['level']}:{r['unit_code']}" for r in frame.to_dicts()]


def _label(unit: str) -> str:
    level, code = unit.split(":", 1)
    return "Whole system" if level == "system" else f"{level.title()} {code}"


def charts(user, unit: str | None) -> list:
    if unit is None or unit not in _units(user):
        return [notice("Choose where to look.")]
    return _charts(published_only(user), unit)


@lru_cache(maxsize=1024)
def _charts(published: bool, unit: str) -> list:
    """Derived tables cannot change while the server holds the database, so each view is built
    once per process and reused."""
    level, code = unit.split(":", 1)
    store = access.store()
    series = "spc_published_series" if published else "spc_series"
    parts = []
    rate = store.read(series, measure="enrolment_rate", level=level, unit=code)
    if rate.height:
        parts.append(eligible_and_enrolled(rate, _label(unit)))
    for i, measure in enumerate(MEASURES):
        rows = store.read(series, measure=measure, level=level, unit=code)
        if rows.height >= 2:
            parts.append(spc_chart(rows, f"{rows['title'][0]}: {_label(unit)}", f"enr-spc-{i}"))
    funnel = store.read("funnel_published" if published else "funnel", measure="enrolment_rate")
    if funnel.height >= 3:
        parts.append(
            funnel_chart(funnel, f"Enrolment rate by practice, {funnel['month'][0]}", "enr-funnel")
        )
    else:
        parts.append(
            notice("Too few practices with released figures for a funnel plot of enrolment.")
        )
    latest = store.read("published_latest", measures=list(MEASURES))
    parts += [
        html.H2("Latest month, as released"),
        grid("enr-latest", latest, LATEST_COLUMNS, height=320),
    ]
    return parts or [notice("No enrolment figures yet.")]


def eligible_and_enrolled(rows, where: str) -> dcc.Graph:
    """People eligible and people enrolled each month, side by side (released figures for
    commissioners: a suppressed month is a gap)."""
    months = [str(m) for m in rows["month"]]
    trace = {"type": "scatter", "mode": "lines+markers", "x": months}
    figure = {
        "data": [{**trace, "name": "Eligible", "y": rows["denominator"].to_list(), "line": {"color": "#005eb8"}},
                 {**trace, "name": "Enrolled", "y": rows["numerator"].to_list(), "line": {"color": "#007f3b"}}],
        "layout": {"title": {"text": f"Eligible and enrolled people: {where}"}, "height": 320,
                   "margin": {"l": 50, "r": 20, "t": 60, "b": 40}, "plot_bgcolor": "#fff",
                   "yaxis": {"title": {"text": "people"}, "rangemode": "tozero", "gridcolor": "#e8edee"}},
    }  # fmt: skip
    return dcc.Graph(id="enr-eligible-enrolled", figure=figure, config={"displaylogo": False})


def register(app) -> None:
    @app.callback(
        Output("enr-charts", "children"), Input("enr-unit", "value"), prevent_initial_call=True
    )
    def choose(unit):
        try:
            user = access.page_user("enrolment")
        except access.Refused as exc:
            return [notice(str(exc), "error")]
        return charts(user, unit)
