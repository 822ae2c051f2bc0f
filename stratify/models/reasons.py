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
            from stratify.models.design import ETHNIC_GROUPS

            return f"ethnic group {ETHNIC_GROUPS[min(_n(value), len(ETHNIC_GROUPS) - 1)]}"
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
# Concepts a reason must never say lower risk while the person has any of them: more of these
# never means less risk (and the model is monotone in them, risk.yaml).
NEVER_LOWERS = ("emergency_admissions", "ae_attendances", "bed_days")
FEED_WORDS = {"community_contacts": "community", "mental_health_contacts": "mental health"}
WINDOW_MONTHS = {"3m": 3, "6m": 6, "12m": 12, "24m": 24}


def concept_of(feature: str) -> str:
    """The clinical fact a feature describes: every window of a count is one fact, and so are
    the eFI with its deficit count, blood pressure, and an emergency admission's recency."""
    for stem in COUNTED:
        if feature.startswith(stem + "_") and feature.rsplit("_", 1)[1] in WINDOW_MONTHS:
            return stem
    return {
        "days_since_emergency_admission": "emergency_admissions",
        "efi": "frailty",
        "efi_deficits": "frailty",
        "latest_systolic_bp": "blood_pressure",
        "latest_diastolic_bp": "blood_pressure",
    }.get(feature, feature)


def concepts(columns: list[str]) -> tuple[list[str], np.ndarray]:
    """The concepts of `columns` (in first-seen order) and each column's concept index."""
    names: list[str] = []
    for c in columns:
        if concept_of(c) not in names:
            names.append(concept_of(c))
    return names, np.array([names.index(concept_of(c)) for c in columns], dtype=np.intp)


def _counted(stem: str, values: dict[str, float]) -> str:
    one, many = COUNTED[stem]
    windows = {
        WINDOW_MONTHS[f.rsplit("_", 1)[1]]: v for f, v in values.items() if f.startswith(stem + "_")
    }
    if any(np.isnan(v) for v in windows.values()):
        return f"no {FEED_WORDS.get(stem, stem.replace('_', ' '))} data for this practice"
    main = 12 if 12 in windows else max(windows)
    n = _n(windows[main])
    since = values.get("days_since_emergency_admission")
    if n == 0:
        longer = [w for w in sorted(windows) if w > main and _n(windows[w]) > 0]
        if longer:
            text = f"no {many} in the last {main} months, {_n(windows[longer[-1]])} in the last {longer[-1]}"
        else:
            text = f"no {many} in the last {max(windows)} months"
            if since is not None and since < 3650:
                text += f" (the last {_n(since)} days ago)"
            return text
    else:
        text = f"{n} {one if n == 1 else many} in the last {main} months"
        recent = [w for w in sorted(windows) if w < main and _n(windows[w]) > 0]
        if recent:
            text += f", {_n(windows[recent[0]])} in the last {recent[0]}"
    if since is not None and since < 3650:
        text += f", the latest {_n(since)} days ago"
    return text


def describe_concept(concept: str, values: dict[str, float]) -> str:
    """A concept in plain words, from all of the person's values of its features."""
    if concept in COUNTED:
        return _counted(concept, values)
    if concept == "frailty":
        efi, deficits = values.get("efi"), values.get("efi_deficits")
        if efi is None or np.isnan(efi):
            return "eFI not recorded"
        label = next(name for limit, name in EFI_CATEGORY if efi <= limit)
        extra = (
            f": {_n(deficits)} of 36 deficits"
            if deficits is not None and not np.isnan(deficits)
            else ""
        )
        return f"eFI {efi:.2f} ({label}{extra})"
    if concept == "blood_pressure":
        sys_, dia = values.get("latest_systolic_bp"), values.get("latest_diastolic_bp")
        if sys_ is None or np.isnan(sys_):
            return "no blood pressure recorded"
        if dia is None or np.isnan(dia):
            return f"latest systolic blood pressure {_n(sys_)} mmHg"
        return f"latest blood pressure {_n(sys_)}/{_n(dia)} mmHg"
    ((feature, value),) = values.items()
    return describe(feature, value)


def _primary(concept: str, features: list[str]) -> int:
    """Which of a concept's features the stored `value` is: the 12-month count, the eFI..."""
    for preferred in (f"{concept}_12m", "efi", "latest_systolic_bp"):
        if preferred in features:
            return features.index(preferred)
    return 0


def contradicts(x: np.ndarray, columns: list[str]):
    """For top_contributions' `hide`: a never-lowers concept (NEVER_LOWERS) with a negative
    contribution for someone who has any of it."""
    names, owner = concepts(columns)
    checks = [
        (names.index(c), [i for i, col in enumerate(columns) if owner[i] == names.index(c)
                          and col != "days_since_emergency_admission"])
        for c in NEVER_LOWERS if c in names
    ]  # fmt: skip

    def hide(start: int, stop: int, per_group: np.ndarray) -> np.ndarray:
        mask = np.zeros(per_group.shape, dtype=bool)
        for g, cols in checks:
            has = np.nan_to_num(x[start:stop][:, cols]).max(axis=1) > 0
            mask[:, g] = has & (per_group[:, g] < 0)
        return mask

    return hide


def frame(
    person_id: np.ndarray,
    index: np.ndarray,
    contribution: np.ndarray,
    values: np.ndarray,
    columns: list[str],
) -> pl.DataFrame:
    """One row per person and reason: rank, concept (`feature`), the person's value of its main
    feature, the concept's contribution in log-odds and the text with its direction. `index`
    (concept indices, from `concepts(columns)`) and `contribution` are (people x k), largest
    first. Texts are worded once per concept and distinct set of values, not once per row."""
    names, owner = concepts(columns)
    n, k = index.shape
    rows = np.repeat(np.arange(n), k)
    concept = index.ravel()
    contribution = contribution.ravel()
    words = np.empty(n * k, dtype=object)
    value = np.empty(n * k)
    for c in np.unique(concept):
        chosen = np.flatnonzero(concept == c)
        cols = np.flatnonzero(owner == c)
        vals = values[rows[chosen][:, None], cols[None, :]]
        key = np.where(np.isnan(vals), -1e300, vals)  # NaN as a value of its own
        distinct, inverse = np.unique(key, axis=0, return_inverse=True)
        distinct = np.where(distinct == -1e300, np.nan, distinct)
        feats = [columns[i] for i in cols]
        texts = [describe_concept(names[c], dict(zip(feats, r, strict=True))) for r in distinct]
        words[chosen] = np.array(texts, dtype=object)[inverse.ravel()]
        value[chosen] = vals[:, _primary(names[c], feats)]
    sign = np.sign(contribution).astype(np.int8)
    return pl.DataFrame(
        {
            "person_id": np.repeat(np.asarray(person_id, dtype=np.int64), k),
            "reason_rank": np.tile(np.arange(1, k + 1, dtype=np.int64), n),
            "feature": pl.Series(np.array(names, dtype=object)[concept].tolist(), dtype=pl.String),
            "value": value,
            "contribution": contribution,
            "words": pl.Series(words.tolist(), dtype=pl.String),
            "sign": sign,
        },
    ).select(
        "person_id", "reason_rank", "feature", "value", "contribution",
        reason=pl.concat_str(
            pl.col("words"), pl.col("sign").replace_strict(DIRECTION, return_dtype=pl.String)
        ),
    )  # fmt: skip
