"""The one shape of a recording callback: a button, the form fields beside it, a write through
the store, then a message and a refresh of what the page shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from dash import Input, Output, State, ctx, no_update

from dashboards import access
from dashboards.components import notice
from stratify.care import records


def recorder(
    app,
    prefix: str,
    button: str,
    context: list[tuple[str, str]],
    fields: list[tuple[str, ...]],
    write: Callable[[list, dict], str],
) -> None:
    """Register the callback for one form. `context` are the page's own (component id,
    property) pairs (the cluster and month, or the patient) passed to `write` as values to re-check against the
    session; `fields` are (name, component id[, property]) of the form's inputs (default "value"). Refusals and invalid input
    come back as an error message and change nothing."""

    @app.callback(
        Output(f"{prefix}-refresh", "data", allow_duplicate=True),
        Output(f"{prefix}-message", "children", allow_duplicate=True),
        Input(button, "n_clicks"),
        State(f"{prefix}-refresh", "data"),
        *[State(cid, prop) for cid, prop in context],
        *[State(f[1], f[2] if len(f) > 2 else "value") for f in fields],
        prevent_initial_call=True,
    )
    def record(n_clicks, refresh, *values):
        if not n_clicks or ctx.triggered_id != button:
            return no_update, no_update
        given, form = values[: len(context)], values[len(context) :]
        try:
            message = write(list(given), {f[0]: v for f, v in zip(fields, form, strict=True)})
        except (access.Refused, records.RecordError) as exc:
            return no_update, notice(str(exc), "error")
        return (refresh or 0) + 1, notice(message, "ok")


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A meeting, due or review date typed today lies within this window around today: a late entry
# of last year's meeting still fits, 0001-01-01 or 9999-12-31 (a slip or a probe) does not.
DAYS_BEFORE = 366
DAYS_AFTER = 2 * 366


def parse_date(value: object, what: str, today: date | None = None) -> date:
    """A date typed as YYYY-MM-DD, and only that, within the window around today."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip()):
        raise records.RecordError(f"{what} must be a date, YYYY-MM-DD")
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise records.RecordError(f"{what} must be a real date, YYYY-MM-DD") from exc
    today = today or date.today()
    low, high = today - timedelta(days=DAYS_BEFORE), today + timedelta(days=DAYS_AFTER)
    if not low <= day <= high:
        raise records.RecordError(f"{what} must be between {low} and {high}")
    return day
