"""Per-tree pattern tables give LightGBM's own pred_contrib values, for every kind of split."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import polars as pl
import pytest

from stratify.models import contributions
from stratify.models.design import ETHNIC_GROUPS, LinearModel


def _data(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(size=n),  # plain numeric
            np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),  # missing values (NaN)
            np.where(rng.random(n) < 0.4, 0.0, rng.normal(size=n)),  # zeros (zero as missing)
            rng.integers(0, 6, size=n).astype(float),  # categorical codes
            rng.poisson(1.5, size=n).astype(float),  # small counts
        ]
    )
    return np.asfortranarray(x)


def _model(num_leaves: int = 7, rounds: int = 40, zero_as_missing: bool = False) -> lgb.Booster:
    x = _data(4_000, 1)
    logit = (
        x[:, 0]
        + np.nan_to_num(x[:, 1], nan=1.5)
        - 0.8 * (x[:, 2] == 0)
        + 0.7 * np.isin(x[:, 3], [1, 4])
        + 0.3 * x[:, 4]
    )
    y = (np.random.default_rng(2).random(len(x)) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": num_leaves,
        "min_child_samples": 20,
        "min_data_per_group": 20,
        "cat_smooth": 1,
        "zero_as_missing": zero_as_missing,
        "verbose": -1,
        "seed": 3,
        "num_threads": 1,
    }
    data = lgb.Dataset(x, y, categorical_feature=[3])
    return lgb.train(params, data, num_boost_round=rounds)


def _awkward_rows() -> np.ndarray:
    """Rows the model never saw: NaN where training had none; negative, fractional, unseen and
    NaN categories; exact zeros (values exactly on thresholds are set by the test)."""
    x = _data(3_000, 9)
    x[::7, 0] = np.nan
    x[::11, 3] = -1.0
    x[::13, 3] = 9.0
    x[::17, 3] = np.nan
    x[::29, 3] = -0.5  # read as category 0
    x[::31, 3] = 4.7  # read as category 4
    x[::19, 2] = 0.0
    x[::23, 4] = np.nan
    return x


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_pattern_tables_equal_lightgbms_pred_contrib_on_every_row(zero_as_missing):
    booster = _model(zero_as_missing=zero_as_missing)
    kinds = {
        (n["decision_type"], n["missing_type"], n["default_left"])
        for nodes in contributions._plan(booster)
        for n in nodes
    }
    assert any(d == "==" for d, _, _ in kinds)  # a categorical split
    assert any(m == ("Zero" if zero_as_missing else "NaN") for _, m, _ in kinds)
    assert {left for d, _, left in kinds if d == "<="} == {True, False}
    x = _awkward_rows()
    thresholds = [
        (n["split_feature"], n["threshold"])
        for nodes in contributions._plan(booster)
        for n in nodes
        if n["decision_type"] == "<="
    ]
    for row, (feature, threshold) in enumerate(thresholds[:200]):
        x[row, feature] = threshold  # exactly on a threshold: goes left
    expected = booster.predict(x, pred_contrib=True)
    mine = contributions.contributions(booster, x)
    assert mine.shape == expected.shape
    assert np.abs(mine - expected).max() < 1e-12
    assert np.allclose(mine.sum(axis=1), booster.predict(x, raw_score=True), rtol=0, atol=1e-12)


def test_top_contributions_are_the_largest_either_way_in_stable_order():
    booster = _model()
    x = _awkward_rows()
    top = contributions.top_contributions(booster, x, k=3, chunk=500)
    assert top["method"] == "per-tree patterns"
    expected = booster.predict(x, pred_contrib=True)
    order = np.argsort(-np.abs(expected[:, :-1]), axis=1, kind="stable")[:, :3]
    assert (top["index"] == order).all()
    assert np.allclose(top["contribution"], np.take_along_axis(expected, order, axis=1), atol=1e-12)
    assert np.allclose(top["total"], booster.predict(x, raw_score=True), atol=1e-12)


def test_models_with_larger_trees_fall_back_to_pred_contrib():
    booster = _model(num_leaves=31, rounds=10)
    assert contributions._plan(booster) is None
    x = _awkward_rows()
    top = contributions.top_contributions(booster, x, k=5, chunk=700)
    assert top["method"] == "pred_contrib"
    expected = booster.predict(x, pred_contrib=True)
    order = np.argsort(-np.abs(expected[:, :-1]), axis=1, kind="stable")[:, :5]
    assert (top["index"] == order).all()


def test_a_wrong_decision_is_caught_by_the_check_against_pred_contrib(monkeypatch):
    booster = _model()
    real = contributions._decision

    def flipped(node, column_has_nan):
        goes_left = real(node, column_has_nan)
        if node["split_feature"] == 1:  # the feature with missing values: send them the other way
            return lambda column: goes_left(column) ^ np.isnan(column)
        return goes_left

    monkeypatch.setattr(contributions, "_decision", flipped)
    with pytest.raises(RuntimeError, match="differ from LightGBM's pred_contrib"):
        contributions.top_contributions(booster, _awkward_rows())


@pytest.mark.parametrize("num_leaves", [7, 31])  # the pattern tables, and the pred_contrib path
def test_a_linear_start_adds_its_own_contributions_feature_by_feature(num_leaves):
    booster = _model(num_leaves=num_leaves, rounds=10)
    x = _awkward_rows()
    x[:, 3] = np.nan_to_num(np.clip(np.round(x[:, 3]), 0, 5), nan=5.0)  # codes a linear model reads
    columns = ["a", "b", "c", "ethnic_group", "e"]
    frame = pl.DataFrame(
        {c: x[:, i] for i, c in enumerate(columns) if c != "ethnic_group"}
        | {"ethnic_group": np.array(ETHNIC_GROUPS)[x[:, 3].astype(int)]}
    ).with_columns(pl.col("b").fill_nan(None))
    y = (np.random.default_rng(4).random(len(x)) < 0.3).astype(int)
    linear = LinearModel.fit(frame, columns, y)
    top = contributions.top_contributions(booster, x, k=3, chunk=500, linear=linear)
    whole = booster.predict(x, pred_contrib=True)[:, :-1] + linear.contributions_x(x)
    order = np.argsort(-np.abs(whole), axis=1, kind="stable")[:, :3]
    assert (top["index"] == order).all()
    assert np.allclose(top["contribution"], np.take_along_axis(whole, order, axis=1), atol=1e-12)
    expected_total = booster.predict(x, raw_score=True) + linear.margin_x(x)
    assert np.allclose(top["total"], expected_total, rtol=0, atol=1e-9)
