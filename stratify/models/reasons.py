"""Per-patient reasons from the model's own per-feature contributions (LightGBM's TreeSHAP plus
its logistic start's), worded for a clinician."""

from __future__ import annotations

import numpy as np
import polars as pl

WINDOW_WORDS = {"3m": "3 months", "6m": "6 months", "12m": "12 months", "24m": "24 months"}
COUNTED = {
    "emergency_admissions": ("emergency admission", "emergency admissions"),
    "elective_admissions": ("elective admission", "elective admissions"),
    "bed_days": ("day in hospital", "days in hospital"),
    "ae_attendances": ("A&E attendance", "A&E attendances"),
    "outpatient_attendances": ("outpatient attendance", "outpatient attendances"),
    "outpatient_dna": ("missed outpatient appointment", "missed outpatient appointments"),
    "community_contacts": ("community services contact", "community services contacts"),
    "mental_health_contacts": ("mental health contact", "mental health contacts"),
    "social_care_services": ("new social care service", "new social care services"),
    "gp_encounters": ("GP encounter", "GP encounters"),
}
CONDITIONS = {
    "diabetes_type1": "type 1 diabetes", "diabetes_type2": "type 2 diabetes",
    "hypertension": "hypertension", "copd": "COPD", "asthma": "asthma",
    "heart_failure": "heart failure", "atrial_fibrillation": "atrial fibrillation",
    "ischaemic_heart_disease": "ischaemic heart disease", "stroke": "stroke or TIA",
    "ckd": "chronic kidney disease", "dementia": "dementia", "depression": "depression",
    "severe_mental_illness": "severe mental illness", "cancer": "cancer",
    "osteoporosis": "osteoporosis", "parkinsonism": "Parkinson's disease or parkinsonism",
    "thyroid_disease": "thyroid disease",
}  # fmt: skip
EFI_CATEGORY = (
    (0.12, "fit"),
    (0.24, "mild frailty"),
    (0.36, "moderate frailty"),
    (9.0, "severe frailty"),
)


def _n(value: float) -> int:
    return int(round(value))


def describe(feature: str, value: float) -> str:
    """What a feature's value means for this patient, in plain words."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {
            "latest_hba1c": "no HbA1c recorded",
            "latest_systolic_bp": "no blood pressure recorded",
            "latest_diastolic_bp": "no blood pressure recorded",
        }.get(feature, f"{feature.replace('_', ' ')} not recorded")
    for stem, (one, many) in COUNTED.items():
        if feature.startswith(stem + "_"):
            window = WINDOW_WORDS[feature.rsplit("_", 1)[1]]
            n = _n(value)
            return f"{'no' if n == 0 else n} {one if n == 1 else many} in the last {window}"
    if feature in CONDITIONS:
        return f"{CONDITIONS[feature]} {'on the register' if value >= 0.5 else 'not recorded'}"
    match feature:
        case "age":
            return f"aged {_n(value)}"
        case "female":
            return "female" if value >= 0.5 else "male"
        case "imd_decile":
            return f"lives in deprivation decile {_n(value)} (1 = most deprived)"
        case "ethnic_group":
            return "ethnic group"
        case "long_term_conditions":
            return f"{_n(value)} long-term condition{'s' if _n(value) != 1 else ''}"
        case "efi":
            label = next(name for limit, name in EFI_CATEGORY if value <= limit)
            return f"eFI {value:.2f} ({label})"
        case "efi_deficits":
            return f"{_n(value)} of 36 frailty deficits"
        case "repeat_medicines":
            return f"{_n(value)} repeat medicine{'s' if _n(value) != 1 else ''}"
        case "days_since_emergency_admission":
            return (
                "no emergency admission in 10 years"
                if value >= 3650
                else f"last emergency admission {_n(value)} days ago"
            )
        case "care_home":
            return "lives in a care home" if value >= 0.5 else "not in a care home"
        case "latest_hba1c":
            return f"latest HbA1c {_n(value)} mmol/mol"
        case "latest_systolic_bp":
            return f"latest systolic blood pressure {_n(value)} mmHg"
        case "latest_diastolic_bp":
            return f"latest diastolic blood pressure {_n(value)} mmHg"
    return f"{feature.replace('_', ' ')} {value:g}"


DIRECTION = {1: " (raises risk)", -1: " (lowers risk)", 0: " (no effect)"}


def frame(
    person_id: np.ndarray,
    index: np.ndarray,
    contribution: np.ndarray,
    values: np.ndarray,
    columns: list[str],
) -> pl.DataFrame:
    """One row per person and reason: rank, feature, the person's value, its contribution in
    log-odds and the text with its direction. `index` and `contribution` are (people x k), largest
    first. Texts are worded once per distinct feature and value, not once per row."""
    n, k = index.shape
    rows = np.repeat(np.arange(n), k)
    feature = index.ravel()
    value = values[rows, feature]
    contribution = contribution.ravel()
    long = pl.DataFrame(
        {
            "person_id": np.repeat(np.asarray(person_id, dtype=np.int64), k),
            "reason_rank": np.tile(np.arange(1, k + 1, dtype=np.int64), n),
            "feature_index": feature.astype(np.int32),
            "value": value,
            "value_bits": value.view(np.int64),  # exact key, NaN included
            "contribution": contribution,
            "sign": np.sign(contribution).astype(np.int8),
        }
    )
    distinct = long.select("feature_index", "value_bits", "value").unique(
        ["feature_index", "value_bits"]
    )
    words = distinct.select(
        "feature_index",
        "value_bits",
        words=pl.Series(
            [
                describe(columns[f], v)
                for f, v in distinct.select("feature_index", "value").iter_rows()
            ],
            dtype=pl.String,
        ),
    )
    return (
        long.join(words, on=["feature_index", "value_bits"], how="left", maintain_order="left")
        .with_columns(
            feature=pl.col("feature_index").replace_strict(
                dict(enumerate(columns)), return_dtype=pl.String
            ),
            reason=pl.concat_str(
                pl.col("words"), pl.col("sign").replace_strict(DIRECTION, return_dtype=pl.String)
            ),
        )
        .select("person_id", "reason_rank", "feature", "value", "contribution", "reason")
    )
