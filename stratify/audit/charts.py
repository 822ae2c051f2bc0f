"""Plotly figures for SPC and funnel results, for the Dash app and for export.

Colours follow Making Data Count: orange for special cause concern, blue for improvement, grey
for everything else. Hover text can carry already-suppressed display values (see
stratify.audit.disclosure), so a tooltip never shows a figure the table does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from stratify.audit.funnel import FunnelResult
from stratify.audit.spc import CONCERN, IMPROVEMENT, NEITHER, SPCResult

NHS_BLUE = "#005EB8"
NHS_ORANGE = "#ED8B00"
NHS_GREY = "#768692"
NHS_DARK_GREY = "#425563"
NHS_PURPLE = "#330072"

SPECIAL_CAUSE_COLOURS = {IMPROVEMENT: NHS_BLUE, CONCERN: NHS_ORANGE, NEITHER: NHS_DARK_GREY}
SPECIAL_CAUSE_NAMES = {
    IMPROVEMENT: "Special cause improvement",
    CONCERN: "Special cause concern",
    NEITHER: "Special cause neither",
}
RULE_LABELS = {
    "beyond_limit": "beyond a process limit",
    "run": "run of 7 on one side of the mean",
    "trend": "trend of 7",
    "two_of_three": "2 of 3 beyond two thirds",
}

Display = Sequence[str | int | float | None]


def _text(value: str | int | float | None) -> str:
    """A display value as shown; missing values are a dash, never blank or 'None'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return str(value)


def _check_length(name: str, values: Sequence | None, expected: int) -> None:
    if values is not None and len(values) != expected:
        raise ValueError(f"{name} has {len(values)} entries for {expected} points")


def _subtitle(result: SPCResult) -> str:
    parts = [f"Variation: {result.variation}"]
    if result.assurance is not None:
        parts.append(f"Assurance: {result.assurance}")
    return " · ".join(parts)


def _spc_hover(
    labels: Sequence, result: SPCResult, unit: str, value_display: Display | None
) -> list[str]:
    """One tooltip per point: label, value (as displayed), mean, limits and any rules."""
    p = result.points
    shown = value_display if value_display is not None else [f"{v:g}" for v in p["value"]]
    hover = []
    for i, row in enumerate(p.iter_rows(named=True)):
        lines = [
            f"<b>{labels[i]}</b>",
            f"Value: {_text(shown[i])} {unit}".rstrip(),
            f"Mean: {row['mean']:.3g}",
            f"Process limits: {row['lower']:.3g} to {row['upper']:.3g}",
        ]
        if row["special_cause"]:
            rules = ", ".join(RULE_LABELS.get(r, r) for r in row["rules"])
            lines.append(f"Special cause ({row['meaning']}): {rules}")
        hover.append("<br>".join(lines))
    return hover


def _period_lines(fig: go.Figure, x: list, result: SPCResult) -> None:
    """Mean and limits as flat lines per period, so a rebase shows as a step."""
    styles = (
        ("mean", "Mean", dict(color=NHS_DARK_GREY, width=1.5)),
        ("upper", "Upper process limit", dict(color=NHS_GREY, width=1, dash="dash")),
        ("lower", "Lower process limit", dict(color=NHS_GREY, width=1, dash="dash")),
    )
    for number, period in enumerate(result.periods):
        xs = x[period.start : period.stop]
        for field, name, line in styles:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[getattr(period, field)] * len(xs),
                    mode="lines",
                    name=name,
                    legendgroup=field,
                    showlegend=number == 0,
                    line=line,
                    hoverinfo="skip",
                )
            )


def spc_figure(
    dates_or_labels: Sequence,
    result: SPCResult,
    title: str,
    unit: str = "",
    *,
    value_display: Display | None = None,
) -> go.Figure:
    """An XmR chart: values, mean, process limits, special causes coloured, icons in the title.

    value_display: the values as released (e.g. "*" for a suppressed count) for the tooltips.
    """
    x = list(dates_or_labels)
    n = result.points.height
    _check_length("dates_or_labels", x, n)
    _check_length("value_display", value_display, n)
    hover = _spc_hover(x, result, unit, value_display)
    values = result.points["value"].to_list()

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=values,
            mode="lines+markers",
            name="Values",
            line=dict(color=NHS_GREY, width=1.5),
            marker=dict(color=NHS_GREY, size=7),
            hovertext=hover,
            hoverinfo="text",
        )
    )
    _period_lines(fig, x, result)
    if result.target is not None:
        fig.add_trace(
            go.Scatter(
                x=[x[0], x[-1]],
                y=[result.target] * 2,
                mode="lines",
                name="Target",
                line=dict(color="#DA291C", width=1.5, dash="dot"),
                hoverinfo="skip",
            )
        )
    meanings = result.points["meaning"].to_list()
    for meaning, colour in SPECIAL_CAUSE_COLOURS.items():
        idx = [i for i, m in enumerate(meanings) if m == meaning]
        if idx:
            fig.add_trace(
                go.Scatter(
                    x=[x[i] for i in idx],
                    y=[values[i] for i in idx],
                    mode="markers",
                    name=SPECIAL_CAUSE_NAMES[meaning],
                    marker=dict(color=colour, size=10),
                    hovertext=[hover[i] for i in idx],
                    hoverinfo="text",
                )
            )
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{_subtitle(result)}</sup>"),
        yaxis_title=unit or None,
        template="plotly_white",
        hovermode="closest",
        meta={"variation": result.variation, "assurance": result.assurance},
    )
    return fig


def _rate_text(num: str | int | float | None, den: str | int | float | None) -> str:
    """Rate for a tooltip from displayed counts: suppressed ("*") if either count is not a
    released number, as disclosure.disclose_rate does."""
    try:
        n, d = float(num), float(den)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "*"
    return "*" if d == 0 or np.isnan(n) or np.isnan(d) else f"{n / d:.1%}"


def _funnel_hover(
    labels: list[str],
    result: FunnelResult,
    numerator_display: Display | None,
    denominator_display: Display | None,
    rate_display: Display | None,
) -> list[str]:
    u = result.units
    nums = (
        numerator_display if numerator_display is not None else [f"{v:g}" for v in u["numerator"]]
    )
    dens = (
        denominator_display
        if denominator_display is not None
        else [f"{v:g}" for v in u["denominator"]]
    )
    if rate_display is not None:
        rates = [_text(v) for v in rate_display]
    elif numerator_display is None and denominator_display is None:
        rates = [f"{v:.1%}" for v in u["rate"]]
    else:
        rates = [_rate_text(a, b) for a, b in zip(nums, dens, strict=True)]
    return [
        f"<b>{labels[i]}</b><br>Numerator: {_text(nums[i])}<br>Denominator: {_text(dens[i])}"
        f"<br>Rate: {rates[i]}"
        for i in range(len(labels))
    ]


FUNNEL_GROUPS = (
    ("Within 95% limits", NHS_GREY),
    ("Beyond 95% limits", NHS_BLUE),
    ("Beyond 99.8% limits", NHS_PURPLE),
)


def _funnel_group(position_95: str, position_998: str) -> str:
    if position_998 != "inside":
        return FUNNEL_GROUPS[2][0]
    return FUNNEL_GROUPS[1][0] if position_95 != "inside" else FUNNEL_GROUPS[0][0]


def _funnel_curves(fig: go.Figure, result: FunnelResult) -> None:
    curves = result.curves()
    n = curves["denominator"].to_list()
    for level, label, dash in (("95", "95%", "dash"), ("998", "99.8%", "solid")):
        for side in ("upper", "lower"):
            fig.add_trace(
                go.Scatter(
                    x=n,
                    y=curves[f"{side}_{level}"].to_list(),
                    mode="lines",
                    name=f"{label} {side} limit",
                    legendgroup=level,
                    line=dict(color=NHS_GREY, width=1, dash=dash),
                    hoverinfo="skip",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=[n[0], n[-1]],
            y=[result.theta] * 2,
            mode="lines",
            name="System rate",
            line=dict(color=NHS_DARK_GREY, width=1.5),
            hovertemplate=f"System rate: {result.theta:.1%}<extra></extra>",
        )
    )


def _funnel_subtitle(result: FunnelResult) -> str:
    text = f"System rate {result.theta:.1%} · overdispersion φ = {result.phi:.2f}"
    if result.method == "multiplicative":
        text += " (limits inflated)" if result.adjusted else " (no inflation needed)"
    elif result.method == "additive":
        text += f", τ² = {result.tau2:.3g} (random-effects limits)"
    return text


def funnel_figure(
    units: Sequence[str],
    result: FunnelResult,
    title: str,
    *,
    numerator_display: Display | None = None,
    denominator_display: Display | None = None,
    rate_display: Display | None = None,
) -> go.Figure:
    """A funnel plot: units as points against denominator, 95 % and 99.8 % limit curves and
    the system rate line.

    The *_display arguments are the released figures for the tooltips (counts may be "*").
    Given counts but no rate_display, the tooltip rate is worked out from the displayed
    counts, so it is suppressed whenever either count is.
    """
    labels = [str(u) for u in units]
    n = result.units.height
    for name, values in (
        ("units", labels),
        ("numerator_display", numerator_display),
        ("denominator_display", denominator_display),
        ("rate_display", rate_display),
    ):
        _check_length(name, values, n)
    hover = _funnel_hover(labels, result, numerator_display, denominator_display, rate_display)
    u = result.units
    groups = [_funnel_group(a, b) for a, b in zip(u["position_95"], u["position_998"], strict=True)]
    denominators, rates = u["denominator"].to_list(), u["rate"].to_list()

    fig = go.Figure()
    _funnel_curves(fig, result)
    for name, colour in FUNNEL_GROUPS:
        idx = [i for i, g in enumerate(groups) if g == name]
        if idx:
            fig.add_trace(
                go.Scatter(
                    x=[denominators[i] for i in idx],
                    y=[rates[i] for i in idx],
                    mode="markers",
                    name=name,
                    marker=dict(color=colour, size=9),
                    hovertext=[hover[i] for i in idx],
                    hoverinfo="text",
                )
            )
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{_funnel_subtitle(result)}</sup>"),
        xaxis_title="Denominator",
        yaxis=dict(title="Rate", tickformat=".0%"),
        template="plotly_white",
        hovermode="closest",
    )
    return fig
