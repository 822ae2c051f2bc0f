"""Score every living registered patient at the data cut: probability, tier, cohorts, reasons."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl
from scipy.special import expit

from stratify import features
from stratify.models import contributions, reasons, train
from stratify.models.design import matrix
from stratify.models.risk_model import RiskModel
from stratify.registry.models import run_model

TIER_ORDER = ("very_high", "high", "moderate", "low")
# Columns added to risk.scores after its first version (an older database gains them), and the
# trajectory flags sql/risk/trajectory.sql fills from the stored monthly scores.
TRAJECTORY = (("high_scores_in_last_6", "INTEGER"), ("persistently_high", "BOOLEAN"),
              ("newly_high", "BOOLEAN"), ("rising_frailty", "BOOLEAN"),
              ("efi_category_year_before", "VARCHAR"))  # fmt: skip
TABLE_ADDITIONS = {
    "risk.scores": (
        ("incomplete_record", "BOOLEAN"),
        ("incomplete_because", "VARCHAR"),
        *TRAJECTORY,
    ),
}
PERSON_FEATURE_ADDITIONS = (("gp_record", "BOOLEAN"), ("incomplete_record", "BOOLEAN"),
                            ("incomplete_because", "VARCHAR"))  # fmt: skip
REASONS = 5  # reasons stored per person


def tiers(probability: np.ndarray, shares: list[dict]) -> np.ndarray:
    """Tier by rank: the first round(share x n) highest-risk people form the first tier, and so on
    (ties broken by row order, so the counts are exact)."""
    n = len(probability)
    order = np.argsort(-probability, kind="stable")
    ends = np.round(np.cumsum([t["share"] for t in shares]) * n).astype(int)
    ends[-1] = n
    rank_tier = np.searchsorted(ends, np.arange(1, n + 1), side="left")
    out = np.empty(n, dtype=object)
    out[order] = np.array([t["name"] for t in shares])[rank_tier]
    return out.astype(str)


def score(
    con: duckdb.DuckDBPyConnection,
    index_date: date | None = None,
    all_reasons: bool = True,
    say=lambda _m: None,
) -> dict:
    """Score on `index_date` (default: the day after the data cut) with the latest model, with
    the top five reasons (the model's own contributions: trees and linear start) for everyone scored.

    `all_reasons` is kept for callers of the earlier interface and has no effect: reasons are
    always computed for everyone (stratify.models.contributions makes that cheap)."""
    cfg = train.load_config()
    model = train.latest(con)
    cut = train.data_cut(con)
    index_date = index_date or cut + timedelta(days=1)
    t0 = time.perf_counter()
    frame = features.compute(con, index_date)
    columns = json.loads(model["features"])
    x = matrix(frame, columns)
    timings = {"features": time.perf_counter() - t0}
    t = time.perf_counter()
    risk_model = RiskModel.from_record(model)
    incomplete = frame["incomplete_record"].to_numpy().astype(bool)
    margin, probability = risk_model.predict(x, incomplete, columns)
    raw = expit(margin)
    known, xk = risk_model.known, None
    if known is not None and incomplete.any():  # scored from what is known for everyone
        xk = np.ascontiguousarray(x[np.ix_(incomplete, [columns.index(c) for c in known.columns])])
    # Rank on calibrated risk, ties by the raw score: within one model calibration keeps the raw
    # order (isotonic steps would otherwise leave ties that row order breaks at random), and
    # across the two models it compares like with like.
    rank_key = np.lexsort((raw, probability))[::-1]
    order_key = np.empty(len(raw))
    order_key[rank_key] = np.arange(len(raw), 0, -1)
    tier = tiers(order_key, cfg["tiers"])
    timings["predict"] = time.perf_counter() - t
    say(f"scored {frame.height:,} people on {index_date} ({time.perf_counter() - t0:.1f}s)")
    frail = frame["efi_category"].is_in(["moderate", "severe"]).to_numpy() | (
        (frame["age"].to_numpy() >= 65) & np.isin(tier, ["very_high", "high"])
    )
    diabetic = (frame["diabetes_type1"] + frame["diabetes_type2"]).to_numpy() > 0
    t = time.perf_counter()
    person_id = frame["person_id"].to_numpy()
    parts, hidden = [], 0
    for rows, model_x, m, cols in (
        (~incomplete if xk is not None else np.ones(len(x), dtype=bool), None, risk_model, columns),
        (incomplete, xk, known, known.columns if known is not None else None),
    ):
        if m is None or not rows.any():
            continue
        mx = x[rows] if model_x is None else model_x
        _, groups = reasons.concepts(cols)
        top = contributions.top_contributions(
            m.booster, mx, k=REASONS, num_threads=2, linear=m.start, groups=groups,
            hide=reasons.contradicts(mx, cols),
        )  # fmt: skip
        # The contributions with the expected value add up to the model's log-odds for every row.
        if not np.allclose(top["total"], margin[rows], rtol=0, atol=1e-9):
            raise RuntimeError("contributions do not add up to the model's prediction")
        hidden += top["hidden"]
        parts.append(reasons.frame(person_id[rows], top["index"], top["contribution"], mx, cols))
    reason_rows = pl.concat(parts).with_columns(
        index_date=pl.lit(index_date), model_id=pl.lit(model["model_id"])
    )
    timings["reasons"] = time.perf_counter() - t
    say(f"{REASONS} reasons for each of {frame.height:,} people, one per clinical fact "
        f"({time.perf_counter() - t0:.1f}s)")  # fmt: skip
    t = time.perf_counter()
    scores = pl.DataFrame(
        {
            "model_id": model["model_id"],
            "build_id": model["build_id"],
            "index_date": index_date,
            "person_id": person_id,
            "probability": probability,
            "rank": pl.Series(order_key).rank("ordinal", descending=True).cast(pl.Int64),
            "tier": tier,
            "incomplete_record": incomplete,
            "incomplete_because": frame["incomplete_because"],
            "frail": frail,
            "diabetic": diabetic,
        }
    )
    _store(con, index_date, scores, reason_rows)
    timings["store"] = time.perf_counter() - t
    counts = scores.group_by("tier").len()
    return {
        "model_id": model["model_id"],
        "index_date": index_date.isoformat(),
        "people": scores.height,
        "tiers": {t: int(counts.filter(pl.col("tier") == t)["len"].sum()) for t in TIER_ORDER},
        "frail": int(frail.sum()),
        "diabetic": int(diabetic.sum()),
        "with_reasons": reason_rows["person_id"].n_unique(),
        "reasons_method": top["method"],
        "incomplete_records": int(incomplete.sum()),
        "hidden_contradicting_reasons": hidden,
        "trajectory": _trajectory_counts(con, index_date),
        "mean_probability": round(float(probability.mean()), 4),
        "seconds": round(time.perf_counter() - t0, 1),
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }


def _store(
    con: duckdb.DuckDBPyConnection, index_date: date, scores: pl.DataFrame, why: pl.DataFrame
) -> None:
    """Replace this index date's scores, reasons and feature snapshot; keep other months' (history)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS risk")
    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame in (("risk.scores", scores), ("risk.reasons", why)):
            con.register("__frame", frame.to_arrow())
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM __frame LIMIT 0")
            for name, kind in TABLE_ADDITIONS.get(table, ()):  # tables made by earlier versions
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")
            con.execute(f"DELETE FROM {table} WHERE index_date = ?", [index_date])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM __frame")
            con.unregister("__frame")
        con.execute(
            "CREATE TABLE IF NOT EXISTS risk.person_features AS SELECT * FROM features.person_features LIMIT 0"
        )
        con.execute("DELETE FROM risk.person_features WHERE index_date = ?", [index_date])
        for name, kind in PERSON_FEATURE_ADDITIONS:
            con.execute(f"ALTER TABLE risk.person_features ADD COLUMN IF NOT EXISTS {name} {kind}")
        con.execute(
            "INSERT INTO risk.person_features BY NAME SELECT * FROM features.person_features"
        )
        run_model(con, "risk/trajectory", {"index_date": index_date})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _trajectory_counts(con: duckdb.DuckDBPyConnection, index_date: date) -> dict:
    row = con.execute(
        "SELECT count(*) FILTER (WHERE persistently_high), count(*) FILTER (WHERE newly_high), "
        "count(*) FILTER (WHERE rising_frailty), count(DISTINCT index_date) FROM risk.scores "
        "WHERE index_date = ?",
        [index_date],
    ).fetchall()[0]
    months = con.execute(
        "SELECT count(DISTINCT index_date) FROM risk.scores WHERE index_date <= ?", [index_date]
    ).fetchall()[0][0]
    return {"persistently_high": row[0], "newly_high": row[1], "rising_frailty": row[2],
            "monthly_scores_stored": months}  # fmt: skip
