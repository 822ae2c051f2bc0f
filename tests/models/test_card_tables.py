"""The model card's tables, read back from the database: the numbers agree with each other and
with their definitions."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest

from stratify.models import card, metrics


def _read(db, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_the_threshold_tables_true_and_false_positives_add_up_to_the_people_flagged(
    scored_registry,
):
    t = _read(scored_registry[0], "SELECT * FROM models.card_thresholds")
    assert (t["tp"] + t["fp"] == t["flagged"]).all()
    assert (
        t["tp"] + t["fp"] + t["fn"] + t["tn"] == t.filter(pl.col("share") == 1.0)["flagged"][0]
    ).all()
    assert t.filter(pl.col("cut") == "percent").height == 100
    assert sorted(t.filter(pl.col("cut") == "tier")["share"].round(3)) == [0.005, 0.05, 0.2]
    assert np.allclose(t["ppv"].drop_nans(), (t["tp"] / t["flagged"]).drop_nans())


def test_net_benefit_of_treating_everyone_follows_its_formula(scored_registry):
    db = scored_registry[0]
    nb = _read(db, "SELECT * FROM models.card_net_benefit")
    overall = _read(db, "SELECT * FROM models.card_performance WHERE model = 'lightgbm'").row(
        0, named=True
    )
    prevalence = overall["events"] / overall["people"]
    pt = nb["threshold"].to_numpy()
    assert np.allclose(nb["treat_all"].to_numpy(), prevalence - (1 - prevalence) * pt / (1 - pt))
    assert (nb["treat_none"] == 0).all()
    n = overall["people"]
    assert np.allclose(nb["model"], nb["tp"] / n - nb["fp"] / n * pt / (1 - pt))


def test_the_card_holds_every_item_of_a_patient_level_prediction_report(scored_registry):
    db = scored_registry[0]
    facts = dict(_read(db, "SELECT item, value FROM models.card_facts").iter_rows())
    for item in ("intended_use", "must_not_use", "synthetic", "synthetic_statement", "limits", "trees",
                 "why_training_stopped", "model_in_use", "auroc_lightgbm_constrained",
                 "auroc_lightgbm_unconstrained", "auroc_logistic_constrained",
                 "auroc_logistic_unconstrained"):  # fmt: skip
        assert facts[item], item
    assert facts["synthetic"] == "True"
    probast = _read(db, "SELECT * FROM models.card_probast")
    assert set(probast["domain"]) == {"participants", "predictors", "outcome", "analysis"}
    capacity = _read(db, "SELECT * FROM models.card_capacity")
    assert capacity["target"].to_list() == [0.25, 0.5, 0.75]
    assert (capacity["people_reviewed"].diff().drop_nulls() > 0).all()
    assert _read(db, "SELECT count(*) AS n FROM models.card_capacity_by_practice")["n"][0] >= 1
    constraints = _read(db, "SELECT * FROM models.card_constraints")
    assert {"emergency_admissions", "bed_days", "ae_attendances", "efi", "long_term_conditions",
            "days_since_emergency_admission"} <= set(constraints["stem"])  # fmt: skip
    assert constraints["reason"].str.len_chars().min() > 20
    assert (
        _read(db, "SELECT count(*) FILTER (WHERE chosen) AS n FROM models.card_search")["n"][0] == 1
    )
    groups = _read(db, "SELECT * FROM models.card_calibration_by_group")
    assert {"all", "age band", "sex", "deprivation quintile", "ethnic group"} <= set(
        groups["family"]
    )
    ok = groups.filter(pl.col("events") >= 20)
    assert (
        (ok["oe_low"] <= ok["observed_over_expected"])
        & (ok["observed_over_expected"] <= ok["oe_high"])
    ).all()
    assert ((ok["auroc_low"] <= ok["auroc"]) & (ok["auroc"] <= ok["auroc_high"])).all()
    assert (ok["e90"] <= ok["emax"]).all()


def test_calibration_is_shown_over_the_whole_range_of_predicted_risk(scored_registry):
    db = scored_registry[0]
    curve = _read(db, "SELECT * FROM models.card_calibration ORDER BY bin")
    assert curve.height == 20
    assert (
        curve["people"].sum()
        == _read(db, "SELECT people FROM models.card_performance WHERE model = 'lightgbm'")[
            "people"
        ][0]
    )
    assert ((curve["low"] <= curve["observed"]) & (curve["observed"] <= curve["high"])).all()


def test_the_html_card_shows_every_section(scored_registry):
    model = _read(scored_registry[0], "SELECT * FROM models.trained").row(0, named=True)
    page = card.render_html(model)
    for words in ("Intended use", "must not use", "Synthetic data", "Limits", "The model in use",
                  "Monotone constraints", "PROBAST", "Threshold table", "Net benefit", "Capacity",
                  "Calibration over the whole range", "Eavg"):  # fmt: skip
        assert words in page, words


def test_net_benefit_on_a_small_literal_example():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.6, 0.4, 0.2, 0.1])
    (row,) = metrics.net_benefit(y, p, np.array([0.5]))
    assert (row["tp"], row["fp"]) == (1, 1)
    assert row["model"] == pytest.approx(1 / 5 - 1 / 5 * 1.0)
    assert row["treat_all"] == pytest.approx(0.4 - 0.6)


def test_reviews_needed_to_reach_a_share_of_admissions_on_a_small_literal_example():
    y = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    rows = metrics.reviews_to_reach(y, p)
    assert [r["people_reviewed"] for r in rows] == [1, 3, 5]


def test_the_calibration_plot_draws_a_suppressed_tenth_as_a_gap():
    """A published card has None for a tenth whose counts are too small to disclose."""
    table = [{"expected": 0.1, "observed": None}, {"expected": 0.3, "observed": 0.25}]
    figure = card.calibration_figure({"models": {"lightgbm": {"calibration": table}}})
    assert list(figure.data[1].y) == [None, 0.25]
    assert figure.layout.xaxis.range[1] == pytest.approx(0.3 * 1.05)
