"""The stored risk model as one object: LightGBM's trees added to the log-odds of the logistic
regression they were boosted from, then calibrated.

Boosting with shrinkage and early stopping pulls every effect towards where boosting starts.
Started from a constant, that flattens smooth effects at their extremes: at 100,000 patients the
model's predicted risk was 2-12 % low in the most deprived fifth and 1-10 % high in the least
(five populations, against the true probabilities). Started from the logistic regression on the
same features (LightGBM's `init_score`), the pull is towards a calibrated linear fit and the trees
add what it misses: non-linear effects and interactions. `lightgbm_start` in risk.yaml chooses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from scipy.special import expit

from stratify.models.calibration import Calibrator
from stratify.models.design import LinearModel


@dataclass
class RiskModel:
    booster: lgb.Booster
    start: LinearModel | None = None  # the linear model the trees were boosted from, if any
    calibrator: Calibrator | None = None  # chosen after the trees, on the validation part
    # For records that lack a feed (features.coverage): the model of what is known for everyone,
    # reading `known.columns` of the same matrix.
    known: RiskModel | None = None
    columns: list[str] | None = None  # the features this model reads, when it is `known`
    known_of: list[str] | None = None  # the full model's features (the matrix `known` reads from)

    def margin(self, x: np.ndarray, num_threads: int = 2) -> np.ndarray:
        """Uncalibrated log-odds: the start's linear predictor plus the trees."""
        trees = self.booster.predict(x, raw_score=True, num_threads=num_threads)
        return trees if self.start is None else trees + self.start.margin_x(x)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated probability; its order is the risk order used for tiers."""
        return expit(self.margin(x))

    def probability(self, x: np.ndarray, incomplete: np.ndarray | None = None) -> np.ndarray:
        return (
            self.calibrator(self.raw(x)) if incomplete is None else self.predict(x, incomplete)[1]
        )

    def predict(self, x: np.ndarray, incomplete: np.ndarray, columns: list[str] | None = None):
        """Log-odds and calibrated probability for everyone: the incomplete records (a feed
        missing, features.coverage) from the model of what is known for everyone. `columns`
        names x's columns (default: the full model's, as stored)."""
        margin = self.margin(x)
        probability = self.calibrator(expit(margin))
        if self.known is not None and incomplete.any():
            names = columns or self.known_of
            xk = np.ascontiguousarray(
                x[np.ix_(incomplete, [names.index(c) for c in self.known.columns])]
            )
            margin[incomplete] = self.known.margin(xk)
            probability[incomplete] = self.known.calibrator(expit(margin[incomplete]))
        return margin, probability

    @classmethod
    def from_record(cls, record: dict) -> RiskModel:
        """From a row of models.trained (models trained before `lightgbm_start` start from 0)."""
        start = record.get("lightgbm_start")
        linear = None
        if start:
            linear = LinearModel(**json.loads(record["baselines"])[start])
        known = None
        if record.get("known_model"):
            k = json.loads(record["known_model"])
            known = cls(
                lgb.Booster(model_str=k["lightgbm_model"]),
                LinearModel(**k["start"]) if k["start"] else None,
                Calibrator(**k["calibrator"]),
                columns=k["features"],
            )
        return cls(
            lgb.Booster(model_str=record["lightgbm_model"]),
            linear,
            Calibrator(**json.loads(record["calibrator"])),
            known,
            known_of=json.loads(record["features"]),
        )
