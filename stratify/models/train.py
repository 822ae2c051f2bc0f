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
from stratify.models import calibration, card, constraints
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
    start = cfg.get("lightgbm_start") or "none"
    if start not in ("none", "logistic"):  # a start must read the same features as the trees
        raise TrainError(f"lightgbm_start in {CONFIG.name} must be none or logistic, not {start}")
    monotone = cfg.get("monotone") or {}
    # The full model learns from complete records only; everyone (complete or not) trains the
    # model that reads only what is known for everyone, which scores the incomplete records.
    complete = ~frame["incomplete_record"].to_numpy()
    full_part = np.where(complete | (part == 2), part, -1)
    train_rows = frame.filter(pl.Series(full_part == 0))
    linear = {
        name: LinearModel.fit(train_rows, cols, y[full_part == 0], c=1e4)
        for name, cols in BASELINES.items()
    }
    linear["logistic"] = LinearModel.fit(
        train_rows, columns, y[full_part == 0], signs=constraints.directions(columns, monotone)
    )
    say(f"baselines fitted ({time.perf_counter() - t:.1f}s)")
    t = time.perf_counter()
    logistic_margin = linear["logistic"].margin_x(x)
    init = logistic_margin if start == "logistic" else None
    params, search, booster = _choose_params(x, y, full_part, columns, cfg, init, monotone)
    margin = booster.predict(x, raw_score=True, num_threads=2)
    raw = expit(margin if init is None else margin + init)
    calibrator, calibration_scores = calibration.choose(
        raw[full_part == 1], y[full_part == 1], cfg["seed"]
    )
    say(f"LightGBM from {start}: {booster.best_iteration} trees "
        f"(learning rate {params['learning_rate']}, {params['num_leaves']} leaves, min leaf "
        f"{params['min_child_samples']}), calibration {calibrator.method} "
        f"({time.perf_counter() - t:.1f}s)")  # fmt: skip
    t = time.perf_counter()
    known = _fit_known(frame, x, y, part, columns, cfg, params, monotone, start)
    say(f"model for incomplete records ({len(known['features'])} features known for everyone): "
        f"{known['trees']} trees ({time.perf_counter() - t:.1f}s)")  # fmt: skip
    incomplete = ~complete
    combined = calibrator(raw)
    combined[incomplete] = known["probability"][incomplete]
    predictions = {"lightgbm": combined, "logistic": expit(logistic_margin)}
    for name in BASELINES:
        predictions[name] = linear[name].predict(frame)
    t = time.perf_counter()
    cost = _constraint_cost(frame, x, y, full_part, columns, cfg, params, raw, linear, start)
    say(
        f"the same models without monotone constraints, for their cost ({time.perf_counter() - t:.1f}s)"
    )
    test = part == 2
    evaluation = card.evaluate(
        frame.filter(pl.Series(test)), y[test], {k: v[test] for k, v in predictions.items()}, cfg
    )
    evaluation["facts"] = card.facts(
        con, cfg, booster, params, search, calibrator.method, start, frame, y, part, known, cost,
        constraints.listing(columns, monotone),
    )  # fmt: skip
    vs = evaluation["comparisons"]["lightgbm_minus_logistic"]
    if vs["low"] <= 0 and not evaluation["facts"]["logistic_in_effect"]:
        evaluation["facts"]["model_in_use"] += (
            f" On the test part it does not clearly beat the logistic regression alone (AUROC "
            f"difference {vs['difference']:+.3f}, 95 % interval {vs['low']:+.3f} to {vs['high']:+.3f}): "
            "the logistic regression carries the model and the trees add little."
        )
    evaluation["warnings"] += evaluation["facts"]["warnings"]
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
        "known_model": json.dumps({k: v for k, v in known.items() if k != "probability"}),
    }
    _store(con, record)
    card.store_tables(con, model_id, evaluation)
    summary = {
        "model_id": model_id,
        "index_date": index_date.isoformat(),
        "data_cut": cut.isoformat(),
        "people": frame.height,
        "outcome_rate": round(float(y.mean()), 4),
        "trees": booster.best_iteration,
        "lightgbm_params": {k: params[k] for k in SEARCHED},
        "constraint_cost": cost,
        "lightgbm_start": start,
        "calibration": calibrator.method,
        "test": {k: card.headline(v) for k, v in evaluation["models"].items()},
        "comparisons": evaluation["comparisons"],
        "warnings": evaluation["warnings"],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return summary


SEARCHED = ("learning_rate", "num_leaves", "min_child_samples")


def _fit_lightgbm(
    x, y, part, columns, cfg, init: np.ndarray | None = None, chosen: dict | None = None,
    monotone: dict | None = None,
) -> lgb.Booster:  # fmt: skip
    """Early stopping on the validation part; `init` is the log-odds boosting starts from;
    `chosen` overrides the searched settings; `monotone` (risk.yaml's) constrains the trees."""
    p = {**cfg["lightgbm"], **{k: v for k, v in (chosen or {}).items() if k in SEARCHED}}
    rounds, stopping = p.pop("max_rounds"), p.pop("early_stopping_rounds")
    method = p.pop("monotone_constraints_method", "basic")
    vector = constraints.vector(columns, monotone or {})
    if any(vector):
        p["monotone_constraints"] = vector
        p["monotone_constraints_method"] = method
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


def _choose_params(
    x, y, part, columns, cfg, init, monotone
) -> tuple[dict, list[dict], lgb.Booster]:
    """The candidate in risk.yaml's lightgbm_search with the lowest validation log-loss (all
    settings in risk.yaml's lightgbm when there is no search), its booster, and every try."""
    candidates = cfg.get("lightgbm_search") or []
    if not candidates or len(y) > cfg.get("lightgbm_search_max_people", np.inf):
        candidates = [{k: cfg["lightgbm"][k] for k in SEARCHED}]
    tried, best, best_loss = [], None, np.inf
    for candidate in candidates:
        booster = _fit_lightgbm(x, y, part, columns, cfg, init, candidate, monotone)
        loss = booster.best_score["valid_0"]["binary_logloss"]
        tried.append({**candidate, "trees": booster.best_iteration, "validation_logloss": loss})
        if loss < best_loss:
            best, best_loss = (candidate, booster), loss
    return {k: best[0][k] for k in SEARCHED}, tried, best[1]


def _fit_known(frame, x, y, part, columns, cfg, params, monotone, start) -> dict:
    """The model of what is known for everyone (features.known_columns), trained on everyone,
    with its own logistic start and calibration: it scores the incomplete records."""
    known = features.known_columns(columns)
    idx = [columns.index(c) for c in known]
    xk = np.ascontiguousarray(x[:, idx])
    linear = LinearModel.fit(
        frame.filter(pl.Series(part == 0)), known, y[part == 0],
        signs=constraints.directions(known, monotone),
    )  # fmt: skip
    init = linear.margin_x(xk) if start == "logistic" else None
    booster = _fit_lightgbm(xk, y, part, known, cfg, init, params, monotone)
    margin = booster.predict(xk, raw_score=True, num_threads=2)
    raw = expit(margin if init is None else margin + init)
    calibrator, _ = calibration.choose(raw[part == 1], y[part == 1], cfg["seed"])
    return {
        "features": known,
        "lightgbm_model": booster.model_to_string(),
        "start": asdict(linear) if start == "logistic" else None,
        "calibrator": calibrator.to_dict(),
        "trees": booster.best_iteration,
        "probability": calibrator(raw),
    }


def _constraint_cost(frame, x, y, part, columns, cfg, params, constrained, linear, start) -> dict:
    """Test AUROC with and without the monotone constraints, LightGBM and its logistic start
    each fitted again without them (same settings, same split)."""
    from sklearn.metrics import roc_auc_score

    free_linear = LinearModel.fit(frame.filter(pl.Series(part == 0)), columns, y[part == 0])
    free_margin = free_linear.margin_x(x)
    init = free_margin if start == "logistic" else None
    free = _fit_lightgbm(x, y, part, columns, cfg, init, params, None)
    free_raw = free.predict(x, raw_score=True, num_threads=2) + (0 if init is None else init)
    test = part == 2
    auc = {
        "lightgbm_constrained": roc_auc_score(y[test], constrained[test]),
        "lightgbm_unconstrained": roc_auc_score(y[test], free_raw[test]),
        "logistic_constrained": roc_auc_score(y[test], linear["logistic"].margin_x(x[test])),
        "logistic_unconstrained": roc_auc_score(y[test], free_margin[test]),
        "unconstrained_trees": free.best_iteration,
    }
    wrong = {
        c: round(v, 4)
        for c, v in free_linear.feature_coefficients().items()
        if c in constraints.directions(columns, cfg.get("monotone") or {})
        and v * constraints.directions(columns, cfg["monotone"])[c] < 0
    }
    return {**{k: float(v) for k, v in auc.items()}, "unconstrained_logistic_wrong_signs": wrong}


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
    # added in config 1.2.0: the model of what is known for everyone, for incomplete records
    con.execute("ALTER TABLE models.trained ADD COLUMN IF NOT EXISTS known_model JSON")
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
