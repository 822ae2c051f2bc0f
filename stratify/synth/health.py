"""The data-generating process for health: conditions, frailty deficits, medicines and the yearly
latent state that drives service use, emergency admission and death. See README.md beside this file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Item:
    """A condition or frailty deficit with an onset age; present from onset onwards."""

    name: str
    codelist: str
    lifetime: float  # probability of ever having it, for an average person by old age
    onset_mean: float
    onset_sd: float
    deprivation: float  # log-odds added at the most deprived decile (minus at the least)
    frailty: float  # log-odds per SD of the person's frailty propensity
    efi: str | None  # the eFI deficit it counts towards, if any


# fmt: off
ITEMS: tuple[Item, ...] = (
    Item("diabetes_type1", "diabetes_type1", 0.006, 16, 10, 0.0, 0.0, "diabetes"),
    Item("diabetes_type2", "diabetes_type2", 0.26, 61, 13, 0.55, 0.35, "diabetes"),
    Item("hypertension", "hypertension", 0.66, 63, 12, 0.3, 0.3, "hypertension"),
    Item("copd", "copd", 0.11, 67, 10, 0.8, 0.45, "respiratory_disease"),
    Item("asthma", "asthma", 0.10, 22, 18, 0.2, 0.2, "respiratory_disease"),
    Item("heart_failure", "heart_failure", 0.16, 78, 9, 0.4, 0.6, "heart_failure"),
    Item("atrial_fibrillation", "atrial_fibrillation", 0.24, 77, 9, 0.0, 0.4, "atrial_fibrillation"),
    Item("ischaemic_heart_disease", "ischaemic_heart_disease", 0.17, 70, 11, 0.45, 0.4, "ischaemic_heart_disease"),
    Item("stroke", "stroke", 0.08, 75, 11, 0.35, 0.45, "cerebrovascular_disease"),
    Item("ckd", "ckd", 0.33, 76, 10, 0.3, 0.45, "chronic_kidney_disease"),
    Item("dementia", "dementia", 0.22, 84, 7, 0.2, 0.6, "memory_cognitive"),
    Item("depression", "depression", 0.24, 36, 16, 0.4, 0.3, None),
    Item("severe_mental_illness", "severe_mental_illness", 0.014, 28, 10, 0.6, 0.2, None),
    Item("cancer", "cancer", 0.26, 68, 12, 0.15, 0.2, None),
    Item("osteoporosis", "osteoporosis", 0.16, 74, 10, 0.1, 0.5, "osteoporosis"),
    Item("parkinsonism", "parkinsonism", 0.03, 76, 9, 0.0, 0.4, "parkinsonism"),
    Item("thyroid_disease", "thyroid_disease", 0.08, 55, 16, 0.0, 0.1, "thyroid_disease"),
    Item("activity_limitation", "efi_activity_limitation", 0.47, 86, 8, 0.3, 0.9, "activity_limitation"),
    Item("anaemia", "efi_anaemia", 0.41, 76, 13, 0.2, 0.5, "anaemia"),
    Item("arthritis", "efi_arthritis", 0.60, 68, 13, 0.2, 0.4, "arthritis"),
    Item("dizziness", "efi_dizziness", 0.47, 72, 14, 0.1, 0.5, "dizziness"),
    Item("dyspnoea", "efi_dyspnoea", 0.47, 72, 14, 0.4, 0.6, "dyspnoea"),
    Item("falls", "efi_falls", 0.54, 82, 9, 0.2, 0.8, "falls"),
    Item("foot_problems", "efi_foot_problems", 0.47, 70, 14, 0.1, 0.4, "foot_problems"),
    Item("fragility_fracture", "efi_fragility_fracture", 0.19, 82, 9, 0.1, 0.7, "fragility_fracture"),
    Item("hearing_impairment", "efi_hearing_impairment", 0.54, 78, 11, 0.0, 0.3, "hearing_impairment"),
    Item("heart_valve_disease", "efi_heart_valve_disease", 0.11, 78, 10, 0.0, 0.4, "heart_valve_disease"),
    Item("housebound", "efi_housebound", 0.24, 88, 7, 0.3, 1.0, "housebound"),
    Item("hypotension_syncope", "efi_hypotension_syncope", 0.27, 78, 12, 0.1, 0.5, "hypotension_syncope"),
    Item("memory_impairment", "efi_memory_cognitive", 0.27, 80, 10, 0.2, 0.6, "memory_cognitive"),
    Item("mobility_transfer", "efi_mobility_transfer", 0.41, 84, 9, 0.3, 0.9, "mobility_transfer"),
    Item("peptic_ulcer", "efi_peptic_ulcer", 0.11, 60, 15, 0.3, 0.2, "peptic_ulcer"),
    Item("peripheral_vascular_disease", "efi_peripheral_vascular_disease", 0.09, 72, 10, 0.5, 0.5, "peripheral_vascular_disease"),
    Item("requirement_for_care", "efi_requirement_for_care", 0.27, 88, 7, 0.3, 1.0, "requirement_for_care"),
    Item("skin_ulcer", "efi_skin_ulcer", 0.16, 82, 10, 0.2, 0.7, "skin_ulcer"),
    Item("sleep_disturbance", "efi_sleep_disturbance", 0.34, 55, 18, 0.2, 0.3, "sleep_disturbance"),
    Item("social_vulnerability", "efi_social_vulnerability", 0.41, 78, 12, 0.4, 0.5, "social_vulnerability"),
    Item("urinary_incontinence", "efi_urinary_incontinence", 0.38, 80, 11, 0.1, 0.6, "urinary_incontinence"),
    Item("urinary_system_disease", "efi_urinary_system_disease", 0.47, 72, 15, 0.1, 0.4, "urinary_system_disease"),
    Item("visual_impairment", "efi_visual_impairment", 0.38, 80, 10, 0.2, 0.4, "visual_impairment"),
    Item("weight_loss_anorexia", "efi_weight_loss_anorexia", 0.20, 82, 10, 0.3, 0.7, "weight_loss_anorexia"),
)

# Repeat medicines each condition leads to, with the probability it is prescribed.
MEDICINES: dict[str, tuple[tuple[str, float], ...]] = {
    "diabetes_type2": (("metformin", 0.85), ("atorvastatin", 0.75), ("ramipril", 0.35)),
    "diabetes_type1": (("insulin", 1.0), ("atorvastatin", 0.5)),
    "hypertension": (("amlodipine", 0.6), ("ramipril", 0.45)),
    "heart_failure": (("furosemide", 0.8), ("bisoprolol", 0.7), ("ramipril", 0.6)),
    "atrial_fibrillation": (("apixaban", 0.8), ("bisoprolol", 0.5)),
    "ischaemic_heart_disease": (("atorvastatin", 0.85), ("aspirin", 0.7), ("bisoprolol", 0.4)),
    "stroke": (("atorvastatin", 0.8), ("aspirin", 0.4)),
    "copd": (("tiotropium", 0.7), ("salbutamol", 0.9)),
    "asthma": (("salbutamol", 0.9), ("beclometasone", 0.6)),
    "depression": (("sertraline", 0.6),),
    "dementia": (("donepezil", 0.5),),
    "severe_mental_illness": (("olanzapine", 0.8),),
    "osteoporosis": (("alendronic_acid", 0.7),),
    "thyroid_disease": (("levothyroxine", 0.9),),
    "parkinsonism": (("co_beneldopa", 0.7),),
    "arthritis": (("paracetamol", 0.6),),
    "peptic_ulcer": (("omeprazole", 0.8),),
    "sleep_disturbance": (("zopiclone", 0.3),),
    "anaemia": (("ferrous_fumarate", 0.5),),
    "cancer": (("letrozole", 0.2),),
}
# fmt: on

ITEM_INDEX = {item.name: i for i, item in enumerate(ITEMS)}
EFI_DEFICITS = 36
MEDICINE_NAMES = sorted({m for meds in MEDICINES.values() for m, _ in meds})
MEDICINE_INDEX = {m: i for i, m in enumerate(MEDICINE_NAMES)}
# Distinct eFI deficits coded through items (35; polypharmacy is the 36th, from medicines).
EFI_ITEM_GROUPS = sorted({item.efi for item in ITEMS if item.efi})


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def draw_onsets(
    age_at_cut: np.ndarray, dep: np.ndarray, frailty_z: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Onset age per person and item (inf = never); prevalence rises with age and deprivation."""
    n = len(age_at_cut)
    onsets = np.full((n, len(ITEMS)), np.inf, dtype=np.float32)
    for j, item in enumerate(ITEMS):
        logit = np.log(item.lifetime / (1 - item.lifetime))
        ever = rng.random(n) < _sigmoid(logit + item.deprivation * dep + item.frailty * frailty_z)
        # frail people get their conditions earlier
        onset = rng.normal(item.onset_mean - 3.0 * frailty_z, item.onset_sd)
        onset = np.clip(onset, 0.5, 110.0)
        onsets[:, j] = np.where(ever, onset, np.inf)
    return onsets


def draw_medicines(onsets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Age at which each repeat medicine starts (inf = never), from the conditions that call for it."""
    n = onsets.shape[0]
    starts = np.full((n, len(MEDICINE_NAMES)), np.inf, dtype=np.float32)
    for condition, meds in MEDICINES.items():
        onset = onsets[:, ITEM_INDEX[condition]]
        for med, prob in meds:
            takes = rng.random(n) < prob
            start = np.where(takes, onset + rng.exponential(0.3, n), np.inf)
            k = MEDICINE_INDEX[med]
            starts[:, k] = np.minimum(starts[:, k], start)
    return starts


def efi_count(onsets: np.ndarray, med_starts: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Number of the 36 eFI deficits present at the given age (polypharmacy: 5+ repeat medicines)."""
    present = onsets <= age[:, None]
    count = np.zeros(len(age), dtype=np.int16)
    for group in EFI_ITEM_GROUPS:
        cols = [i for i, item in enumerate(ITEMS) if item.efi == group]
        count += present[:, cols].any(axis=1)
    count += (med_starts <= age[:, None]).sum(axis=1) >= 5
    return count


@dataclass
class YearState:
    """What the simulation knows about everyone at one index date and over the year after it."""

    age: np.ndarray
    efi: np.ndarray
    conditions: np.ndarray  # count of the 17 long-term conditions
    health: np.ndarray  # latent health state (higher = worse)
    care_home: np.ndarray
    probability: np.ndarray  # true probability of >= 1 emergency admission in the year
    admitted: np.ndarray  # the Bernoulli draw
    emergencies: np.ndarray  # number of emergency admissions in the year
    dies: np.ndarray
    death_offset: np.ndarray  # day within the year of death (valid where dies)


def emergency_logit(
    age: np.ndarray,
    efi: np.ndarray,
    present: np.ndarray,
    dep: np.ndarray,
    prior: np.ndarray,
    health: np.ndarray,
    unobserved: np.ndarray,
    care_home: np.ndarray,
) -> np.ndarray:
    """Log-odds of at least one emergency admission in the next 12 months (the truth)."""

    def has(name: str) -> np.ndarray:
        return present[:, ITEM_INDEX[name]]

    age_term = -0.6 * (age < 5) + 0.010 * age + 0.0005 * np.maximum(age - 60, 0) ** 2
    frailty_term = 0.6 * np.log1p(efi) - 0.08 * np.maximum(efi - 10, 0)
    disease = (
        0.55 * has("heart_failure")
        + 0.55 * has("copd")
        + 0.35 * has("ckd")
        + 0.45 * has("cancer")
        + 0.35 * (has("diabetes_type1") | has("diabetes_type2"))
        + 0.30 * has("dementia")
        + 0.55 * has("severe_mental_illness")
        + 0.25 * has("atrial_fibrillation")
        + 0.30 * (has("heart_failure") & has("ckd"))  # cardio-renal interaction
    )
    return (
        -4.1
        + age_term
        + frailty_term
        + disease
        + 0.35 * dep
        + 0.6 * np.log1p(prior)
        + 0.30 * health
        + 0.25 * unobserved
        + 0.35 * care_home
    )


def death_logit(
    age: np.ndarray, efi: np.ndarray, present: np.ndarray, health: np.ndarray
) -> np.ndarray:
    """Log-odds of dying in the year; raised further by an emergency admission in that year."""
    cancer = present[:, ITEM_INDEX["cancer"]]
    heart_failure = present[:, ITEM_INDEX["heart_failure"]]
    return -10.9 + 0.088 * age + 0.09 * efi + 0.6 * cancer + 0.4 * heart_failure + 0.3 * health


def simulate_years(
    n_years: int,
    age_at_first: np.ndarray,
    onsets: np.ndarray,
    med_starts: np.ndarray,
    dep: np.ndarray,
    unobserved: np.ndarray,
    rng: np.random.Generator,
) -> list[YearState]:
    """Step the whole population a year at a time; each year's hazard reads the year before."""
    n = len(age_at_first)
    health = rng.normal(0, 1, n)
    prior = rng.poisson(0.05, n).astype(float)
    care_home = np.zeros(n, dtype=bool)
    alive = np.ones(n, dtype=bool)
    years: list[YearState] = []
    condition_cols = [i for i, item in enumerate(ITEMS[:17])]
    for k in range(n_years):
        age = age_at_first + k
        present = onsets <= age[:, None]
        efi = efi_count(onsets, med_starts, age)
        if k:
            health = 0.8 * health + np.sqrt(1 - 0.8**2) * rng.normal(0, 1, n)
        dementia = present[:, ITEM_INDEX["dementia"]]
        enters_care = (age >= 65) & (rng.random(n) < _sigmoid(-7.9 + 0.35 * efi + 1.2 * dementia))
        care_home = care_home | enters_care
        logit = emergency_logit(age, efi, present, dep, prior, health, unobserved, care_home)
        probability = _sigmoid(logit)
        admitted = rng.random(n) < probability
        emergencies = np.where(admitted, 1 + rng.poisson(0.2 + 1.5 * probability), 0)
        dies = rng.random(n) < _sigmoid(death_logit(age, efi, present, health) + 1.0 * admitted)
        dies &= alive
        years.append(
            YearState(
                age=age,
                efi=efi,
                conditions=present[:, condition_cols].sum(axis=1),
                health=health,
                care_home=care_home.copy(),
                probability=probability,
                admitted=admitted,
                emergencies=emergencies,
                dies=dies,
                death_offset=rng.integers(0, 365, n),
            )
        )
        prior = emergencies.astype(float)
        alive &= ~dies
    return years
