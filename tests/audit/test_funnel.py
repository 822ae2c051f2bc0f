"""Funnel plots: limits by hand, overdispersion by hand, units kept in input order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stratify.audit.funnel import (
    Z95,
    Z998,
    between_unit_variance,
    control_limits,
    dispersion_ratio,
    funnel,
    winsorise,
)

# Two units, 20/100 and 30/150: theta = 50/250 = 0.2; at n = 100, s = sqrt(0.2 x 0.8 / 100) = 0.04
PAIR = ([20, 30], [100, 150])

# Ten units of 100 with 10, 12, ..., 26 and 48 events: theta = 210/1000 = 0.21,
# s^2 = 0.21 x 0.79 / 100 = 0.001659 for every unit.
SPREAD = ([10, 12, 14, 16, 18, 20, 22, 24, 26, 48], [100] * 10)
S2 = 0.21 * 0.79 / 100


def test_system_rate_is_total_events_over_total_denominator():
    assert funnel(*PAIR).theta == pytest.approx(0.2)


def test_95_percent_limits_at_n_100_are_theta_plus_or_minus_1_96_standard_errors():
    unit = funnel(*PAIR).units.row(0, named=True)
    assert unit["lower_95"] == pytest.approx(0.2 - 1.959964 * 0.04)  # 0.12160144
    assert unit["upper_95"] == pytest.approx(0.2 + 1.959964 * 0.04)  # 0.27839856


def test_99_8_percent_limits_at_n_100_are_theta_plus_or_minus_3_09_standard_errors():
    unit = funnel(*PAIR).units.row(0, named=True)
    assert unit["lower_998"] == pytest.approx(0.2 - 3.090232 * 0.04)  # 0.07639072
    assert unit["upper_998"] == pytest.approx(0.2 + 3.090232 * 0.04)  # 0.32360928


def test_limits_at_n_150_use_that_units_own_standard_error():
    s = math.sqrt(0.2 * 0.8 / 150)
    unit = funnel(*PAIR).units.row(1, named=True)
    assert unit["upper_95"] == pytest.approx(0.2 + 1.959964 * s)


def test_limits_as_a_function_of_n_narrow_as_n_grows():
    lower, upper = control_limits(0.2, np.array([25.0, 100.0, 400.0]), Z95)
    # s = 0.08, 0.04, 0.02
    assert upper == pytest.approx([0.2 + Z95 * 0.08, 0.2 + Z95 * 0.04, 0.2 + Z95 * 0.02])
    assert lower == pytest.approx([0.2 - Z95 * 0.08, 0.2 - Z95 * 0.04, 0.2 - Z95 * 0.02])


def test_limits_are_clipped_to_zero_and_one():
    # theta 0.02 at n = 10: s = 0.04427, 0.02 - 3.09 x 0.04427 < 0
    lower, upper = control_limits(0.02, 10.0, Z998)
    assert lower == 0.0
    assert upper == pytest.approx(0.02 + Z998 * math.sqrt(0.02 * 0.98 / 10))


def test_curves_give_limits_over_a_grid_of_denominators():
    curves = funnel(*PAIR).curves(np.array([100.0]))
    assert curves["upper_998"][0] == pytest.approx(0.2 + Z998 * 0.04)
    assert curves.columns == [
        "denominator",
        "lower_95",
        "upper_95",
        "lower_998",
        "upper_998",
    ]


def test_default_curves_span_the_units_denominators():
    d = funnel(*PAIR).curves(points=50)["denominator"]
    assert d.len() == 50
    assert d.min() < 100 and d.max() > 150


def test_a_unit_beyond_the_upper_limit_is_marked_above_at_that_level():
    # SPREAD: 0.48 vs 99.8 % upper 0.21 + 3.090232 x 0.04073 = 0.3359
    units = funnel(*SPREAD).units
    assert units["position_998"].to_list() == ["inside"] * 9 + ["above"]
    assert units["position_95"][9] == "above"


def test_a_unit_below_the_95_limit_but_inside_99_8_is_marked_so():
    # theta = 120 / 500 = 0.24; s = sqrt(0.24 x 0.76 / 100) = 0.04271 at n = 100, so the limits
    # are 0.24 - 1.959964 s = 0.1563 and 0.24 - 3.090232 s = 0.1080; the unit is at 0.13
    units = funnel([13, 107], [100, 400]).units
    s = math.sqrt(0.24 * 0.76 / 100)
    assert 0.24 - Z998 * s < 0.13 < 0.24 - Z95 * s
    assert units.row(0, named=True)["position_95"] == "below"
    assert units.row(0, named=True)["position_998"] == "inside"


def test_units_are_returned_in_input_order_never_ranked():
    units = funnel([30, 10, 20], [100, 100, 100], units=["C", "A", "B"]).units
    assert units["unit"].to_list() == ["C", "A", "B"]
    assert units["rate"].to_list() == pytest.approx([0.3, 0.1, 0.2])


# Overdispersion ------------------------------------------------------------------------------
# SPREAD by hand. With equal denominators z is a fixed multiple of y - theta, so winsorising z
# is winsorising the rates. Sorted rates 0.10, 0.12, ..., 0.26, 0.48; 10th percentile (linear,
# position 0.9) = 0.10 + 0.9 x 0.02 = 0.118; 90th (position 8.1) = 0.26 + 0.1 x 0.22 = 0.282.
# Winsorised deviations from 0.21: -.092 -.09 -.07 -.05 -.03 -.01 .01 .03 .05 .072
# Sum of squares .008464 + .0081 + .0049 + .0025 + .0009 + .0001 + .0001 + .0009 + .0025
# + .005184 = .033648, so phi = .033648 / (10 x 0.001659) = 2.028210...
# tau^2 with equal weights w = 1 / s^2: (10 phi - 9) / (10 w - w) = (.033648 - 9 s^2) / 9.
PHI = 0.033648 / (10 * S2)
TAU2 = (0.033648 - 9 * S2) / 9


def test_winsorising_pulls_each_tail_in_to_its_percentile():
    z = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 100.0])
    # 10th percentile 0.9, 90th 8 + 0.1 x 92 = 17.2
    assert winsorise(z).tolist() == pytest.approx([0.9, 1, 2, 3, 4, 5, 6, 7, 8, 17.2])


def test_phi_is_the_mean_of_winsorised_squared_z_scores():
    assert funnel(*SPREAD).phi == pytest.approx(PHI)
    assert funnel(*SPREAD).phi == pytest.approx(2.0282098, abs=1e-6)  # the hand figure


def test_phi_is_zero_when_every_unit_sits_on_the_system_rate():
    assert dispersion_ratio(np.zeros(5)) == 0.0


def test_tau2_matches_the_hand_computation_with_equal_denominators():
    assert funnel(*SPREAD).tau2 == pytest.approx(TAU2)  # 0.00207967


def test_tau2_formula_with_unequal_weights():
    # s = 0.1, 0.05 -> w = 100, 400; sum w = 500, sum w^2 / sum w = 170000 / 500 = 340
    # (I phi - (I - 1)) / (500 - 340) = (2 x 2 - 1) / 160 = 0.01875
    assert between_unit_variance(2.0, np.array([0.1, 0.05])) == pytest.approx(0.01875)


def test_tau2_is_zero_when_units_vary_less_than_chance():
    # 2 x 0.4 - 1 < 0
    assert between_unit_variance(0.4, np.array([0.1, 0.05])) == 0.0


def test_multiplicative_limits_are_widened_by_the_square_root_of_phi():
    result = funnel(*SPREAD, overdispersion="multiplicative")
    unit = result.units.row(0, named=True)
    # phi s^2 = .033648 / 10 = .0033648
    assert unit["upper_95"] == pytest.approx(0.21 + Z95 * math.sqrt(0.0033648))
    assert unit["lower_998"] == pytest.approx(0.21 - Z998 * math.sqrt(0.0033648))
    assert result.adjusted and result.method == "multiplicative"


def test_multiplicative_limits_are_not_narrowed_when_phi_is_below_one():
    plain = funnel([19, 20, 21], [100, 100, 100])
    result = funnel([19, 20, 21], [100, 100, 100], overdispersion="multiplicative")
    assert result.phi < 1
    assert not result.adjusted
    assert result.units["upper_95"].to_list() == plain.units["upper_95"].to_list()


def test_additive_limits_add_tau2_to_each_units_variance():
    result = funnel(*SPREAD, overdispersion="additive")
    unit = result.units.row(0, named=True)
    assert unit["upper_95"] == pytest.approx(0.21 + Z95 * math.sqrt(S2 + TAU2))
    assert unit["lower_95"] == pytest.approx(0.21 - Z95 * math.sqrt(S2 + TAU2))
    assert result.adjusted and result.method == "additive"


def test_a_true_outlier_stays_above_the_additive_99_8_limit():
    # 0.21 + 3.090232 x sqrt(.001659 + .00207967) = 0.3990, and the unit at 0.48 is above it:
    # winsorising stops the outlier from inflating tau^2 enough to hide itself.
    result = funnel(*SPREAD, overdispersion="additive")
    assert result.units["upper_998"][9] == pytest.approx(0.21 + Z998 * math.sqrt(S2 + TAU2))
    assert result.units["position_998"][9] == "above"


def test_phi_and_tau2_are_reported_whatever_the_method():
    result = funnel(*SPREAD, overdispersion="none")
    assert (result.phi, result.tau2) == pytest.approx((PHI, TAU2))
    assert not result.adjusted


# Refusals ------------------------------------------------------------------------------------


def test_a_numerator_larger_than_its_denominator_is_refused():
    with pytest.raises(ValueError, match="between 0 and its denominator"):
        funnel([5, 120], [100, 100], units=["A", "B"])


def test_a_zero_denominator_is_refused():
    with pytest.raises(ValueError, match="denominator must be positive"):
        funnel([0, 5], [0, 100])


def test_a_system_rate_of_zero_is_refused():
    with pytest.raises(ValueError, match="system rate is 0"):
        funnel([0, 0], [100, 50])


def test_an_unknown_overdispersion_method_is_refused():
    with pytest.raises(ValueError, match="overdispersion"):
        funnel(*PAIR, overdispersion="random")  # type: ignore[arg-type]
