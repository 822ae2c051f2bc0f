"""The risk targets on a 30,000-patient population, with tolerances in proportion to its size.

The full-size figures (100,000 and 900,000 patients) come from bench/ and are in the README."""

from __future__ import annotations

import duckdb
import pytest

from stratify.models.evaluate_model import evaluate
from stratify.models.score import score
from stratify.models.train import train
from stratify.registry.build import build
from stratify.synth.config import SynthConfig
from stratify.synth.generator import synthesise


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    out = tmp_path_factory.mktemp("targets")
    synthesise(SynthConfig(patients=30_000, seed=2026), out, "parquet")
    db = out / "stratify.duckdb"
    build(out / "feeds", db)
    con = duckdb.connect(str(db))
    trained = train(con)
    score(con)
    con.close()
    return trained, evaluate(db, out / "ground_truth")


def test_lightgbm_comes_close_to_the_oracle_prospectively(pipeline):
    _, result = pipeline
    # target at 100,000: within 0.02; at 30,000 the AUROC's standard error is about 0.012
    assert result["gap_to_oracle"] <= 0.04
    assert result["model"]["auroc_low"] <= result["oracle_auroc"]


def test_the_scores_are_calibrated_prospectively(pipeline):
    _, result = pipeline
    assert 0.8 <= result["model"]["calibration_slope"] <= 1.2  # target 0.9-1.1 at 100,000
    assert 0.9 <= result["model"]["observed_over_expected"] <= 1.1  # target 0.95-1.05


def test_lightgbm_beats_the_prior_admissions_baseline_by_at_least_003(pipeline):
    trained, _ = pipeline
    assert trained["comparisons"]["lightgbm_minus_prior_admissions"]["difference"] >= 0.03
    logistic = trained["comparisons"]["lightgbm_minus_logistic"]
    assert logistic["low"] <= logistic["difference"] <= logistic["high"]
