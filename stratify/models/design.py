"""From the features table to model matrices, the same way at training and at scoring."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

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


@dataclass
class LinearModel:
    """A logistic model stored as plain numbers: impute, scale, one-hot, then a linear predictor."""

    columns: list[str]
    medians: list[float]
    means: list[float]
    scales: list[float]
    coefficients: list[float]
    intercept: float

    def design(self, frame: pl.DataFrame) -> np.ndarray:
        x = matrix(frame, self.columns)
        cat = categorical_indices(self.columns)
        numeric = [i for i in range(len(self.columns)) if i not in cat]
        parts = []
        for j, i in enumerate(numeric):
            col = x[:, i]
            missing = np.isnan(col)
            filled = np.where(missing, self.medians[j], col)
            parts.append(((filled - self.means[j]) / self.scales[j])[:, None])
            parts.append(missing[:, None].astype(float))
        for i in cat:
            codes = np.nan_to_num(x[:, i], nan=len(ETHNIC_GROUPS) - 1).astype(int)
            parts.append(np.eye(len(ETHNIC_GROUPS))[codes][:, 1:])  # first group is the reference
        return np.hstack(parts)

    @classmethod
    def fit(
        cls, frame: pl.DataFrame, columns: list[str], y: np.ndarray, c: float = 1.0
    ) -> LinearModel:
        from sklearn.linear_model import LogisticRegression

        x = matrix(frame, columns)
        cat = categorical_indices(columns)
        numeric = [i for i in range(len(columns)) if i not in cat]
        medians = [
            float(np.nanmedian(x[:, i])) if not np.all(np.isnan(x[:, i])) else 0.0 for i in numeric
        ]
        filled = [
            np.where(np.isnan(x[:, i]), m, x[:, i]) for i, m in zip(numeric, medians, strict=True)
        ]
        means = [float(f.mean()) for f in filled]
        scales = [float(f.std()) or 1.0 for f in filled]
        model = cls(columns, medians, means, scales, [], 0.0)
        fitted = LogisticRegression(C=c, max_iter=2000).fit(model.design(frame), y)
        model.coefficients = fitted.coef_[0].tolist()
        model.intercept = float(fitted.intercept_[0])
        return model

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        z = self.design(frame) @ np.asarray(self.coefficients) + self.intercept
        return 1 / (1 + np.exp(-z))
