"""How the prospective targets hold across training splits, for each place boosting can start
(prints figures, not a test).

The split into train / validation / test follows the database's row order, which a fresh
database salts afresh; one split is one draw. This retrains and rescores a copy of the database
with several seeds (each draws the split, LightGBM's bagging and the calibration halves), for LightGBM boosted from a constant and from the logistic regression,
and prints the targets of issue 4 for each: gap to the oracle AUROC, calibration slope, O/E
overall and per deprivation quintile (1 = most deprived), and per quintile the model's own error
against the true probabilities (true/expected).

Run on a built registry with its generator's ground truth:
  .venv/bin/python bench/bench_calibration.py --db PATH --truth DIR/ground_truth [--splits 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from stratify import database
from stratify.models.evaluate_model import evaluate
from stratify.models.score import score
from stratify.models.train import load_config, train


def one_run(db: Path, truth: Path, start: str, seed: int, work: Path) -> dict:
    copy = work / "bench.duckdb"
    shutil.copy(db, copy)
    cfg = load_config()
    cfg["lightgbm_start"], cfg["seed"] = start, seed
    con = database.connect(copy)
    try:
        trained = train(con, config=cfg)
        score(con)
    finally:
        con.close()
    result = evaluate(copy, truth)
    copy.unlink()
    quintiles = result["observed_over_expected_by_deprivation_quintile"].values()
    oe = [q["observed_over_expected"] for q in quintiles]
    model = result["model"]
    return {
        "trees": trained["trees"],
        "gap": result["gap_to_oracle"],
        "slope": model["calibration_slope"],
        "oe": model["observed_over_expected"],
        "quintiles": oe,
        "true_over_expected": [q["true_over_expected"] for q in quintiles],
        "met": result["gap_to_oracle"] <= 0.02
        and 0.9 <= model["calibration_slope"] <= 1.1
        and all(0.95 <= v <= 1.05 for v in [model["observed_over_expected"], *oe]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--splits", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for start in ("none", "logistic"):
            runs = []
            for seed in range(1, args.splits + 1):  # the seed in risk.yaml is one more draw
                r = one_run(args.db, args.truth, start, seed, Path(tmp))
                runs.append(r)
                print(
                    f"start {start:8s} seed {seed}: {r['trees']:4d} trees, gap {r['gap']:.4f}, "
                    f"slope {r['slope']:.3f}, O/E {r['oe']:.3f}, by quintile "
                    + " ".join(f"{v:.3f}" for v in r["quintiles"])
                    + "; true/expected "
                    + " ".join(f"{v:.3f}" for v in r["true_over_expected"])
                    + ("  all targets met" if r["met"] else ""),
                    flush=True,
                )
            worst = [max(abs(v - 1) for v in r["quintiles"]) for r in runs]
            own = np.array([r["true_over_expected"] for r in runs])
            print(
                f"start {start}: all targets met in {sum(r['met'] for r in runs)} of {len(runs)} "
                f"seeds; worst quintile |O/E - 1| mean {np.mean(worst):.3f}, max {max(worst):.3f}; "
                "mean true/expected by quintile " + " ".join(f"{v:.3f}" for v in own.mean(axis=0))
            )


if __name__ == "__main__":
    main()
