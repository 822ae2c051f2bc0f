"""Small-number suppression: the thresholds at their edges, rates from rounded figures, one
set of rules from disclosure.yaml that can be overridden."""

from __future__ import annotations

import polars as pl
import pytest

from stratify.audit.disclosure import (
    DisclosureRules,
    disclose,
    disclose_count,
    disclose_rate,
    load_rules,
    round_half_up,
)


def test_zero_is_shown_as_zero():
    assert disclose_count(0) == ("0", 0)


@pytest.mark.parametrize("count", [1, 4, 7])
def test_counts_from_one_to_seven_are_suppressed(count):
    assert disclose_count(count) == ("*", None)


@pytest.mark.parametrize(("count", "rounded"), [(8, 10), (12, 10), (13, 15), (1234, 1235)])
def test_other_counts_are_rounded_to_the_nearest_five(count, rounded):
    assert disclose_count(count) == (str(rounded), rounded)


def test_halves_round_up():
    assert round_half_up(15, 10) == 20
    assert round_half_up(25, 10) == 30


def test_a_numpy_integer_count_is_accepted():
    import numpy as np

    assert disclose_count(np.int64(13)) == ("15", 15)


@pytest.mark.parametrize("bad", [-1, 2.5, "12", None, True])
def test_anything_but_a_non_negative_whole_count_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        disclose_count(bad)


def test_a_rate_is_computed_from_the_rounded_numerator_and_denominator():
    # 12 / 48 = 0.25 true, but 10 / 50 = 0.2 is what the released counts show
    assert disclose_rate(12, 48) == pytest.approx(0.2)


def test_a_rate_is_suppressed_when_its_numerator_is():
    assert disclose_rate(5, 100) is None


def test_a_rate_is_suppressed_when_its_denominator_is():
    assert disclose_rate(0, 6) is None


def test_a_rate_over_a_zero_denominator_is_none():
    assert disclose_rate(0, 0) is None


def test_rules_come_from_the_versioned_yaml_file():
    rules = load_rules()
    assert rules.version == "2026.1"
    assert (rules.suppress_min, rules.suppress_max, rules.round_to, rules.marker) == (1, 7, 5, "*")


def test_thresholds_can_be_overridden():
    rules = load_rules(suppress_max=4, round_to=10)
    assert disclose_count(4, rules) == ("*", None)
    assert disclose_count(5, rules) == ("10", 10)
    assert disclose_count(14, rules) == ("10", 10)


def test_rules_can_be_loaded_from_another_file(tmp_path):
    path = tmp_path / "strict.yaml"
    path.write_text('version: "test-1"\nsuppress_min: 1\nsuppress_max: 9\nround_to: 10\n')
    rules = load_rules(path)
    assert rules.version == "test-1"
    assert disclose_count(9, rules) == ("*", None)
    assert disclose_count(10, rules) == ("10", 10)


def test_an_unknown_override_is_refused():
    with pytest.raises(ValueError, match="unknown disclosure rule"):
        load_rules(supress_max=4)


def test_inconsistent_thresholds_are_refused():
    with pytest.raises(ValueError, match="suppress_min <= suppress_max"):
        DisclosureRules(version="x", suppress_min=8, suppress_max=7)


# DataFrames ----------------------------------------------------------------------------------

TABLE = pl.DataFrame(
    {
        "practice": ["A", "B", "C", "D"],
        "patients": [48, 120, 6, 0],
        "audited": [12, 13, 1, 0],
        "rate": [0.25, 0.1083, 0.1667, None],
    }
)


def test_count_columns_are_replaced_by_rounded_values_with_nulls_for_suppressed():
    out = disclose(TABLE, ["patients", "audited"])
    assert out["patients"].to_list() == [50, 120, None, 0]
    assert out["audited"].to_list() == [10, 15, None, 0]


def test_each_count_gets_a_display_column_next_to_it():
    out = disclose(TABLE, ["patients", "audited"])
    assert out.columns == [
        "practice",
        "patients",
        "patients_display",
        "audited",
        "audited_display",
        "rate",
    ]
    assert out["audited_display"].to_list() == ["10", "15", "*", "0"]


def test_rates_are_recomputed_from_rounded_counts_in_a_dataframe():
    out = disclose(TABLE, [], rates={"rate": ("audited", "patients")})
    # 10/50, 15/120, suppressed, 0/0
    assert out["rate"].to_list() == pytest.approx([0.2, 0.125, None, None])
    assert out["patients"].to_list() == [50, 120, None, 0]  # a rate's counts are always disclosed


def test_a_new_rate_column_is_added_at_the_end():
    out = disclose(TABLE.drop("rate"), ["patients"], rates={"audit_rate": ("audited", "patients")})
    assert out.columns[-1] == "audit_rate"
    assert out["audit_rate"][0] == pytest.approx(0.2)


def test_the_dataframe_and_single_count_functions_agree():
    counts = list(range(0, 40))
    out = disclose(pl.DataFrame({"n": counts}), ["n"])
    assert out["n_display"].to_list() == [disclose_count(c)[0] for c in counts]
    assert out["n"].to_list() == [disclose_count(c)[1] for c in counts]


def test_missing_counts_stay_missing():
    out = disclose(pl.DataFrame({"n": [None, 9]}, schema={"n": pl.Int64}), ["n"])
    assert out["n"].to_list() == [None, 10]
    assert out["n_display"].to_list() == [None, "10"]


def test_dataframe_thresholds_can_be_overridden():
    out = disclose(pl.DataFrame({"n": [3, 5]}), ["n"], rules=load_rules(suppress_max=4))
    assert out["n_display"].to_list() == ["*", "5"]


def test_whole_valued_float_counts_are_accepted():
    out = disclose(pl.DataFrame({"n": [12.0, 0.0]}), ["n"])
    assert out["n"].to_list() == [10, 0]


def test_a_fractional_count_column_is_refused():
    with pytest.raises(TypeError, match="fractions"):
        disclose(pl.DataFrame({"n": [12.5]}), ["n"])


def test_a_negative_count_column_is_refused():
    with pytest.raises(ValueError, match="negative"):
        disclose(pl.DataFrame({"n": [-1, 10]}), ["n"])


def test_a_missing_column_is_refused():
    with pytest.raises(ValueError, match="no column"):
        disclose(TABLE, ["nope"])


def test_the_input_frame_is_not_changed():
    disclose(TABLE, ["patients"])
    assert TABLE["patients"].to_list() == [48, 120, 6, 0]
