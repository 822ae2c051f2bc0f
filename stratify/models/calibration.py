"""Calibration of LightGBM's raw probabilities: isotonic or Platt, chosen on held-out data."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from stratify.models.metrics import _logit


@dataclass
class Calibrator:
    method: str  # "isotonic" or "platt"
    x: list[float]  # isotonic knots
    y: list[float]
    a: float = 0.0  # platt: sigmoid(a + b * logit(p))
    b: float = 1.0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            return np.clip(np.interp(raw, self.x, self.y), 1e-6, 1 - 1e-6)
        return 1 / (1 + np.exp(-(self.a + self.b * _logit(raw))))

    def to_dict(self) -> dict:
        return asdict(self)


def _isotonic(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6).fit(raw, y)
    return Calibrator("isotonic", iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())


def _platt(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(raw).reshape(-1, 1), y)
    return Calibrator("platt", [], [], float(fit.intercept_[0]), float(fit.coef_[0][0]))


def choose(raw: np.ndarray, y: np.ndarray, seed: int) -> tuple[Calibrator, dict]:
    """Fit both on one half of the validation set, keep the lower Brier score on the other half,
    then refit the winner on the whole validation set."""
    rng = np.random.default_rng(seed)
    half = rng.random(len(y)) < 0.5
    scores = {}
    for name, fit in (("isotonic", _isotonic), ("platt", _platt)):
        scores[name] = float(brier_score_loss(y[~half], fit(raw[half], y[half])(raw[~half])))
    best = min(scores, key=scores.get)
    return (_isotonic if best == "isotonic" else _platt)(raw, y), scores
