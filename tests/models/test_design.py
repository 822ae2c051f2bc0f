"""The logistic model's design and its exact per-feature contributions."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from stratify.models.design import LinearModel, matrix


@pytest.fixture(scope="module")
def fitted() -> tuple[LinearModel, pl.DataFrame]:
    rng = np.random.default_rng(7)
    n = 3_000
    hba1c = rng.normal(50, 8, n)
    hba1c[rng.random(n) < 0.4] = np.nan  # most people have none recorded
    frame = pl.DataFrame(
        {
            "age": rng.integers(18, 95, n).astype(float),
            "latest_hba1c": hba1c,
            "ethnic_group": rng.choice(["White", "Asian", "Black", "Mixed", "Other"], n),
        }
    ).with_columns(pl.col("latest_hba1c").fill_nan(None))
    logit = -4 + 0.04 * frame["age"].to_numpy()
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return LinearModel.fit(frame, ["age", "latest_hba1c", "ethnic_group"], y), frame


def test_contributions_and_the_expected_margin_add_up_to_the_linear_predictor(fitted):
    model, frame = fitted
    x = matrix(frame, model.columns)
    parts = model.contributions_x(x)
    assert parts.shape == (frame.height, 3)
    assert np.allclose(parts.sum(axis=1) + model.expected_margin, model.margin_x(x))
    assert np.allclose(1 / (1 + np.exp(-model.margin_x(x))), model.predict(frame))


def test_each_feature_contributes_nothing_on_average_over_the_training_rows(fitted):
    model, frame = fitted
    parts = model.contributions_x(matrix(frame, model.columns))
    assert np.abs(parts.mean(axis=0)).max() < 1e-12
    # age, which drives the outcome, moves the log-odds most, and older means higher
    age = frame["age"].to_numpy()
    assert np.abs(parts).mean(axis=0).argmax() == 0
    assert parts[age.argmax(), 0] > 0 > parts[age.argmin(), 0]


def test_a_missing_value_contributes_as_the_median_plus_its_own_indicator(fitted):
    model, frame = fitted
    x = matrix(frame, model.columns)
    missing = np.isnan(x[:, 1])
    parts = model.contributions_x(x)[:, 1]
    # hba1c is the second numeric feature: design columns 2 (scaled value) and 3 (indicator)
    value_coef, indicator_coef = model.coefficients[2], model.coefficients[3]
    value_mean, indicator_mean = model.design_means[2], model.design_means[3]
    scaled_median = (model.medians[1] - model.means[1]) / model.scales[1]
    expected = value_coef * (scaled_median - value_mean) + indicator_coef * (1 - indicator_mean)
    assert np.allclose(parts[missing], expected)
    # someone whose recorded value is the median differs from someone with none by the indicator
    at_median = x[~missing][:1].copy()
    at_median[0, 1] = model.medians[1]
    recorded = model.contributions_x(at_median)[0, 1]
    assert np.isclose(expected - recorded, indicator_coef)
    assert indicator_coef != 0


def test_each_feature_gets_the_sum_of_its_own_design_columns_in_any_column_order():
    rng = np.random.default_rng(3)
    n = 500
    frame = pl.DataFrame(
        {
            "a": rng.normal(size=n),
            "ethnic_group": rng.choice(["White", "Asian", "Black", "Mixed", "Other"], n),
            "b": rng.normal(size=n),
            "c": rng.poisson(2.0, n).astype(float),
        }
    )
    y = (rng.random(n) < 0.3).astype(int)
    model = LinearModel.fit(frame, ["a", "ethnic_group", "b", "c"], y)
    x = matrix(frame, model.columns)
    weighted = (model.design_x(x) - np.asarray(model.design_means)) * np.asarray(model.coefficients)
    # design: a (2 columns), b (2), c (2), then ethnic_group's 5 non-reference groups
    by_hand = np.column_stack(
        [weighted[:, 0:2].sum(1), weighted[:, 6:11].sum(1), weighted[:, 2:4].sum(1),
         weighted[:, 4:6].sum(1)]
    )  # fmt: skip
    assert np.allclose(model.contributions_x(x), by_hand, rtol=0, atol=1e-14)


def test_the_margin_is_the_same_computed_a_block_at_a_time(fitted):
    model, frame = fitted
    x = matrix(frame, model.columns)
    assert np.allclose(model.margin_x(x, chunk=7), model.margin_x(x))


def test_a_model_stored_without_design_means_asks_to_be_retrained(fitted):
    model, frame = fitted
    old = LinearModel(**{**dataclasses.asdict(model), "design_means": []})
    with pytest.raises(ValueError, match="retrain"):
        old.contributions_x(matrix(frame, model.columns))
