"""XmR charts: limits from the moving ranges, each rule at its edge, rebasing and the icons.

Most series start with a baseline of 11, 9, 11, 9, 11, 9: mean 10, every moving range 2, so
MR-bar = 2 and the process limits are 10 +/- 2.66 x 2 = 4.68 and 15.32; two thirds of the way
to a limit is 10 +/- 3.5467 (13.5467 and 6.4533). The baseline alternates, so it makes no
signal of its own.
"""

from __future__ import annotations

import math

import pytest

from stratify.audit.spc import (
    BEYOND_LIMIT,
    RUN,
    TREND,
    TWO_OF_THREE,
    rule_run,
    rule_trend,
    xmr,
)

BASE = [11.0, 9.0, 11.0, 9.0, 11.0, 9.0]


def flagged(result, rule: str) -> list[int]:
    """Indices of the points that break `rule`."""
    return [row["index"] for row in result.points.iter_rows(named=True) if rule in row["rules"]]


def special(result) -> list[int]:
    return result.points.filter("special_cause")["index"].to_list()


# Limits ---------------------------------------------------------------------------------------


def test_mean_and_limits_are_mean_plus_or_minus_2_66_average_moving_ranges():
    # mean (10+12+11+13+12)/5 = 11.6; moving ranges 2, 1, 2, 1 -> MR-bar 1.5; 2.66 x 1.5 = 3.99
    result = xmr([10, 12, 11, 13, 12])
    period = result.periods[0]
    assert period.mean == pytest.approx(11.6)
    assert period.mr_bar == pytest.approx(1.5)
    assert period.lower == pytest.approx(7.61)
    assert period.upper == pytest.approx(15.59)


def test_per_point_moving_range_starts_empty_and_is_the_absolute_change():
    result = xmr([10, 12, 11, 13, 12])
    assert result.points["moving_range"].to_list() == [None, 2.0, 1.0, 2.0, 1.0]


def test_limits_use_only_the_baseline_points():
    # baseline 10, 12, 10, 12: mean 11, MR-bar 2; the 30 neither moves the mean nor the limits
    result = xmr([10, 12, 10, 12, 30], baseline=4)
    assert result.periods[0].mean == pytest.approx(11.0)
    assert result.periods[0].upper == pytest.approx(16.32)
    assert result.points["baseline"].to_list() == [True, True, True, True, False]


# Rule (a): beyond a process limit ---------------------------------------------------------------


def test_a_point_just_above_the_upper_limit_is_special_cause():
    result = xmr([*BASE, 15.33], baseline=6)
    assert flagged(result, BEYOND_LIMIT) == [6]


def test_a_point_just_inside_the_upper_limit_is_common_cause():
    result = xmr([*BASE, 15.31], baseline=6)
    assert special(result) == []


def test_a_point_just_below_the_lower_limit_is_special_cause():
    result = xmr([*BASE, 4.67], baseline=6)
    assert flagged(result, BEYOND_LIMIT) == [6]
    assert result.points["signal"][6] == "low"


# Rule (b): a run of 7 on one side of the mean ---------------------------------------------------


def test_seven_points_in_a_row_above_the_mean_all_flag():
    result = xmr([*BASE, *[10.5] * 7], baseline=6)
    assert flagged(result, RUN) == list(range(6, 13))


def test_six_points_in_a_row_above_the_mean_do_not_flag():
    result = xmr([*BASE, *[10.5] * 6], baseline=6)
    assert special(result) == []


def test_a_point_exactly_on_the_mean_breaks_a_run():
    # 3 above, one on the mean (10), 4 above: two short runs, not one of 8
    result = xmr([*BASE, 10.5, 10.5, 10.5, 10.0, 10.5, 10.5, 10.5, 10.5], baseline=6)
    assert special(result) == []


def test_seven_points_below_the_mean_flag_low():
    result = xmr([*[9.0, 11.0] * 3, *[9.5] * 7], baseline=6)
    assert flagged(result, RUN) == list(range(6, 13))
    assert set(result.points["signal"][6:].to_list()) == {"low"}


def test_run_rule_counts_points_on_one_side_directly():
    assert rule_run([11, 11, 11, 11, 11, 11, 11], 10).tolist() == [1] * 7


# Rule (c): a trend of 7 -----------------------------------------------------------------------
# Baseline 10, 20, 10, 20, 10, 20: mean 15, MR-bar 10, limits -11.6 and 41.6, so only the trend
# rule can fire on 11..17 (they cross the mean at 15, so no run either).

TREND_BASE = [10.0, 20.0] * 3


def test_seven_increasing_points_flag_as_a_trend():
    result = xmr([*TREND_BASE, 11, 12, 13, 14, 15, 16, 17], baseline=6)
    assert flagged(result, TREND) == list(range(6, 13))
    assert special(result) == list(range(6, 13))


def test_six_increasing_points_are_not_a_trend():
    result = xmr([*TREND_BASE, 11, 12, 13, 14, 15, 16], baseline=6)
    assert special(result) == []


def test_a_tie_in_the_middle_breaks_a_trend():
    result = xmr([*TREND_BASE, 11, 12, 13, 13, 14, 15, 16], baseline=6)
    assert special(result) == []


def test_seven_decreasing_points_flag_as_a_falling_trend():
    # the baseline ends low (10) so the fall starts at 19, not at the 20 before it
    result = xmr([*TREND_BASE[::-1], 19, 18, 17, 16, 15, 14, 13], baseline=6)
    assert flagged(result, TREND) == list(range(6, 13))
    assert set(result.points["signal"][6:].to_list()) == {"low"}


def test_trend_rule_counts_points_not_steps():
    assert rule_trend([1, 2, 3, 4, 5, 6, 7]).tolist() == [1] * 7
    assert rule_trend([1, 2, 3, 4, 5, 6]).tolist() == [0] * 6


# Rule (d): 2 of 3 beyond two thirds -------------------------------------------------------------


def test_two_of_three_beyond_two_thirds_on_the_same_side_flag_the_two():
    # 14 is beyond 13.5467 but inside 15.32; the 10 between them is not flagged
    result = xmr([*BASE, 14, 10, 14], baseline=6)
    assert flagged(result, TWO_OF_THREE) == [6, 8]
    assert special(result) == [6, 8]


def test_two_of_three_beyond_two_thirds_on_opposite_sides_do_not_count_together():
    # 14 is beyond two thirds above, 6 beyond two thirds below (6.4533)
    result = xmr([*BASE, 14, 6, 10], baseline=6)
    assert special(result) == []


def test_one_point_beyond_two_thirds_is_not_enough():
    result = xmr([*BASE, 14, 10, 10], baseline=6)
    assert special(result) == []


# Moving-range screening and rebasing -------------------------------------------------------------


def test_screening_drops_large_moving_ranges_and_narrows_the_limits():
    # moving ranges 1,1,1,1,20,20,1,1,1: MR-bar 47/9 = 5.222; 3.267 x 5.222 = 17.06 so the two
    # 20s go and MR-bar is 7/7 = 1. Mean 124/10 = 12.4.
    series = [10, 11, 10, 11, 10, 30, 10, 11, 10, 11]
    plain = xmr(series)
    screened = xmr(series, screen_moving_ranges=True)
    assert plain.periods[0].upper == pytest.approx(12.4 + 2.66 * 47 / 9)
    assert screened.periods[0].mr_bar == pytest.approx(1.0)
    assert screened.periods[0].excluded_moving_ranges == 2
    assert screened.periods[0].lower == pytest.approx(12.4 - 2.66)
    assert screened.periods[0].upper == pytest.approx(12.4 + 2.66)


def test_rebasing_gives_each_period_its_own_mean_and_limits():
    # period 0: 10, 12, 10, 12 -> mean 11, MR-bar 2; period 1: 20, 22, 20, 22 -> mean 21, MR-bar 2
    result = xmr([10, 12, 10, 12, 20, 22, 20, 22], rebase=[4])
    assert [p.mean for p in result.periods] == pytest.approx([11.0, 21.0])
    assert result.points["upper"].to_list() == pytest.approx([16.32] * 4 + [26.32] * 4)
    assert result.points["period"].to_list() == [0] * 4 + [1] * 4


def test_the_jump_at_a_rebase_is_not_a_moving_range():
    result = xmr([10, 12, 10, 12, 20, 22, 20, 22], rebase=[4])
    assert result.points["moving_range"][4] is None
    assert result.periods[1].mr_bar == pytest.approx(2.0)


# Icons ---------------------------------------------------------------------------------------


def test_a_high_latest_point_is_improvement_when_up_is_better():
    assert xmr([*BASE, 16], baseline=6, direction="up").variation == "special cause improvement"


def test_a_high_latest_point_is_concern_when_down_is_better():
    assert xmr([*BASE, 16], baseline=6, direction="down").variation == "special cause concern"


def test_a_low_latest_point_is_improvement_when_down_is_better():
    result = xmr([*BASE, 4], baseline=6, direction="down")
    assert result.variation == "special cause improvement"
    assert result.points["meaning"][-1] == "improvement"


def test_a_signal_without_a_better_direction_is_special_cause_neither():
    assert xmr([*BASE, 16], baseline=6).variation == "special cause neither"


def test_a_latest_point_without_a_signal_is_common_cause():
    assert xmr([*BASE, 10], baseline=6, direction="up").variation == "common cause"


@pytest.mark.parametrize(
    ("direction", "target", "icon"),
    [
        ("up", 4.0, "consistently passing"),  # target below the lower limit 4.68
        ("up", 16.0, "consistently failing"),  # target above the upper limit 15.32
        ("up", 10.0, "hit and miss"),
        ("down", 16.0, "consistently passing"),
        ("down", 4.0, "consistently failing"),
        ("down", 10.0, "hit and miss"),
    ],
)
def test_assurance_compares_the_target_with_the_limits_in_the_better_direction(
    direction, target, icon
):
    assert xmr(BASE, direction=direction, target=target).assurance == icon


def test_no_assurance_icon_without_a_target():
    assert xmr(BASE, direction="up").assurance is None


def test_no_assurance_icon_when_neither_direction_is_better():
    assert xmr(BASE, target=4.0).assurance is None


def test_assurance_uses_the_latest_periods_limits():
    # after the rebase the limits are 15.68..26.32, so a target of 15 is always passed
    result = xmr([10, 12, 10, 12, 20, 22, 20, 22], rebase=[4], direction="up", target=15)
    assert result.assurance == "consistently passing"


# Edge cases ----------------------------------------------------------------------------------


def test_fewer_than_two_points_is_refused():
    with pytest.raises(ValueError, match="at least 2 points"):
        xmr([5.0])


def test_a_missing_value_is_refused_with_its_position():
    with pytest.raises(ValueError, match="position 2"):
        xmr([1.0, 2.0, math.nan, 3.0])


def test_zero_average_moving_range_gives_limits_on_the_mean_and_a_warning():
    result = xmr([5, 5, 5, 5])
    assert (result.periods[0].lower, result.periods[0].upper) == (5.0, 5.0)
    assert result.variation == "common cause"
    assert "moving ranges are all zero" in result.warnings[0]


def test_zero_average_moving_range_flags_any_change_after_the_baseline():
    result = xmr([5, 5, 5, 5, 6], baseline=4)
    assert flagged(result, BEYOND_LIMIT) == [4]


def test_a_rebase_that_leaves_a_one_point_period_is_refused():
    with pytest.raises(ValueError, match="each period needs 2"):
        xmr([1, 2, 3, 4], rebase=[3])


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        xmr(BASE, direction="higher")  # type: ignore[arg-type]
