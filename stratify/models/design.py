"""From the features table to model matrices, the same way at training and at scoring."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.special import expit

from stratify.features import CATEGORICAL

ETHNIC_GROUPS = ("White", "Mixed", "Asian", "Black", "Other", "Not stated")


def matrix(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """Numeric matrix for LightGBM: categories as integer codes, missing values as NaN."""
    coded = frame.with_columns(
        pl.col("ethnic_group").replace_strict(
            {g: i for i, g in enumerate(ETHNIC_GROUPS)}, default=len(ETHNIC_GROUPS) - 1,
            return_dtype=pl.Float64,
        )
    )  # fmt: skip
    return coded.select([pl.col(c).cast(pl.Float64) for c in columns]).to_numpy()


def categorical_indices(columns: list[str]) -> list[int]:
    return [i for i, c in enumerate(columns) if c in CATEGORICAL]


def _numeric_and_categorical(columns: list[str]) -> tuple[list[int], list[int]]:
    """Column indices in design order: the numeric features, then the categorical ones."""
    cat = categorical_indices(columns)
    return [i for i in range(len(columns)) if i not in cat], cat


@dataclass
class LinearModel:
    """A logistic model stored as plain numbers: impute, scale, one-hot, then a linear predictor.

    `design_means` (the training rows' mean of each design column) lets the model split its
    linear predictor into exact per-feature contributions, as TreeSHAP does for the trees."""

    columns: list[str]
    medians: list[float]
    means: list[float]
    scales: list[float]
    coefficients: list[float]
    intercept: float
    design_means: list[float] = field(default_factory=list)

    def design_x(self, x: np.ndarray) -> np.ndarray:
        """The design from the model matrix (`matrix(frame, self.columns)`), filled in place:
        at 900,000 rows it is about 1 GB, so it is never built twice."""
        numeric, cat = _numeric_and_categorical(self.columns)
        groups = len(ETHNIC_GROUPS) - 1  # the first group is the reference
        out = np.empty((len(x), 2 * len(numeric) + groups * len(cat)))
        for j, i in enumerate(numeric):
            missing = np.isnan(x[:, i])
            filled = np.where(missing, self.medians[j], x[:, i])
            np.divide(filled - self.means[j], self.scales[j], out=out[:, 2 * j])
            out[:, 2 * j + 1] = missing
        for k, i in enumerate(cat):
            codes = np.nan_to_num(x[:, i], nan=len(ETHNIC_GROUPS) - 1).astype(int)
            first = 2 * len(numeric) + groups * k
            out[:, first : first + groups] = codes[:, None] == np.arange(1, len(ETHNIC_GROUPS))
        return out

    def _owners(self) -> np.ndarray:
        """For each design column, the index of the feature (in `columns`) it comes from."""
        numeric, cat = _numeric_and_categorical(self.columns)
        owners = [i for i in numeric for _ in range(2)]
        owners += [i for i in cat for _ in range(len(ETHNIC_GROUPS) - 1)]
        return np.asarray(owners, dtype=np.intp)

    @classmethod
    def fit(
        cls,
        frame: pl.DataFrame,
        columns: list[str],
        y: np.ndarray,
        c: float = 1.0,
        signs: dict[str, int] | None = None,
    ) -> LinearModel:
        """`signs` (feature -> 1 or -1) bounds those features' coefficients to that sign, so the
        linear start is monotone where the trees are."""
        from sklearn.linear_model import LogisticRegression

        x = matrix(frame, columns)
        numeric, _ = _numeric_and_categorical(columns)
        medians = [
            float(np.nanmedian(x[:, i])) if not np.all(np.isnan(x[:, i])) else 0.0 for i in numeric
        ]
        filled = [
            np.where(np.isnan(x[:, i]), m, x[:, i]) for i, m in zip(numeric, medians, strict=True)
        ]
        means = [float(f.mean()) for f in filled]
        scales = [float(f.std()) or 1.0 for f in filled]
        model = cls(columns, medians, means, scales, [], 0.0)
        design = model.design_x(x)
        fitted = LogisticRegression(C=c, max_iter=2000).fit(design, y)
        model.coefficients = fitted.coef_[0].tolist()
        model.intercept = float(fitted.intercept_[0])
        bounds = model._sign_bounds(signs or {})
        if any(b != (None, None) for b in bounds):
            beta, b0 = _bounded_logistic(design, y, c, bounds, fitted.coef_[0], model.intercept)
            model.coefficients, model.intercept = beta.tolist(), b0
        model.design_means = design.mean(axis=0).tolist()
        return model

    def _sign_bounds(self, signs: dict[str, int]) -> list[tuple]:
        """Per design column: (0, None) or (None, 0) on a constrained feature's scaled value
        (its scale is positive, so the sign carries over); its missing flag stays free."""
        numeric, cat = _numeric_and_categorical(self.columns)
        bounds: list[tuple] = []
        for i in numeric:
            sign = signs.get(self.columns[i], 0)
            bounds += [(0, None) if sign > 0 else (None, 0) if sign < 0 else (None, None)]
            bounds += [(None, None)]
        bounds += [(None, None)] * ((len(ETHNIC_GROUPS) - 1) * len(cat))
        return bounds

    def feature_coefficients(self) -> dict[str, float]:
        """Each numeric feature's coefficient on its scaled value (the sign a constraint bounds)."""
        numeric, _ = _numeric_and_categorical(self.columns)
        return {self.columns[i]: self.coefficients[2 * j] for j, i in enumerate(numeric)}

    def margin_x(self, x: np.ndarray, chunk: int = 65_536) -> np.ndarray:
        """The linear predictor (log-odds) for the model matrix, a block of rows at a time."""
        beta = np.asarray(self.coefficients)
        out = np.empty(len(x))
        for start in range(0, len(x), chunk):
            out[start : start + chunk] = self.design_x(x[start : start + chunk]) @ beta
        return out + self.intercept

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        return expit(self.margin_x(matrix(frame, self.columns)))

    @property
    def expected_margin(self) -> float:
        """The linear predictor at the training rows' mean design: the base of the contributions."""
        return self.intercept + float(np.dot(self.coefficients, self._design_means()))

    def contributions_x(self, x: np.ndarray) -> np.ndarray:
        """Each feature's exact share of the linear predictor (rows x columns): the sum of its
        design columns' coefficient x (value - training mean). With `expected_margin` they add
        up to the linear predictor, row by row."""
        weighted = (self.design_x(x) - self._design_means()) * np.asarray(self.coefficients)
        owners = self._owners()  # runs of equal owners: one run per feature
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        out = np.zeros((len(x), len(self.columns)))
        out[:, owners[starts]] = np.add.reduceat(weighted, starts, axis=1)
        return out

    def _design_means(self) -> np.ndarray:
        if not self.design_means:
            raise ValueError("this linear model was stored without its design means; retrain it")
        return np.asarray(self.design_means)


def _bounded_logistic(design, y, c, bounds, beta0, b0) -> tuple[np.ndarray, float]:
    """The same penalised log-likelihood as scikit-learn's (0.5 |beta|^2 + C x log-loss, the
    intercept unpenalised), with sign bounds on some coefficients (L-BFGS-B), started from the
    unbounded fit clipped into the bounds."""
    from scipy.optimize import minimize

    def loss(theta):
        beta, a = theta[:-1], theta[-1]
        z = design @ beta + a
        q = expit(z)
        value = 0.5 * beta @ beta + c * np.sum(np.logaddexp(0, z) - y * z)
        g = c * (q - y)
        return value, np.r_[beta + design.T @ g, g.sum()]

    start = np.r_[
        [min(max(b, lo if lo is not None else -np.inf), hi if hi is not None else np.inf)
         for b, (lo, hi) in zip(beta0, bounds, strict=True)],
        b0,
    ]  # fmt: skip
    fit = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)],
                   options={"maxiter": 5000, "gtol": 1e-8})  # fmt: skip
    return fit.x[:-1], float(fit.x[-1])
