"""Which code the synthetic GP record writes for a concept: drawn from the whole published list with
a skewed spread, as a real record looks (a few codes take most records, a long tail takes the rest).

Two rules keep the ground truth exact while drawing across full lists:
- a code is drawn for a concept only if every concept it would count towards downstream (the
  condition and process lists the features and protocols read, and the eFI deficits) is one the
  drawn concept means anyway, so that "hypertensive chronic kidney disease" is never written for a
  person the generator gave hypertension but not CKD;
- the ranking puts the codes clinicians pick most first (HEAD: the general concepts, e.g. essential
  hypertension 59621000 and hypertensive disorder 38341003), then the rest by the length of their
  term without its semantic tag (the general "Asthma" before "Asthma attack during pregnancy");
  weights fall as 1 / rank ** SKEW. Deterministic: no randomness except the caller's generator.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from stratify import codelists
from stratify.synth.health import ITEMS

SKEW = 1.1

# Concepts the registry reads (features, protocols, audit) and the generator writes.
PROCESS_LISTS = (
    "hba1c", "systolic_bp", "diastolic_bp", "cholesterol", "serum_creatinine", "urine_acr",
    "foot_examination", "bmi", "smoking_status", "retinal_screening", "medication_review",
    "structured_medication_review", "falls_assessment", "care_plan", "care_plan_review",
    "frailty_category", "consultation",
)  # fmt: skip
CONDITION_LISTS = tuple(item.codelist for item in ITEMS[:17])

# The most used codes of a list, in order (all are in the published lists).
HEAD: dict[str, tuple[str, ...]] = {
    "hypertension": ("59621000", "38341003", "1201005"),
    "diabetes_type1": ("46635009",),
    "diabetes_type2": ("44054006",),
    "copd": ("13645005",),
    "asthma": ("195967001",),
    "heart_failure": ("84114007",),
    "atrial_fibrillation": ("49436004",),
    "ischaemic_heart_disease": ("414545008", "22298006", "413838009"),
    "stroke": ("230690007",),
    "ckd": ("433144002", "700379002"),
    "dementia": ("52448006", "26929004"),
    "depression": ("35489007",),
    "severe_mental_illness": ("58214004", "13746004"),
    "cancer": ("363346000", "254837009", "363358000", "399068003"),
    "osteoporosis": ("64859006",),
    "parkinsonism": ("49049000",),
    "thyroid_disease": ("40930008",),
    "hba1c_ifcc": ("999791000000106",),
    "systolic_bp": ("271649006",),
    "diastolic_bp": ("271650006",),
    "cholesterol": ("1005671000000105",),
    "serum_creatinine": ("1000731000000107",),
    "urine_acr": ("1023491000000104",),
    "bmi": ("60621009",),
    "medication_review": ("182836005",),
    "smoking_current": ("77176002",),
    "smoking_ex": ("8517006",),
    "smoking_never": ("266919005",),
}
# What a record of a list may also count for, beyond the list itself (an SMR is a medication review).
ALSO: dict[str, frozenset[str]] = {"structured_medication_review": frozenset({"medication_review"})}


def _weights(n: int) -> pl.Series:
    """Zipf-like shares for n ranked codes: 1 / rank ** SKEW, summing to one."""
    w = 1.0 / np.arange(1, n + 1) ** SKEW
    return pl.Series("weight", w / w.sum())


@cache
def _tags() -> pl.DataFrame:
    """code -> every concept or eFI deficit (as `efi:<deficit>`) that a record of it counts for."""
    frames = [
        codelists.load(name).codes.select("code", tag=pl.lit(name))
        for name in (*CONDITION_LISTS, *PROCESS_LISTS)
    ]
    deficits = pl.read_csv(codelists.CODELIST_DIR / "efi_deficits.csv")
    for deficit, name in deficits.iter_rows():
        frames.append(codelists.load(name).codes.select("code", tag=pl.lit(f"efi:{deficit}")))
    return pl.concat(frames).unique()


def meaning(name: str) -> set[str]:
    """What a record drawn for this list may count towards: the list itself (if read downstream)
    and the eFI deficits the list belongs to."""
    deficits = pl.read_csv(codelists.CODELIST_DIR / "efi_deficits.csv")
    tags = {f"efi:{d}" for d in deficits.filter(pl.col("list") == name)["deficit"]}
    if name in CONDITION_LISTS or name in PROCESS_LISTS:
        tags.add(name)
    return tags


@cache
def pool(name: str, means: frozenset[str] | None = None) -> pl.DataFrame:
    """The codes of `name` that may be written for it, most common first, with their weights.
    `means` overrides what a record may count towards (for a part list such as smoking_ex drawn
    as smoking_status)."""
    allowed = (frozenset(meaning(name)) if means is None else means) | ALSO.get(name, frozenset())
    codes = codelists.load(name).codes.select("code", "term")
    extra = _tags().filter(~pl.col("tag").is_in(list(allowed))).select("code").unique()
    usable = codes.join(extra, on="code", how="anti")
    if usable.is_empty():
        raise ValueError(f"code list {name!r}: every code also means another concept")
    head = {code: i for i, code in enumerate(HEAD.get(name, ()))}
    ranked = usable.with_columns(
        head=pl.col("code").replace_strict(head, default=len(head), return_dtype=pl.Int64),
        length=pl.col("term").fill_null("").str.replace(r" \([a-z /]+\)$", "").str.len_chars(),
    ).sort("head", "length", "code")
    return ranked.select("code", "term").with_columns(_weights(ranked.height))


def draw(
    rng: np.random.Generator, name: str, n: int, means: frozenset[str] | None = None
) -> np.ndarray:
    """n codes for the list `name`, with the list's skewed spread."""
    p = pool(name, means)
    return p["code"].to_numpy()[rng.choice(p.height, size=n, p=p["weight"].to_numpy())]


@cache
def medicine_pool(medicine: str) -> pl.DataFrame:
    """dm+d codes of one medicine, generic products (short terms, no supplier) first."""
    codes = codelists.load("medicines").codes.filter(pl.col("medicine") == medicine)
    if codes.is_empty():
        raise ValueError(f"no dm+d code for medicine {medicine!r} in the medicines list")
    ranked = codes.with_columns(length=pl.col("term").str.len_chars()).sort("length", "code")
    return ranked.select("code", "term").with_columns(_weights(ranked.height))


def draw_medicines(rng: np.random.Generator, medicine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A dm+d code and its term for each entry of `medicine` (names), with each medicine's spread."""
    code = np.empty(len(medicine), dtype=object)
    term = np.empty(len(medicine), dtype=object)
    for name in np.unique(medicine):
        at = np.flatnonzero(medicine == name)
        p = medicine_pool(str(name))
        pick = rng.choice(p.height, size=len(at), p=p["weight"].to_numpy())
        code[at] = p["code"].to_numpy()[pick]
        term[at] = p["term"].to_numpy()[pick]
    return code, term


@cache
def icd10_pool(name: str, head: str) -> pl.DataFrame:
    """Four-character ICD-10 codes of a list (HES records primary diagnoses at four characters),
    `head` first; a list with no four-character codes gives `head` alone. External causes (V-Y)
    and status codes (Z) in a condition's list are never the primary diagnosis of its admission."""
    codes = codelists.load(name).codes.filter(
        (pl.col("code").str.len_chars() == 4) & ~pl.col("code").str.contains("^[V-Z]")
    )
    ranked = (
        pl.concat([pl.DataFrame({"code": [head]}), codes.select("code")])
        .unique("code", keep="first", maintain_order=True)
        .with_columns(first=pl.col("code") != head)
        .sort("first", "code")
    )
    return ranked.select("code").with_columns(_weights(ranked.height))


def draw_icd10(rng: np.random.Generator, name: str, head: str, n: int) -> np.ndarray:
    p = icd10_pool(name, head)
    return p["code"].to_numpy()[rng.choice(p.height, size=n, p=p["weight"].to_numpy())]
