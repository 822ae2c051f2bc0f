"""Discrimination and calibration metrics, with intervals, for a model card a clinician can trust."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

EPS = 1e-6


def auroc_interval(y: np.ndarray, p: np.ndarray, alpha: float = 0.05) -> tuple[float, float, float]:
    """AUROC with a DeLong interval (exact variance of the Mann-Whitney statistic, via ranks)."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    pos, neg = p[y], p[~y]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        return float("nan"), float("nan"), float("nan")
    auc = roc_auc_score(y, p)
    all_ranks = rankdata(np.concatenate([pos, neg]))
    v10 = (all_ranks[:m] - rankdata(pos)) / n
    v01 = 1.0 - (all_ranks[m:] - rankdata(neg)) / m
    half = norm.ppf(1 - alpha / 2) * np.sqrt(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)
    return float(auc), float(max(0.0, auc - half)), float(min(1.0, auc + half))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q / (1 - q))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Logistic recalibration: slope on logit(p) (ideal 1) and calibration-in-the-large with the
    slope fixed at 1 (ideal 0)."""
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    logit = _logit(p)
    slope = LogisticRegression(C=1e6, max_iter=1000).fit(logit.reshape(-1, 1), y).coef_[0][0]
    a = 0.0
    for _ in range(100):  # Newton steps on the offset model logit(P(y)) = a + logit(p)
        q = 1 / (1 + np.exp(-np.clip(a + logit, -35, 35)))
        step = np.sum(y - q) / max(np.sum(q * (1 - q)), EPS)
        a += step
        if abs(step) < 1e-10:
            break
    return float(slope), float(a)


def top_fraction(y: np.ndarray, p: np.ndarray, fraction: float) -> tuple[float, float]:
    """Positive predictive value and sensitivity among the highest-scored `fraction`."""
    k = max(1, int(round(len(p) * fraction)))
    chosen = np.argsort(-p, kind="stable")[:k]
    hits = y[chosen].sum()
    return float(hits / k), float(hits / max(y.sum(), 1))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Observed and expected rates by tenth of predicted risk (the calibration plot)."""
    order = np.argsort(p, kind="stable")
    return [
        {
            "bin": i + 1,
            "people": int(len(c)),
            "expected": float(p[c].mean()),
            "observed": float(y[c].mean()),
        }
        for i, c in enumerate(np.array_split(order, bins))
        if len(c)
    ]


def summary(y: np.ndarray, p: np.ndarray) -> dict:
    """Every metric the model card reports, for one model on one set of people."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    auc, lo, hi = auroc_interval(y, p)
    slope, intercept = calibration_slope_intercept(y, p)
    both = 0 < y.sum() < len(y)
    out = {
        "people": int(len(y)),
        "events": int(y.sum()),
        "observed_rate": float(y.mean()) if len(y) else float("nan"),
        "expected_rate": float(p.mean()) if len(p) else float("nan"),
        "observed_over_expected": float(y.mean() / p.mean())
        if len(p) and p.mean() > 0
        else float("nan"),
        "auroc": auc,
        "auroc_low": lo,
        "auroc_high": hi,
        "auprc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
    }
    for fraction in (0.01, 0.05, 0.10):
        ppv, sensitivity = top_fraction(y, p, fraction)
        out[f"ppv_top_{round(fraction * 100)}pct"] = ppv
        out[f"sensitivity_top_{round(fraction * 100)}pct"] = sensitivity
    return out
