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
    out["oe_low"], out["oe_high"] = observed_over_expected_interval(y, p)
    for fraction in (0.01, 0.05, 0.10):
        ppv, sensitivity = top_fraction(y, p, fraction)
        out[f"ppv_top_{round(fraction * 100)}pct"] = ppv
        out[f"sensitivity_top_{round(fraction * 100)}pct"] = sensitivity
    return out


def observed_over_expected_interval(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """95 % interval of observed/expected: exact Poisson limits on the observed count."""
    from scipy.stats import chi2

    observed, expected = float(np.sum(y)), float(np.sum(p))
    if expected <= 0:
        return float("nan"), float("nan")
    low = chi2.ppf(0.025, 2 * observed) / 2 if observed > 0 else 0.0
    high = chi2.ppf(0.975, 2 * (observed + 1)) / 2
    return float(low / expected), float(high / expected)


def threshold_table(y: np.ndarray, p: np.ndarray, tier_shares: list[float]) -> list[dict]:
    """For every tier cut and every 1 % of the population, flagging the highest-risk share:
    people flagged, TP, FP, FN, TN, PPV, sensitivity, specificity, NPV and the risk at the cut."""
    y = np.asarray(y).astype(int)
    n, events = len(y), int(y.sum())
    order = np.argsort(-np.asarray(p), kind="stable")
    hits = np.concatenate([[0], np.cumsum(y[order])])
    cuts = [("tier", s) for s in tier_shares] + [("percent", k / 100) for k in range(1, 101)]
    rows = []
    for kind, share in cuts:
        k = int(round(n * share))
        tp = int(hits[k])
        fp, fn = k - tp, events - tp
        tn = n - k - fn
        rows.append({
            "cut": kind, "share": float(share), "flagged": k, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "ppv": tp / k if k else float("nan"),
            "sensitivity": tp / events if events else float("nan"),
            "specificity": tn / (tn + fp) if tn + fp else float("nan"),
            "npv": tn / (tn + fn) if tn + fn else float("nan"),
            "risk_at_cut": float(p[order[k - 1]]) if k else float("nan"),
        })  # fmt: skip
    return rows


def net_benefit(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> list[dict]:
    """Decision curve: net benefit of treating those with predicted risk >= pt, against treating
    everyone and no one (Vickers and Elkin 2006)."""
    y = np.asarray(y).astype(int)
    n = len(y)
    prevalence = y.mean()
    rows = []
    for pt in thresholds:
        flagged = p >= pt
        tp = int((flagged & (y == 1)).sum())
        fp = int((flagged & (y == 0)).sum())
        odds = pt / (1 - pt)
        rows.append({
            "threshold": float(pt), "flagged": int(flagged.sum()), "tp": tp, "fp": fp,
            "model": tp / n - fp / n * odds, "treat_all": float(prevalence - (1 - prevalence) * odds),
            "treat_none": 0.0,
        })  # fmt: skip
    return rows


def reviews_to_reach(y: np.ndarray, p: np.ndarray, targets=(0.25, 0.5, 0.75)) -> list[dict]:
    """How many people, highest risk first, must be reviewed to reach each share of the people
    admitted in the outcome year."""
    y = np.asarray(y).astype(int)
    found = np.cumsum(y[np.argsort(-np.asarray(p), kind="stable")])
    rows = []
    for target in targets:
        k = int(np.searchsorted(found, target * y.sum(), side="left")) + 1
        rows.append({"target": target, "people_reviewed": k, "share_of_population": k / len(y),
                     "ppv": float(found[k - 1] / k)})  # fmt: skip
    return rows


def _spline_basis(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis (Harrell) of z with the given knots."""
    k = len(knots)
    scale = (knots[-1] - knots[0]) ** 2
    cols = [z]
    for j in range(k - 2):
        term = (
            np.maximum(z - knots[j], 0) ** 3
            - np.maximum(z - knots[-2], 0) ** 3 * (knots[-1] - knots[j]) / (knots[-1] - knots[-2])
            + np.maximum(z - knots[-1], 0) ** 3 * (knots[-2] - knots[j]) / (knots[-1] - knots[-2])
        )
        cols.append(term / scale)
    return np.column_stack(cols)


def smoothed_calibration(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The observed risk as a smooth function of predicted risk: logistic regression of the
    outcome on a restricted cubic spline of logit(p), 4 knots (Austin and Steyerberg 2019)."""
    z = _logit(np.asarray(p, dtype=float))
    knots = np.quantile(z, [0.05, 0.35, 0.65, 0.95])
    if len(np.unique(knots)) < 4 or len(np.unique(y)) < 2:
        return np.full(len(p), np.nan)
    basis = _spline_basis(z, knots)
    fit = LogisticRegression(C=1e6, max_iter=2000).fit(basis, y)
    return fit.predict_proba(basis)[:, 1]


def calibration_errors(y: np.ndarray, p: np.ndarray) -> dict:
    """Eavg (the integrated calibration index), E90 and Emax: the mean, 90th centile and largest
    absolute difference between predicted and smoothed observed risk, over everyone."""
    smooth = smoothed_calibration(y, p)
    if np.isnan(smooth).all():
        return {"eavg": float("nan"), "e90": float("nan"), "emax": float("nan")}
    error = np.abs(smooth - p)
    return {"eavg": float(error.mean()), "e90": float(np.quantile(error, 0.9)),
            "emax": float(error.max())}  # fmt: skip


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 20) -> list[dict]:
    """Observed against predicted risk over the whole range: twentieths of predicted risk with
    Wilson 95 % intervals, and the smoothed observed risk at each bin's mean prediction."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    smooth = smoothed_calibration(y, p)
    order = np.argsort(p, kind="stable")
    rows = []
    for i, c in enumerate(np.array_split(order, bins)):
        if not len(c):
            continue
        n, k = len(c), y[c].sum()
        phat, zz = k / n, 1.96**2
        centre = (phat + zz / (2 * n)) / (1 + zz / n)
        half = 1.96 * np.sqrt(phat * (1 - phat) / n + zz / (4 * n * n)) / (1 + zz / n)
        rows.append({
            "bin": i + 1, "people": int(n), "events": int(k), "expected": float(p[c].mean()),
            "observed": float(phat), "low": float(centre - half), "high": float(centre + half),
            "smoothed": float(smooth[c].mean()), "max_predicted": float(p[c].max()),
        })  # fmt: skip
    return rows
