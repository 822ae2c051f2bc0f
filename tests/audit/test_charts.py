"""Figures build with the expected traces, and tooltips show released (suppressed) figures."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from stratify.audit.charts import NHS_BLUE, NHS_ORANGE, funnel_figure, spc_figure
from stratify.audit.disclosure import disclose_count
from stratify.audit.funnel import funnel
from stratify.audit.spc import xmr

MONTHS = [f"2025-{m:02d}" for m in range(1, 9)]
SERIES = [11.0, 9.0, 11.0, 9.0, 11.0, 9.0, 10.0, 16.0]  # the last is above the limit 15.32


def names(fig: go.Figure) -> list[str]:
    return [trace.name for trace in fig.data]


def trace(fig: go.Figure, name: str):
    return next(t for t in fig.data if t.name == name)


def test_spc_figure_draws_values_mean_and_process_limits():
    fig = spc_figure(MONTHS, xmr(SERIES, baseline=6), "Reviews", "%")
    assert isinstance(fig, go.Figure)
    assert {"Values", "Mean", "Upper process limit", "Lower process limit"} <= set(names(fig))


def test_spc_figure_colours_improvement_blue():
    fig = spc_figure(MONTHS, xmr(SERIES, baseline=6, direction="up"), "Reviews", "%")
    points = trace(fig, "Special cause improvement")
    assert list(points.x) == ["2025-08"]
    assert points.marker.color == NHS_BLUE


def test_spc_figure_colours_concern_orange():
    fig = spc_figure(MONTHS, xmr(SERIES, baseline=6, direction="down"), "Waits", "days")
    assert trace(fig, "Special cause concern").marker.color == NHS_ORANGE
    assert "Special cause improvement" not in names(fig)


def test_spc_figure_names_the_icons_in_the_title():
    result = xmr(SERIES, baseline=6, direction="up", target=4.0)
    title = spc_figure(MONTHS, result, "Reviews", "%").layout.title.text
    assert "special cause improvement" in title
    assert "consistently passing" in title


def test_spc_figure_draws_the_target_when_there_is_one():
    fig = spc_figure(MONTHS, xmr(SERIES, direction="up", target=12.0), "Reviews", "%")
    assert list(trace(fig, "Target").y) == [12.0, 12.0]


def test_spc_figure_draws_one_set_of_limits_per_period():
    result = xmr([10, 12, 10, 12, 20, 22, 20, 22], rebase=[4])
    fig = spc_figure(MONTHS, result, "Reviews", "")
    means = [t for t in fig.data if t.name == "Mean"]
    assert [list(t.y)[0] for t in means] == pytest.approx([11.0, 21.0])


def test_spc_tooltips_show_suppressed_display_values():
    shown = [disclose_count(v)[0] for v in [11, 9, 11, 9, 11, 9, 10, 16]]  # 9 -> "10", 16 -> "15"
    shown[1] = "*"
    fig = spc_figure(MONTHS, xmr(SERIES, baseline=6), "Counts", "", value_display=shown)
    hover = list(trace(fig, "Values").hovertext)
    assert "Value: *" in hover[1]
    assert "Value: 15" in hover[7]


def test_spc_figure_refuses_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="dates_or_labels"):
        spc_figure(MONTHS[:3], xmr(SERIES), "Reviews", "%")


# Funnel --------------------------------------------------------------------------------------

UNITS = ["Practice A", "Practice B", "Practice C", "Practice D"]
NUMERATORS = [20, 30, 5, 60]
DENOMINATORS = [100, 150, 40, 160]


def test_funnel_figure_draws_both_limit_curves_and_the_system_rate():
    fig = funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS), "Reviews")
    assert {
        "95% upper limit",
        "95% lower limit",
        "99.8% upper limit",
        "99.8% lower limit",
        "System rate",
    } <= set(names(fig))


def test_funnel_figure_plots_every_unit_once_against_its_denominator():
    fig = funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS), "Reviews")
    groups = [t for t in fig.data if t.mode == "markers"]
    assert sorted(x for t in groups for x in t.x) == sorted(DENOMINATORS)


def test_funnel_figure_separates_units_beyond_the_limits():
    # theta = 115/450 = 0.2556; D at 0.375 with n = 160 is beyond 99.8 % (0.2556 + 0.1066)
    fig = funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS), "Reviews")
    assert list(trace(fig, "Beyond 99.8% limits").x) == [160.0]


def test_funnel_tooltips_show_unit_numerator_denominator_and_rate():
    fig = funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS), "Reviews")
    hover = " ".join(h for t in fig.data if t.hovertext is not None for h in t.hovertext)
    assert "Practice A" in hover and "Numerator: 20" in hover and "Denominator: 100" in hover
    assert "Rate: 20.0%" in hover


def test_funnel_tooltips_show_suppressed_counts_and_a_suppressed_rate():
    nums = [disclose_count(v)[0] for v in NUMERATORS]  # 5 -> "*"
    dens = [disclose_count(v)[0] for v in DENOMINATORS]
    fig = funnel_figure(
        UNITS,
        funnel(NUMERATORS, DENOMINATORS),
        "Reviews",
        numerator_display=nums,
        denominator_display=dens,
    )
    hover = [h for t in fig.data if t.hovertext is not None for h in t.hovertext]
    practice_c = next(h for h in hover if "Practice C" in h)
    assert "Numerator: *" in practice_c and "Rate: *" in practice_c
    practice_a = next(h for h in hover if "Practice A" in h)
    assert "Numerator: 20" in practice_a and "Rate: 20.0%" in practice_a


def test_funnel_figure_names_the_overdispersion_adjustment():
    fig = funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS, overdispersion="additive"), "R")
    assert "τ²" in fig.layout.title.text


def test_funnel_figure_refuses_display_values_of_the_wrong_length():
    with pytest.raises(ValueError, match="numerator_display"):
        funnel_figure(UNITS, funnel(NUMERATORS, DENOMINATORS), "Reviews", numerator_display=["*"])
