"""Building blocks shared by the pages: the NHS-style shell, tables, charts and notices."""

from __future__ import annotations

from collections.abc import Iterable

import dash_ag_grid as dag
import numpy as np
import polars as pl
from dash import dcc, html

from stratify.audit import charts
from stratify.audit.funnel import FunnelResult
from stratify.audit.spc import Period, SPCResult

NAV = (
    ("home", "/", "Home"),
    ("conference", "/conference", "Case conference"),
    ("enrolment", "/enrolment", "Enrolment"),
    ("audit", "/audit", "Audit"),
    ("model", "/model", "Model"),
    ("quality", "/quality", "Data quality"),
    ("admin", "/admin", "Users"),
)


def header(display_name: str, role: str, allowed: Iterable[str]) -> html.Header:
    allowed = set(allowed)
    links = [
        html.A(label, href=href, className="nav-link") for key, href, label in NAV if key in allowed
    ]
    return html.Header(
        className="nhs-header",
        children=[
            html.Div("stratify", className="brand"),
            html.Nav(links, className="nav"),
            html.Div(
                [
                    html.Span(f"{display_name} ({role.replace('_', ' ')})", className="who"),
                    html.A("Sign out", href="/logout", className="nav-link signout"),
                ],  # fmt: skip
                className="user",
            ),
        ],
    )


def page(title: str, *children, note: str | None = None) -> html.Main:
    parts = [html.H1(title)]
    if note:
        parts.append(html.P(note, className="lede"))
    return html.Main(parts + list(children), className="page")


def refused(message: str) -> html.Main:
    return html.Main(
        [html.H1("Not available"), html.P(message, className="notice")], className="page"
    )


def notice(message: str, kind: str = "info") -> html.Div:
    return html.Div(message, className=f"notice notice-{kind}", role="status")


def grid(
    grid_id: str,
    frame: pl.DataFrame,
    columns: dict[str, str],
    *,
    height: int = 420,
    selectable: bool = False,
    links: dict[str, str] | None = None,
    fit: bool = False,
) -> dag.AgGrid:
    """A read-only AG Grid with only the columns shown sent to the browser.

    links: column -> URL prefix; the cell shows the value as a link to prefix + value.
    fit: columns share the page's width and long text wraps (sentences, many columns), so that
    no column runs off the right edge."""
    present = [c for c in columns if c in frame.columns]
    rows = frame.select(present).to_dicts() if frame.height else []
    defs = []
    for c in present:
        d: dict = {"field": c, "headerName": columns[c]}
        if links and c in links:
            d["cellRenderer"] = "markdown"
            for r in rows:
                r[c] = f"[{r[c]}]({links[c]}{r[c]})"
        defs.append(d)
    options: dict = {"animateRows": False, "enableCellTextSelection": True}
    if selectable:
        options["rowSelection"] = {
            "mode": "singleRow",
            "checkboxes": False,
            "enableClickSelection": True,
        }
    column = {
        "sortable": True,
        "filter": True,
        "resizable": True,
        "minWidth": 90,
        "tooltipValueGetter": {"function": "params.value"},
    }
    if fit:
        column |= {"wrapText": True, "autoHeight": True, "wrapHeaderText": True,
                   "autoHeaderHeight": True, "cellStyle": {"lineHeight": "1.4", "wordBreak": "normal"}}  # fmt: skip
    return dag.AgGrid(
        id=grid_id,
        rowData=_jsonable(rows),
        columnDefs=defs,
        defaultColDef=column,
        columnSize="responsiveSizeToFit" if fit else "autoSize",
        dashGridOptions=options,
        style={"height": f"{height}px"},
        className="ag-theme-alpine",
    )


def paged_grid(
    grid_id: str, columns: dict[str, str], *, height: int = 420, block: int = 100
) -> dag.AgGrid:
    """A grid whose rows stay on the server: the browser asks for one block at a time
    (AG Grid's infinite row model) and a callback answers with `page_of`."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=[{"field": c, "headerName": label} for c, label in columns.items()],
        defaultColDef={"resizable": True, "minWidth": 90, "sortable": False,
                       "tooltipValueGetter": {"function": "params.value"}},
        columnSize="autoSize",
        rowModelType="infinite",
        dashGridOptions={"cacheBlockSize": block, "maxBlocksInCache": 20, "infiniteInitialRowCount": block,
                         "enableCellTextSelection": True},
        style={"height": f"{height}px"},
        className="ag-theme-alpine",
    )  # fmt: skip


def page_of(frame: pl.DataFrame, request: dict | None, columns: dict[str, str]) -> dict:
    """The block of rows an infinite-model grid asked for, and how many rows there are."""
    request = request if isinstance(request, dict) else {}
    start = (
        max(int(request.get("startRow") or 0), 0)
        if str(request.get("startRow") or 0).isdigit()
        else 0
    )
    end = int(request["endRow"]) if str(request.get("endRow", "")).isdigit() else start + 100
    end = min(max(end, start), start + 1000)  # a request can never pull the whole table at once
    rows = (
        frame.select([c for c in columns if c in frame.columns])
        .slice(start, end - start)
        .to_dicts()
    )
    return {"rowData": _jsonable(rows), "rowCount": frame.height}


def _jsonable(rows: list[dict]) -> list[dict]:
    for r in rows:
        for k, v in r.items():
            if v is not None and not isinstance(v, str | int | float | bool):
                r[k] = str(v)
    return rows


def spc_result(rows: pl.DataFrame) -> SPCResult:
    """The stored XmR chart (audit.spc / audit.spc_published) as the chart module expects it:
    a re-reading of what the audit computed, not a recomputation."""
    points = rows.select(
        pl.int_range(pl.len()).alias("index"),
        pl.lit(0).alias("period"),
        "value",
        "mean",
        "lower",
        "upper",
        pl.col("rules")
        .fill_null("")
        .str.split(", ")
        .list.eval(pl.element().filter(pl.element() != "")),
        "special_cause",
        "meaning",
    )
    n = rows.height
    period = Period(0, n, n, float(rows["mean"][0]), float("nan"), float(rows["lower"][0]),
                    float(rows["upper"][0]), 0)  # fmt: skip
    return SPCResult(
        points=points,
        periods=(period,),
        direction=rows["direction"][0],
        target=None,
        variation=rows["variation"][0],
        assurance=rows["assurance"][0],
        warnings=(),
    )


def spc_chart(rows: pl.DataFrame, title: str, graph_id: str) -> dcc.Graph:
    result = spc_result(rows)
    fig = charts.spc_figure(
        [str(m) for m in rows["month"]], result, title, value_display=rows["numerator_display"].to_list()
        if rows["denominator"].is_null().all() else None,
    )  # fmt: skip
    fig.update_layout(height=380, margin={"l": 50, "r": 20, "t": 70, "b": 40})
    return dcc.Graph(id=graph_id, figure=fig, config={"displaylogo": False})


def funnel_chart(rows: pl.DataFrame, title: str, graph_id: str) -> dcc.Graph:
    result = FunnelResult(
        units=rows.select("unit", "numerator", "denominator", "rate", "z", "lower_95", "upper_95",
                          "position_95", "lower_998", "upper_998", "position_998"),
        theta=float(rows["theta"][0]),
        phi=float(rows["phi"][0]),
        tau2=0.0,
        method="multiplicative",
        adjusted=bool(rows["adjusted"][0]),
    )  # fmt: skip
    fig = charts.funnel_figure(
        rows["unit"].to_list(), result, title,
        numerator_display=rows["numerator_display"].to_list(),
        denominator_display=rows["denominator_display"].to_list(),
    )  # fmt: skip
    fig.update_layout(height=420, margin={"l": 50, "r": 20, "t": 70, "b": 40})
    return dcc.Graph(id=graph_id, figure=fig, config={"displaylogo": False})


def risk_history_chart(rows: pl.DataFrame) -> dcc.Graph:
    """A plain figure dict: built per patient view, so it skips plotly's validation."""
    top = float(np.nanmax(rows["risk_pct"].to_numpy())) if rows.height else 1.0
    figure = {
        "data": [{"type": "scatter", "mode": "lines+markers", "x": [str(d) for d in rows["index_date"]],
                  "y": rows["risk_pct"].to_list(), "text": rows["tier"].to_list(),
                  "hovertemplate": "%{x}: %{y:.1f}%% (%{text})<extra></extra>", "line": {"color": "#005eb8"}}],
        "layout": {"height": 260, "margin": {"l": 50, "r": 20, "t": 30, "b": 40}, "template": None,
                   "plot_bgcolor": "#fff", "yaxis": {"title": {"text": "12-month risk (%)"},
                   "range": [0, max(top * 1.2, 1)], "gridcolor": "#e8edee"}, "xaxis": {"type": "date"}},
    }  # fmt: skip
    return dcc.Graph(figure=figure, config={"displaylogo": False})


def field(label: str, control, hint: str | None = None) -> html.Div:
    parts = [html.Label(label, className="field-label"), control]
    if hint:
        parts.append(html.Small(hint, className="hint"))
    return html.Div(parts, className="field")
