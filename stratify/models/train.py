"""Train the emergency-admission model and its baselines on the registry; store them with a card.

Index date: 12 months before the data cut by default, so that the outcome year is fully observed
in the feeds. Split (seeded, stratified by outcome): train / validation (early stopping and the
choice of calibration) / test (everything the card reports).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import polars as pl
import yaml
from scipy.special import expit

from stratify import features
from stratify.dates import add_years
from stratify.models import calibration, card
from stratify.models.design import LinearModel, categorical_indices, matrix

CONFIG = Path(__file__).with_name("risk.yaml")
BASELINES = {
    "prior_admissions": ["emergency_admissions_12m"],
    "efi_and_age": ["efi", "age"],
}


class TrainError(Exception):
    """Training cannot proceed (no registry, outcome window not observed, too few events)."""


def load_config(path: Path = CONFIG) -> dict:
    return yaml.safe_load(Path(path).read_text())


def data_cut(con: duckdb.DuckDBPyConnection) -> date:
    try:
        return con.execute("SELECT data_cut FROM registry.build_info").fetchall()[0][0]
    except duckdb.Error as exc:
        raise TrainError("no registry in this database; run stratify build first") from exc


def default_training_index(cut: date) -> date:
    """The day after the data cut, one year earlier: its outcome year ends on the data cut."""
    after = cut + timedelta(days=1)
    return add_years(after, -1)


def _split(y: np.ndarray, shares: dict, seed: int) -> np.ndarray:
    """0 train, 1 validation, 2 test; stratified by outcome so each part has its share of events."""
    rng = np.random.default_rng(seed)
    part = np.zeros(len(y), dtype=int)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        n_train = int(round(len(idx) * shares["train"]))
        n_valid = int(round(len(idx) * shares["validation"]))
        part[idx[n_train : n_train + n_valid]] = 1
        part[idx[n_train + n_valid :]] = 2
    return part


def train(
    con: duckdb.DuckDBPyConnection,
    index_date: date | None = None,
    config: dict | None = None,
    say=lambda _m: None,
) -> dict:
    """Fit LightGBM (+ calibration) and three baselines; store models and the model card."""
    cfg = config or load_config()
    cut = data_cut(con)
    index_date = index_date or default_training_index(cut)
    outcome_end = add_years(index_date, 1)
    if outcome_end > cut + timedelta(days=1):
        raise TrainError(
            f"the outcome year from {index_date} ends {outcome_end}, after the data cut {cut}; "
            "choose an index date at least 12 months before the cut"
        )
    t0 = time.perf_counter()
    frame = features.compute(con, index_date)
    y = features.outcome(con, index_date)["emergency_admission_12m"].to_numpy()
    if y.sum() < 50:
        raise TrainError(f"only {int(y.sum())} emergency admissions in the outcome year; need 50+")
    say(f"features on {index_date}: {frame.height:,} people, {len(features.model_columns(frame))} features, "
        f"outcome rate {y.mean():.2%} ({time.perf_counter() - t0:.1f}s)")  # fmt: skip
    part = _split(y, cfg["split"], cfg["seed"])
    columns = features.model_columns(frame)
    x = matrix(frame, columns)

    t = time.perf_counter()
    train_rows = frame.filter(pl.Series(part == 0))
    linear = {
        name: LinearModel.fit(train_rows, cols, y[part == 0], c=1.0 if name == "logistic" else 1e4)
        for name, cols in {**BASELINES, "logistic": columns}.items()
    }
    say(f"baselines fitted ({time.perf_counter() - t:.1f}s)")
    t = time.perf_counter()
    start = cfg.get("lightgbm_start") or "none"
    if start not in ("none", "logistic"):  # a start must read the same features as the trees
        raise TrainError(f"lightgbm_start in {CONFIG.name} must be none or logistic, not {start}")
    logistic_margin = linear["logistic"].margin_x(x)
    init = logistic_margin if start == "logistic" else None
    booster = _fit_lightgbm(x, y, part, columns, cfg, init)
    margin = booster.predict(x, raw_score=True, num_threads=2)
    raw = expit(margin if init is None else margin + init)
    calibrator, calibration_scores = calibration.choose(raw[part == 1], y[part == 1], cfg["seed"])
    say(f"LightGBM from {start}: {booster.best_iteration} trees, calibration {calibrator.method} "
        f"({time.perf_counter() - t:.1f}s)")  # fmt: skip
    predictions = {"lightgbm": calibrator(raw), "logistic": expit(logistic_margin)}
    for name in BASELINES:
        predictions[name] = linear[name].predict(frame)

    test = part == 2
    evaluation = card.evaluate(
        frame.filter(pl.Series(test)), y[test], {k: v[test] for k, v in predictions.items()}, cfg
    )
    model_id = str(uuid.uuid4())
    record = {
        "model_id": model_id,
        "trained_at": datetime.now().replace(microsecond=0),
        "index_date": index_date,
        "data_cut": cut,
        "build_id": con.execute("SELECT build_id FROM registry.build_info").fetchall()[0][0],
        "config_version": cfg["version"],
        "features": json.dumps(columns),
        "lightgbm_model": booster.model_to_string(),
        "lightgbm_start": None if start == "none" else start,
        "calibrator": json.dumps(calibrator.to_dict()),
        "baselines": json.dumps({k: asdict(v) for k, v in linear.items()}),
        "calibration_choice": json.dumps(calibration_scores),
        "population": frame.height,
        "outcome_rate": float(y.mean()),
        "card": json.dumps(evaluation, default=float),
    }
    _store(con, record)
    summary = {
        "model_id": model_id,
        "index_date": index_date.isoformat(),
        "data_cut": cut.isoformat(),
        "people": frame.height,
        "outcome_rate": round(float(y.mean()), 4),
        "trees": booster.best_iteration,
        "lightgbm_start": start,
        "calibration": calibrator.method,
        "test": {k: card.headline(v) for k, v in evaluation["models"].items()},
        "comparisons": evaluation["comparisons"],
        "warnings": evaluation["warnings"],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return summary


def _fit_lightgbm(x, y, part, columns, cfg, init: np.ndarray | None = None) -> lgb.Booster:
    """Early stopping on the validation part; `init` is the log-odds boosting starts from."""
    p = dict(cfg["lightgbm"])
    rounds, stopping = p.pop("max_rounds"), p.pop("early_stopping_rounds")
    params = {
        **p,
        "seed": cfg["seed"],
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "verbose": -1,
        "metric": "binary_logloss",
    }
    cats = categorical_indices(columns)
    train_set = lgb.Dataset(
        x[part == 0],
        y[part == 0],
        init_score=None if init is None else init[part == 0],
        feature_name=columns,
        categorical_feature=cats,
        free_raw_data=False,
    )
    valid_set = lgb.Dataset(
        x[part == 1], y[part == 1], reference=train_set, categorical_feature=cats,
        init_score=None if init is None else init[part == 1],
    )  # fmt: skip
    return lgb.train(
        params, train_set, num_boost_round=rounds, valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(stopping, verbose=False)],
    )  # fmt: skip


def _store(con: duckdb.DuckDBPyConnection, record: dict) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS models")
    con.execute(
        "CREATE TABLE IF NOT EXISTS models.trained (model_id VARCHAR PRIMARY KEY, trained_at TIMESTAMP, "
        "index_date DATE, data_cut DATE, build_id VARCHAR, config_version VARCHAR, features JSON, "
        "lightgbm_model VARCHAR, calibrator JSON, baselines JSON, calibration_choice JSON, "
        "population BIGINT, outcome_rate DOUBLE, card JSON)"
    )
    # added in config 1.1.0: which baseline the trees were boosted from (NULL: a constant)
    con.execute("ALTER TABLE models.trained ADD COLUMN IF NOT EXISTS lightgbm_start VARCHAR")
    columns = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO models.trained ({columns}) VALUES ({marks})", list(record.values()))


def latest(con: duckdb.DuckDBPyConnection) -> dict:
    """The most recently trained model, as stored."""
    try:
        rows = con.sql(
            "SELECT * FROM models.trained ORDER BY trained_at DESC, model_id LIMIT 1"
        ).pl()
    except duckdb.Error as exc:
        raise TrainError("no trained model in this database; run stratify train first") from exc
    if rows.is_empty():
        raise TrainError("no trained model in this database; run stratify train first")
    return rows.row(0, named=True)
