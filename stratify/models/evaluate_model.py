"""Prospective evaluation: the scores made at the data cut against what happened in the following
12 months (from the generator's ground truth), beside the oracle (the true probability).

Evaluation only: no pipeline stage reads ground truth.

Per deprivation quintile it also gives what separates the model's error from chance: the
oracle's observed/expected on the same people (chance alone, since the oracle is right by
construction), the model's expected count against the true one (the model alone, free of the
outcome year's chance), and the 95 % limits a perfectly calibrated model's observed/expected
would fall within (the funnel-plot limits, from the sum of p(1 - p))."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from stratify import database
from stratify.models import metrics


def evaluate(db: Path, truth: Path) -> dict:
    risk = pl.read_parquet(Path(truth) / "risk.parquet")
    links = pl.read_parquet(Path(truth) / "links.parquet").filter(pl.col("feed") == "patients")
    con = database.connect(db, read_only=True)
    try:
        index_date = con.execute("SELECT max(index_date) FROM risk.scores").fetchall()[0][0]
        con.register("truth_risk", risk.filter(pl.col("index_date") == index_date).to_arrow())
        con.register("truth_links", links.to_arrow())
        frame = con.sql(
            """
            SELECT s.probability, s.tier, f.imd_quintile, t.true_probability,
                   CAST(t.emergency_admission AS INTEGER) AS outcome
            FROM risk.scores AS s
            JOIN risk.person_features AS f USING (person_id, index_date)
            JOIN registry.person AS p USING (person_id)
            JOIN staging.patients AS sp ON sp.nhs_number = p.nhs_number
            JOIN truth_links AS l ON l.row_number = sp.source_row
            JOIN truth_risk AS t ON t.person_id = l.person_id
            WHERE s.index_date = (SELECT max(index_date) FROM risk.scores)
            """
        ).pl()
    finally:
        con.close()
    y = frame["outcome"].to_numpy()
    p = frame["probability"].to_numpy()
    model = metrics.summary(y, p)
    oracle = metrics.summary(y, frame["true_probability"].to_numpy())
    true_p = frame["true_probability"].to_numpy()
    quintile = frame["imd_quintile"].to_numpy()
    by_quintile = {
        str(q): _group(y[quintile == q], p[quintile == q], true_p[quintile == q])
        for q in range(1, 6)
        if (quintile == q).any()
    }
    return {
        "index_date": str(index_date),
        "people": int(len(y)),
        "outcome_rate": float(np.mean(y)),
        "model": model,
        "oracle_auroc": oracle["auroc"],
        "gap_to_oracle": oracle["auroc"] - model["auroc"],
        "observed_over_expected_by_deprivation_quintile": by_quintile,
    }


def _group(y: np.ndarray, p: np.ndarray, true_p: np.ndarray) -> dict:
    summary = metrics.summary(y, p)
    expected = float(p.sum())
    half = 1.96 * float(np.sqrt((p * (1 - p)).sum())) / expected
    return {
        **{k: summary[k] for k in ("people", "events", "observed_over_expected", "auroc")},
        "limits_if_calibrated": [1 - half, 1 + half],
        "oracle_observed_over_expected": float(y.sum() / true_p.sum()),
        "true_over_expected": float(true_p.sum()) / expected,
    }
