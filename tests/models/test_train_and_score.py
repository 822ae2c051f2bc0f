"""Training, scoring and the model card, on the small seeded population with real LightGBM."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import lightgbm as lgb
import numpy as np
import polars as pl
import pytest

from stratify import features
from stratify.models import card, constraints, reasons
from stratify.models.design import LinearModel, matrix
from stratify.models.risk_model import RiskModel
from stratify.models.score import score
from stratify.models.train import TrainError, latest, load_config, train


def _read(db, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_the_same_seed_gives_the_same_model_and_the_same_scores(
    scored_registry, built_registry, tmp_path
):
    db, _, _ = scored_registry
    again = tmp_path / "again.duckdb"
    shutil.copy(built_registry[0], again)
    con = duckdb.connect(str(again))
    train(con)
    score(con)
    con.close()
    first = _read(db, "SELECT lightgbm_model, calibrator FROM models.trained")
    second = _read(again, "SELECT lightgbm_model, calibrator FROM models.trained")
    assert first.equals(second)
    scores = "SELECT person_id, probability, tier FROM risk.scores ORDER BY person_id"
    assert _read(db, scores).equals(_read(again, scores))


def test_reasons_are_the_models_own_contributions_summed_per_clinical_fact(scored_registry):
    db, _, _ = scored_registry
    model = _read(db, "SELECT * FROM models.trained").row(0, named=True)
    columns = json.loads(model["features"])
    stored = _read(
        db,
        "SELECT r.* FROM risk.reasons AS r JOIN risk.scores AS s USING (person_id, index_date) "
        "WHERE NOT s.incomplete_record ORDER BY person_id, reason_rank",
    )
    assert ((stored["contribution"] > 0) == stored["reason"].str.ends_with("(raises risk)")).all()
    assert ((stored["contribution"] < 0) == stored["reason"].str.ends_with("(lowers risk)")).all()
    # LightGBM's own contributions (pred_contrib over all trees at once) plus the logistic
    # start's, summed over each concept's features, add up with the expected values to the
    # model's log-odds; the stored five are the largest concepts (less any hidden as
    # contradicting medicine), with their sums.
    frame = _read(
        db,
        "SELECT * FROM risk.person_features WHERE NOT incomplete_record ORDER BY person_id LIMIT 400",
    )
    booster = lgb.Booster(model_str=model["lightgbm_model"])
    start = LinearModel(**json.loads(model["baselines"])[model["lightgbm_start"]])
    x = matrix(frame, columns)
    trees = booster.predict(x, pred_contrib=True)
    per_feature = trees[:, :-1] + start.contributions_x(x)
    names, owner = reasons.concepts(columns)
    per_concept = np.zeros((len(x), len(names)))
    np.add.at(per_concept.T, owner, per_feature.T)
    assert np.allclose(
        per_concept.sum(axis=1) + trees[:, -1] + start.expected_margin,
        RiskModel.from_record(model).margin(x), rtol=0, atol=1e-9,
    )  # fmt: skip
    hidden = reasons.contradicts(x, columns)(0, len(x), per_concept)
    magnitude = np.where(hidden, -0.5, np.abs(per_concept))
    top = np.argsort(-magnitude, axis=1, kind="stable")[:, :5]
    mine = stored.filter(pl.col("person_id").is_in(frame["person_id"].implode()))
    assert mine.height == 5 * frame.height
    assert mine["feature"].to_list() == [names[j] for j in top.ravel()]
    expected = np.take_along_axis(per_concept, top, axis=1).ravel()
    assert np.abs(mine["contribution"].to_numpy() - expected).max() < 1e-9


def test_no_persons_five_reasons_repeat_a_clinical_fact(scored_registry):
    db, _, _ = scored_registry
    repeats = _read(
        db,
        "SELECT person_id, index_date, feature FROM risk.reasons GROUP BY ALL HAVING count(*) > 1",
    )
    assert repeats.is_empty()


def test_no_reason_says_admissions_attendances_or_bed_days_lower_risk(scored_registry):
    db, _, _ = scored_registry
    reasons_ = _read(db, "SELECT * FROM risk.reasons")
    said = reasons_.filter(
        pl.col("feature").is_in(["emergency_admissions", "ae_attendances", "bed_days"])
        & pl.col("reason").str.ends_with("(lowers risk)")
    )
    # Only their absence may lower risk: "no emergency admissions in the last 24 months".
    assert said["reason"].str.starts_with("no ").all()
    assert not said["reason"].str.contains(r", \d+ in the last").any()
    assert (
        reasons_.filter(pl.col("feature") == "emergency_admissions")["reason"]
        .str.contains("emergency admission")
        .all()
    )


def test_no_reason_says_a_condition_on_the_register_or_community_contacts_lower_risk(
    scored_registry,
):
    db, _, _ = scored_registry
    reasons_ = _read(db, "SELECT feature, reason FROM risk.reasons")
    on_register = reasons_.filter(pl.col("reason").str.contains(" on the register "))
    assert on_register.height > 0
    assert not on_register["reason"].str.ends_with("(lowers risk)").any()
    contacts = reasons_.filter(
        pl.col("feature").is_in(["community_contacts", "mental_health_contacts"])
        & pl.col("reason").str.ends_with("(lowers risk)")
    )
    assert contacts["reason"].str.starts_with("no ").all()


def test_the_logistic_start_and_the_trees_obey_the_monotone_constraints(scored_registry):
    db, _, _ = scored_registry
    model = _read(db, "SELECT * FROM models.trained").row(0, named=True)
    columns = json.loads(model["features"])
    cfg = load_config()
    signs = constraints.directions(columns, cfg["monotone"])
    assert {
        "emergency_admissions_3m",
        "bed_days_24m",
        "efi",
        "days_since_emergency_admission",
    } <= set(signs)
    coefficients = LinearModel(**json.loads(model["baselines"])["logistic"]).feature_coefficients()
    assert all(coefficients[c] * d >= 0 for c, d in signs.items())
    # More emergency admissions never lower the model's log-odds, for any person.
    frame = _read(db, "SELECT * FROM risk.person_features ORDER BY person_id LIMIT 300")
    risk = RiskModel.from_record(model)
    x = matrix(frame, columns)
    more = x.copy()
    for c in ("emergency_admissions_3m", "emergency_admissions_12m", "bed_days_12m", "efi"):
        more[:, columns.index(c)] += 1
    assert (risk.margin(more) >= risk.margin(x) - 1e-12).all()


def test_lightgbm_is_boosted_from_the_logistic_regression(scored_registry, tmp_path):
    db, trained, _ = scored_registry
    model = _read(db, "SELECT * FROM models.trained").row(0, named=True)
    assert model["lightgbm_start"] == trained["lightgbm_start"] == "logistic"
    # On the people it was trained on: the trees alone are not a model (boosting started from the
    # logistic regression's log-odds, not from the average), and adding them to the logistic
    # regression fits better than the logistic regression alone.
    copy = tmp_path / "again.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    frame = features.compute(con, model["index_date"])
    y = features.outcome(con, model["index_date"])["emergency_admission_12m"].to_numpy()
    con.close()
    x = matrix(frame, json.loads(model["features"]))
    risk = RiskModel.from_record(model)
    logistic = LinearModel(**json.loads(model["baselines"])["logistic"])
    trees = risk.booster.predict(x, raw_score=True)
    start = logistic.margin_x(x)
    assert np.allclose(risk.margin(x), start + trees)
    assert (
        abs(trees.mean()) < 1.0
    )  # from a constant they would carry the average log-odds, about -2.8

    def log_loss(margin: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0, margin) - y * margin))

    assert log_loss(start + trees) < log_loss(start) < log_loss(trees)


def test_the_stored_scores_are_the_models_calibrated_probabilities(scored_registry):
    db, _, _ = scored_registry
    model = _read(db, "SELECT * FROM models.trained").row(0, named=True)
    frame = _read(db, "SELECT * FROM risk.person_features ORDER BY person_id")
    risk = RiskModel.from_record(model)
    x = matrix(frame, json.loads(model["features"]))
    scores = _read(db, "SELECT probability FROM risk.scores ORDER BY person_id")["probability"]
    incomplete = frame["incomplete_record"].to_numpy()
    assert np.allclose(scores.to_numpy(), risk.probability(x, incomplete))
    # Complete records from the full model, incomplete ones from the model of what is known.
    assert np.allclose(scores.to_numpy()[~incomplete], risk.probability(x)[~incomplete])


def test_every_scored_patient_has_five_reasons_in_plain_words(scored_registry):
    db, _, scored = scored_registry
    counts = _read(
        db,
        "SELECT s.person_id, count(r.reason) AS reasons, list(r.reason_rank ORDER BY r.reason_rank) AS ranks "
        "FROM risk.scores AS s LEFT JOIN risk.reasons AS r USING (person_id, index_date) GROUP BY ALL",
    )
    assert counts.height == scored["people"] == scored["with_reasons"]
    assert (counts["reasons"] == 5).all()
    assert counts["ranks"].to_list() == [[1, 2, 3, 4, 5]] * counts.height
    assert scored["reasons_method"] == "per-tree patterns"
    text = _read(db, "SELECT reason FROM risk.reasons")["reason"].to_list()
    assert not any("_" in t.split(" (")[0] for t in text)  # no raw feature names shown
    assert "aged " in " ".join(text) and all(
        t.endswith("risk)") or t.endswith("effect)") for t in text
    )


@pytest.mark.parametrize(
    ("feature", "value", "words"),
    [("emergency_admissions_12m", 3, "3 emergency admissions in the last 12 months"),
     ("ae_attendances_3m", 1, "1 A&E attendance in the last 3 months"),
     ("outpatient_dna_24m", 0, "no missed outpatient appointments in the last 24 months"),
     ("heart_failure", 1, "heart failure on the register"), ("age", 84.0, "aged 84"),
     ("efi", 0.31, "eFI 0.31 (moderate frailty)"), ("latest_hba1c", float("nan"), "no HbA1c recorded"),
     ("days_since_emergency_admission", 12, "last emergency admission 12 days ago")],
)  # fmt: skip
def test_reasons_are_worded_for_a_clinician(feature, value, words):
    from stratify.models.reasons import describe

    assert describe(feature, value) == words


def test_tiers_follow_the_configured_shares_of_the_population(scored_registry):
    db, _, scored = scored_registry
    n = scored["people"]
    assert scored["tiers"]["very_high"] == round(0.005 * n)
    assert scored["tiers"]["very_high"] + scored["tiers"]["high"] == round(0.05 * n)
    assert sum(scored["tiers"].values()) == n
    ranks = _read(
        db,
        "SELECT tier, min(probability) AS lo, max(probability) AS hi FROM risk.scores GROUP BY tier",
    )
    by = {r["tier"]: r for r in ranks.iter_rows(named=True)}
    assert by["very_high"]["lo"] >= by["high"]["hi"] >= by["moderate"]["hi"] - 1e-12


def test_cohort_flags_follow_their_definitions(scored_registry):
    db, _, _ = scored_registry
    rows = _read(
        db,
        "SELECT s.frail, s.diabetic, s.tier, f.age, f.efi_category, f.diabetes_type1, f.diabetes_type2 "
        "FROM risk.scores AS s JOIN risk.person_features AS f USING (person_id, index_date)",
    )
    frail = rows["efi_category"].is_in(["moderate", "severe"]) | (
        (rows["age"] >= 65) & rows["tier"].is_in(["very_high", "high"])
    )
    assert (rows["frail"] == frail).all()
    assert (rows["diabetic"] == ((rows["diabetes_type1"] + rows["diabetes_type2"]) > 0)).all()


def test_the_model_card_holds_every_metric_for_every_model(scored_registry, tmp_path):
    db, trained, _ = scored_registry
    model = _read(db, "SELECT * FROM models.trained").row(0, named=True)
    content = json.loads(model["card"])
    assert set(content["models"]) == {"lightgbm", "prior_admissions", "efi_and_age", "logistic"}
    for entry in content["models"].values():
        o = entry["overall"]
        for key in ("auroc", "auroc_low", "auroc_high", "auprc", "brier", "calibration_slope",
                    "calibration_intercept", "observed_over_expected", "ppv_top_1pct",
                    "sensitivity_top_1pct", "ppv_top_5pct", "sensitivity_top_5pct", "ppv_top_10pct",
                    "sensitivity_top_10pct"):  # fmt: skip
            assert o[key] == o[key], key  # present and not NaN
        assert o["auroc_low"] < o["auroc"] < o["auroc_high"]
        assert len(entry["calibration"]) == 10
        assert set(entry["subgroups"]) == {
            "age band",
            "sex",
            "deprivation quintile",
            "ethnic group",
        }
    assert set(content["comparisons"]) == {
        "lightgbm_minus_prior_admissions", "lightgbm_minus_logistic", "lightgbm_minus_efi_and_age"
    }  # fmt: skip
    page = card.render_html(model)
    for words in ("Data window", "Population", "AUROC (95 % CI)", "Calibration on the test set",
                  "LightGBM by group", "Warnings", "plotly"):  # fmt: skip
        assert words in page
    assert trained["test"]["lightgbm"]["auroc"] > 0.6


def test_a_training_date_whose_outcome_year_is_not_over_is_refused(built_registry, tmp_path):
    copy = tmp_path / "r.duckdb"
    shutil.copy(built_registry[0], copy)
    con = duckdb.connect(str(copy))
    with pytest.raises(TrainError, match="after the data cut 2026-10-31"):
        train(con, index_date=date(2026, 3, 1))
    con.close()


def test_scoring_without_a_model_says_what_to_run(built_registry, tmp_path):
    copy = tmp_path / "r.duckdb"
    shutil.copy(built_registry[0], copy)
    con = duckdb.connect(str(copy))
    with pytest.raises(TrainError, match="run stratify train first"):
        latest(con)
    con.close()
