"""Per-patient reasons from LightGBM's own per-feature contributions, worded for a clinician."""

from __future__ import annotations

import numpy as np

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


def top_reasons(
    contributions: np.ndarray, values: np.ndarray, columns: list[str], k: int = 5
) -> list[list[tuple[str, float, float, str]]]:
    """For each row: the k features with the largest contribution either way, as
    (feature, value, contribution in log-odds, text with its direction)."""
    per_feature = contributions[:, : len(columns)]  # the last column is the bias
    order = np.argsort(-np.abs(per_feature), axis=1, kind="stable")[:, :k]
    out = []
    for row, chosen in enumerate(order):
        reasons = []
        for j in chosen:
            c = float(per_feature[row, j])
            direction = "raises risk" if c > 0 else "lowers risk" if c < 0 else "no effect"
            text = f"{describe(columns[j], values[row, j])} ({direction})"
            reasons.append((columns[j], float(values[row, j]), c, text))
        out.append(reasons)
    return out
