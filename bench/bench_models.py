"""Feature, training and scoring times at scale (prints figures, not a test).

Targets at 1,000,000 patients on 2 cores: features < 2 min, training < 3 min, scoring < 30 s.
Run on a built registry: .venv/bin/python bench/bench_models.py --db PATH [--truth DIR]
[--score-runs N]. Scoring includes features, prediction, the top five reasons for everyone
(the model's own contributions) and storing; its parts are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import duckdb

from stratify import database, features
from stratify.models.score import score
from stratify.models.train import default_training_index, train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--truth", type=Path, default=None, help="ground truth for evaluate-model")
    parser.add_argument("--score-runs", type=int, default=2, help="how many times to time scoring")
    parser.add_argument(
        "--checks-only", action="store_true",
        help="no timing: only the reason checks (and evaluate-model with --truth) on a scored database",
    )  # fmt: skip
    args = parser.parse_args()
    if args.checks_only:
        con = database.connect(args.db, read_only=True)
        reason_checks(con)
        con.close()
        evaluate_against_truth(args)
        return
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}"
    )
    con = database.connect(args.db)
    con.execute("SET memory_limit = '6GB'")
    people = con.execute("SELECT count(*) FROM registry.person").fetchall()[0][0]
    cut = con.execute("SELECT data_cut FROM registry.build_info").fetchall()[0][0]
    print(f"registry: {people:,} people, data cut {cut}")
    t = time.perf_counter()
    frame = features.compute(con, default_training_index(cut))
    print(
        f"features (one index date) {time.perf_counter() - t:8.1f} s   {frame.height:,} people x {frame.width} columns  (target < 120 s at 1M)"
    )
    t = time.perf_counter()
    summary = train(con)
    print(
        f"train (incl. features)    {time.perf_counter() - t:8.1f} s   {summary['trees']} trees, test AUROC {summary['test']['lightgbm']['auroc']:.3f}  (target < 180 s at 1M)"
    )
    for run in range(1, args.score_runs + 1):  # the machine may be shared: repeat
        t = time.perf_counter()
        scored = score(con, say=lambda m: print("   ", m))
        total = time.perf_counter() - t
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in scored["timings"].items())
        print(
            f"score (incl. features)    {total:8.1f} s   run {run}: {scored['people']:,} people, reasons for {scored['with_reasons']:,} ({parts})  (target < 30 s at 1M)"
        )
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak memory               {peak:8.2f} GB")
    con = database.connect(args.db, read_only=True)
    reason_checks(con)
    con.close()
    evaluate_against_truth(args)


def reason_checks(con: duckdb.DuckDBPyConnection) -> None:
    """The reasons' acceptance checks on the latest scores: no reason says emergency admissions,
    A&E attendances or bed days the person has lower risk; no top five repeats a concept."""
    latest = "(SELECT max(index_date) FROM risk.reasons)"
    wrong = con.execute(
        f"SELECT count(*) FROM risk.reasons WHERE index_date = {latest} AND feature IN "
        "('emergency_admissions', 'ae_attendances', 'bed_days') AND reason LIKE '%(lowers risk)' "
        "AND (reason NOT LIKE 'no %' OR regexp_matches(reason, ', [0-9]+ in the last'))"
    ).fetchall()[0][0]
    repeats = con.execute(
        f"SELECT count(*) FROM (SELECT person_id FROM risk.reasons WHERE index_date = {latest} "
        "GROUP BY person_id, feature HAVING count(*) > 1)"
    ).fetchall()[0][0]
    people, rows = con.execute(
        f"SELECT count(DISTINCT person_id), count(*) FROM risk.reasons WHERE index_date = {latest}"
    ).fetchall()[0]
    incomplete = con.execute(
        "SELECT count(*) FILTER (WHERE incomplete_record), count(*) FILTER (WHERE persistently_high), "
        "count(*) FILTER (WHERE newly_high), count(*) FILTER (WHERE rising_frailty) FROM risk.scores "
        f"WHERE index_date = {latest}"
    ).fetchall()[0]
    print(f"reasons: {rows:,} for {people:,} people; saying admissions, A&E or bed days the person "
          f"has lower risk: {wrong}; people whose five repeat a concept: {repeats}")  # fmt: skip
    print(f"flags: incomplete record {incomplete[0]:,}; persistently high {incomplete[1]:,}; "
          f"newly high {incomplete[2]:,}; rising frailty {incomplete[3]:,}")  # fmt: skip


def evaluate_against_truth(args) -> None:
    if args.truth:
        from stratify.models.evaluate_model import evaluate

        r = evaluate(args.db, args.truth)
        print(
            f"prospective AUROC {r['model']['auroc']:.4f} vs oracle {r['oracle_auroc']:.4f} "
            f"(gap {r['gap_to_oracle']:.4f}); slope {r['model']['calibration_slope']:.3f}; "
            f"O/E {r['model']['observed_over_expected']:.3f}"
        )
        for q, v in r["observed_over_expected_by_deprivation_quintile"].items():
            low, high = v["limits_if_calibrated"]
            print(
                f"  deprivation quintile {q}: O/E {v['observed_over_expected']:.3f} ({v['events']:,} events; "
                f"limits if calibrated {low:.3f}-{high:.3f}; oracle {v['oracle_observed_over_expected']:.3f}; "
                f"true/expected {v['true_over_expected']:.3f})"
            )


if __name__ == "__main__":
    main()
