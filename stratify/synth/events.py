"""Turn simulated health into records in every care setting, for one chunk of people.

Every function here is vectorised over people: counts are drawn per person-year, then expanded with
np.repeat into one row per event. Days are integers (days since 1970-01-01) until the very end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from stratify import codelists
from stratify.synth import codes
from stratify.synth.health import ITEM_INDEX, ITEMS, MEDICINE_NAMES, YearState
from stratify.synth.population import NEVER, People

YEAR = 365.25

# Primary ICD-10 diagnosis (HES style, four characters) for an emergency admission caused by a
# long-term condition: drawn from the condition's published ICD-10 list, the usual code first.
CONDITION_ICD10 = {
    "heart_failure": ("icd10_heart_failure", "I509"),
    "copd": ("icd10_copd", "J441"),
    "diabetes_type2": ("icd10_diabetes_type2", "E119"),
    "diabetes_type1": ("icd10_diabetes_type1", "E109"),
    "atrial_fibrillation": ("icd10_atrial_fibrillation", "I489"),
    "ischaemic_heart_disease": ("icd10_chd", "I219"),
    "stroke": ("icd10_stroke_tia", "I639"),
    "dementia": ("icd10_dementia", "F039"),
    "ckd": ("icd10_ckd", "N183"),
    "cancer": ("icd10_cancer", "C349"),
    "asthma": ("icd10_asthma", "J459"),
    "severe_mental_illness": ("icd10_schizophrenia", "F209"),
}
# Generic acute causes of emergency admission and elective diagnoses (as in icd10_acute and
# icd10_elective, our own lists).
ACUTE_ICD10 = np.array(
    ["J189", "N390", "S720", "R074", "R55X", "L039", "A419", "R104", "F059", "E86X", "J22X", "R060"]
)
ELECTIVE_ICD10 = np.array(["H259", "M171", "M161", "K573", "Z511", "K802", "N40X"])
OP_SPECIALTY = np.array(["300", "320", "430", "307", "340", "110", "370", "361", "101", "502"])
COMMUNITY_SERVICES = np.array(
    [
        "district_nursing",
        "community_matron",
        "physiotherapy",
        "occupational_therapy",
        "falls_service",
        "rapid_response",
    ]
)


@dataclass
class Chunk:
    """The slice of people and of their simulated years that one chunk turns into records."""

    people: People
    years: list[YearState]
    onsets: np.ndarray
    med_starts: np.ndarray
    index_days: np.ndarray  # period starts, len = n_years + 1 (last is the end of the future)
    practice_quality: np.ndarray  # per practice, multiplies recording completeness
    ids: np.ndarray  # global person ids of this chunk


@dataclass
class Windows:
    """Per period and person: the days the person is registered and alive."""

    start: np.ndarray  # (years, n)
    end: np.ndarray  # exclusive
    death: np.ndarray  # (n,) day of death or NEVER


def windows(chunk: Chunk) -> Windows:
    p = chunk.people
    n_years = len(chunk.years)
    n = len(p.dob)
    start = np.empty((n_years, n), dtype=np.int64)
    end = np.empty((n_years, n), dtype=np.int64)
    death = np.full(n, NEVER, dtype=np.int64)
    for k, ys in enumerate(chunk.years):
        lo, hi = chunk.index_days[k], chunk.index_days[k + 1]
        a = np.maximum.reduce([np.full(n, lo), p.registered, p.dob])
        b = np.minimum(np.full(n, hi), p.deregistered)
        b = np.where(death < NEVER, np.minimum(b, death + 1), b)
        dies = ys.dies & (a < b) & (death == NEVER)
        span = np.maximum(b - a, 1)
        day_of_death = a + (ys.death_offset * span // 365)
        death = np.where(dies, day_of_death, death)
        b = np.where(dies, day_of_death + 1, b)
        start[k], end[k] = a, np.maximum(a, b)
    return Windows(start, end, death)


def _spread(
    rng: np.random.Generator, counts: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Person index and a uniform day in [start, end) for each of counts[i] events of person i."""
    idx = np.repeat(np.arange(len(counts)), counts)
    lo, hi = start[idx], end[idx]
    days = lo + (rng.random(len(idx)) * np.maximum(hi - lo, 1)).astype(np.int64)
    return idx, days


def _annual(
    rng: np.random.Generator,
    recorded: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    period_start: int,
    review_day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Annual reviews fall near each person's own review day of the year (+/- 3 weeks), so a
    practice's 12-month coverage does not swing with the calendar; a review day outside the
    person's registered part of the year falls back to a uniform day within it."""
    idx = np.flatnonzero(recorded)
    day = period_start + np.clip(review_day[idx] + rng.integers(-21, 22, len(idx)), 0, 364)
    lo, hi = start[idx], end[idx]
    uniform = lo + (rng.random(len(idx)) * np.maximum(hi - lo, 1)).astype(np.int64)
    return idx, np.where((day >= lo) & (day < hi), day, uniform)


def _pick(rng: np.random.Generator, options: np.ndarray, n: int) -> np.ndarray:
    return options[rng.integers(0, len(options), n)]


def _codes(name: str) -> np.ndarray:
    return np.array(codelists.load(name).code_values)


class Rows:
    """Collects column arrays for one feed and makes a polars frame once at the end."""

    def __init__(self, columns: list[str]):
        self.columns = columns
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, **cols: np.ndarray) -> None:
        n = len(next(iter(cols.values())))
        if n:
            self.parts.append({c: cols.get(c, np.full(n, None)) for c in self.columns})

    def frame(self, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=schema)
        return pl.concat(
            [pl.DataFrame({c: part[c] for c in self.columns}, schema=schema) for part in self.parts]
        )


def _alive_mask(w: Windows, k: int) -> np.ndarray:
    return w.end[k] > w.start[k]


# --------------------------------------------------------------------------------------------
# GP record


def gp_events(chunk: Chunk, w: Windows, rng: np.random.Generator) -> pl.DataFrame:
    p = chunk.people
    n = len(p.dob)
    rows = Rows(["person", "day", "code", "value", "unit"])
    last_day = chunk.index_days[-1]
    stop = np.minimum(np.minimum(p.deregistered, w.death + 1), last_day)
    # Diagnoses and deficits are coded once, at onset (historic ones keep their historic date).
    for j, item in enumerate(ITEMS):
        onset = chunk.onsets[:, j]
        has = np.isfinite(onset)
        onset_day = np.where(has, p.dob + (np.where(has, onset, 0) * YEAR).astype(np.int64), NEVER)
        coded = has & (onset_day < stop)
        idx = np.flatnonzero(coded)
        rows.add(person=idx, day=onset_day[idx], code=codes.draw(rng, item.codelist, len(idx)))
    smoking_lists = ("smoking_current", "smoking_ex", "smoking_never")
    as_smoking = frozenset({"smoking_status"})
    smoker = rng.choice(3, size=n, p=[0.15, 0.30, 0.55])
    hba1c_mean = np.where(chunk.onsets[:, ITEM_INDEX["diabetes_type1"]] < 200, 66.0, 55.0)
    hba1c_mean = hba1c_mean + rng.normal(0, 10, n)
    sbp_mean = rng.normal(134, 12, n)
    dbp_mean = rng.normal(79, 8, n)
    bmi_mean = rng.normal(28, 5, n)
    quality = chunk.practice_quality[p.practice]
    review_day = rng.integers(0, 365, n)
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        active = b > a
        frac = (b - a) / 365.0
        age = ys.age
        diabetic = (chunk.onsets[:, ITEM_INDEX["diabetes_type2"]] <= age) | (
            chunk.onsets[:, ITEM_INDEX["diabetes_type1"]] <= age
        )
        rate = (1.0 + 0.06 * np.clip(age, 0, 100) + 0.5 * ys.conditions) * np.exp(
            0.35 * ys.health + 0.35 * p.unobserved - 0.14
        )
        idx, days = _spread(rng, rng.poisson(rate * frac * active), a, b)
        rows.add(person=idx, day=days, code=codes.draw(rng, "consultation", len(idx)))
        # Blood pressure (a systolic and a diastolic on the same day).
        needs_bp = (age >= 40) | diabetic | (ys.conditions > 0)
        p_bp = np.where(diabetic, 0.92 * quality, np.where(ys.conditions > 0, 0.7, 0.3))
        bp = active & needs_bp & (rng.random(n) < np.clip(p_bp, 0, 1))
        idx, days = _annual(rng, bp, a, b, chunk.index_days[k], review_day)
        s_val = np.rint(sbp_mean[idx] + 5 * ys.health[idx] + rng.normal(0, 10, len(idx)))
        d_val = np.rint(dbp_mean[idx] + rng.normal(0, 7, len(idx)))
        rows.add(
            person=idx,
            day=days,
            code=codes.draw(rng, "systolic_bp", len(idx)),
            value=s_val,
            unit=np.full(len(idx), "mmHg"),
        )
        rows.add(
            person=idx,
            day=days,
            code=codes.draw(rng, "diastolic_bp", len(idx)),
            value=d_val,
            unit=np.full(len(idx), "mmHg"),
        )
        # The other diabetes care processes, with National Diabetes Audit-like completeness.
        processes = [
            (
                "hba1c",
                0.90,
                lambda i: np.rint(hba1c_mean[i] + rng.normal(0, 6, len(i))).clip(25, 160),
                "mmol/mol",
            ),
            (
                "cholesterol",
                0.82,
                lambda i: np.round(rng.normal(4.5, 1.0, len(i)).clip(1.5, 10), 1),
                "mmol/L",
            ),
            (
                "serum_creatinine",
                0.88,
                lambda i, age=age: np.rint(
                    rng.normal(85, 20, len(i)) + 60 * (chunk.onsets[i, ITEM_INDEX["ckd"]] <= age[i])
                ).clip(30, 600),
                "umol/L",
            ),
            ("urine_acr", 0.55, lambda i: np.round(rng.lognormal(0.5, 1.0, len(i)), 1), "mg/mmol"),
            ("foot_examination", 0.75, None, None),
            (
                "bmi",
                0.80,
                lambda i: np.round(bmi_mean[i] + 2 + rng.normal(0, 1, len(i)), 1),
                "kg/m2",
            ),
            ("smoking_status", 0.85, None, None),
            ("retinal_screening", 0.78, None, None),
        ]
        for name, completeness, value_fn, unit in processes:
            recorded = active & diabetic & (rng.random(n) < np.clip(completeness * quality, 0, 1))
            idx, days = _annual(rng, recorded, a, b, chunk.index_days[k], review_day)
            if name == "smoking_status":
                code = np.empty(len(idx), dtype=object)
                for k_, part in enumerate(smoking_lists):
                    mine = smoker[idx] == k_
                    code[mine] = codes.draw(rng, part, int(mine.sum()), as_smoking)
            elif name == "hba1c":  # values in mmol/mol: IFCC-standardised codes only
                code = codes.draw(rng, "hba1c_ifcc", len(idx), frozenset({"hba1c"}))
            else:
                code = codes.draw(rng, name, len(idx))
            value = value_fn(idx) if value_fn else None
            units = np.full(len(idx), unit) if unit else None
            rows.add(person=idx, day=days, code=code, value=value, unit=units)
        # Reviews, falls questions, care plans and frailty codes.
        on_meds = (chunk.med_starts <= age[:, None]).any(axis=1)
        moderate = ys.efi >= 9
        older = age >= 65
        for name, prob in [
            ("medication_review", np.where(on_meds, 0.6 * quality, 0.0)),
            ("structured_medication_review", np.where(older & moderate, 0.35 * quality, 0.0)),
            ("falls_assessment", np.where(older, 0.05 + 0.35 * moderate * quality, 0.0)),
            ("care_plan", np.where(moderate | (ys.conditions >= 3), 0.2 * quality, 0.0)),
            ("care_plan_review", np.where(moderate, 0.25 * quality, 0.0)),
        ]:
            recorded = active & (rng.random(n) < np.clip(prob, 0, 1))
            idx, days = _annual(rng, recorded, a, b, chunk.index_days[k], review_day)
            rows.add(person=idx, day=days, code=codes.draw(rng, name, len(idx)))
        frailty_coded = active & older & (ys.efi >= 5) & (rng.random(n) < 0.3)
        idx, days = _spread(rng, frailty_coded.astype(np.int64), a, b)
        category = np.select([ys.efi[idx] >= 14, ys.efi[idx] >= 9], [2, 1], 0)
        rows.add(person=idx, day=days, code=_codes("frailty_category")[category])
        # Falls recur in those who fall.
        fallers = chunk.onsets[:, ITEM_INDEX["falls"]] <= age
        idx, days = _spread(rng, rng.poisson(0.6 * frac * fallers * active), a, b)
        rows.add(person=idx, day=days, code=codes.draw(rng, "efi_falls", len(idx)))
    return rows.frame(
        {
            "person": pl.Int64,
            "day": pl.Int64,
            "code": pl.String,
            "value": pl.Float64,
            "unit": pl.String,
        }
    )


def gp_medications(chunk: Chunk, w: Windows, rng: np.random.Generator) -> pl.DataFrame:
    """Repeat issues every 28, 56 or 84 days from the start of each medicine, plus acute issues."""
    p = chunk.people
    first_day, last_day = chunk.index_days[0], chunk.index_days[-1]
    stop = np.minimum(np.minimum(p.deregistered, w.death + 1), last_day)
    begin = np.maximum(p.registered, first_day)
    person, med = np.nonzero(np.isfinite(chunk.med_starts))
    start = p.dob[person] + (chunk.med_starts[person, med] * YEAR).astype(np.int64)
    interval = rng.choice(np.array([28, 56, 84]), size=len(person), p=[0.3, 0.5, 0.2])
    # Align the first issue inside the window on the medicine's own cycle.
    lag = np.maximum(begin[person] - start, 0)
    first = start + -(-lag // interval) * interval
    count = np.where(stop[person] > first, -(-(stop[person] - first) // interval), 0)
    # One product per person and medicine: a repeat keeps its dm+d code from issue to issue.
    pair_code, pair_term = codes.draw_medicines(rng, np.array(MEDICINE_NAMES)[med])
    rep = np.repeat(np.arange(len(person)), count)
    step = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    days = first[rep] + step * interval[rep]
    repeat = pl.DataFrame(
        {
            "person": person[rep],
            "day": days,
            "medicine": np.array(MEDICINE_NAMES)[med[rep]],
            "code": pair_code[rep].astype(str) if len(rep) else np.array([], dtype=str),
            "term": pair_term[rep].astype(str) if len(rep) else np.array([], dtype=str),
            "issue_type": np.full(len(rep), "repeat"),
        }
    )
    acute = []
    for k in range(len(chunk.years)):
        a, b = w.start[k], w.end[k]
        counts = rng.poisson(0.25 * (b - a) / 365.0 * (b > a))
        idx, d = _spread(rng, counts, a, b)
        names = _pick(rng, np.array(["amoxicillin", "nitrofurantoin"]), len(idx))
        code, term = codes.draw_medicines(rng, names)
        acute.append(
            pl.DataFrame(
                {
                    "person": idx,
                    "day": d,
                    "medicine": names,
                    "code": code.astype(str),
                    "term": term.astype(str),
                    "issue_type": np.full(len(idx), "acute"),
                }
            )
        )
    return pl.concat([repeat, *acute])


# --------------------------------------------------------------------------------------------
# Hospital


def apc_spells(chunk: Chunk, w: Windows, rng: np.random.Generator) -> pl.DataFrame:
    """Emergency and elective spells, never overlapping within a person; deaths in hospital."""
    frames = []
    present_names = list(CONDITION_ICD10)
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        active = b > a
        dies = (w.death >= a) & (w.death < b)
        n_em = np.where(active, ys.emergencies, 0)
        idx, adm = _spread(rng, n_em, a, np.where(dies, w.death + 1, b))
        age = ys.age[idx]
        median = 1.5 + 0.09 * np.maximum(age - 45, 0) + 0.25 * ys.efi[idx]
        los = np.where(rng.random(len(idx)) < 0.22, 0, np.rint(rng.lognormal(np.log(median), 0.7)))
        los = np.clip(los, 0, 150).astype(np.int64)
        # Cause: one of the person's conditions half the time, otherwise an acute cause.
        diag = _pick(rng, ACUTE_ICD10, len(idx))
        for name in present_names:
            has = chunk.onsets[idx, ITEM_INDEX[name]] <= age
            take = has & (rng.random(len(idx)) < 0.35)
            diag = np.where(take, codes.draw_icd10(rng, *CONDITION_ICD10[name], len(idx)), diag)
        method = rng.choice(
            np.array(["21", "22", "23", "28"]), size=len(idx), p=[0.76, 0.14, 0.04, 0.06]
        )
        # Some of those who die that year die in their last emergency spell.
        in_hospital = dies[idx] & (rng.random(len(idx)) < 0.6)
        emergency = pl.DataFrame(
            {
                "person": idx,
                "admission": adm,
                "los": los,
                "diagnosis": diag,
                "method": method,
                "dies_here": in_hospital,
            }
        )
        rate = (
            0.02
            + 0.0015 * np.clip(ys.age, 0, 100)
            + 0.4 * (chunk.onsets[:, ITEM_INDEX["cancer"]] <= ys.age)
        )
        n_el = rng.poisson(rate * np.exp(0.2 * ys.health) * (b - a) / 365.0 * active)
        idx, adm = _spread(rng, n_el, a, np.where(dies, w.death, b))
        los = np.where(rng.random(len(idx)) < 0.7, 0, rng.integers(1, 6, len(idx)))
        is_cancer = chunk.onsets[idx, ITEM_INDEX["cancer"]] <= ys.age[idx]
        diag = np.where(
            is_cancer & (rng.random(len(idx)) < 0.6), "Z511", _pick(rng, ELECTIVE_ICD10, len(idx))
        )
        elective = pl.DataFrame(
            {
                "person": idx,
                "admission": adm,
                "los": los.astype(np.int64),
                "diagnosis": diag,
                "method": rng.choice(np.array(["11", "12", "13"]), size=len(idx)),
                "dies_here": np.zeros(len(idx), dtype=bool),
            }
        )
        frames += [emergency, elective]
    spells = pl.concat(frames).sort(["person", "admission"])
    death = pl.Series(w.death)
    spells = spells.with_columns(
        death=death.gather(spells["person"]),
        next_admission=pl.col("admission").shift(-1).over("person"),
    )
    # The person's last emergency spell in a year they die in hospital ends on the day of death.
    last_for_death = pl.col("dies_here") & (
        pl.col("admission") == pl.col("admission").filter(pl.col("dies_here")).max().over("person")
    )
    spells = spells.with_columns(
        discharge=pl.when(last_for_death)
        .then(pl.col("death"))
        .otherwise(
            pl.min_horizontal(
                pl.col("admission") + pl.col("los"),
                pl.col("next_admission") - 1,
                pl.col("death"),
            )
        )
    ).with_columns(
        discharge=pl.max_horizontal("discharge", "admission"),
    )
    return spells.with_columns(died=pl.col("discharge") == pl.col("death")).select(
        "person", "admission", "discharge", "diagnosis", "method", "died"
    )


def ecds_attendances(
    chunk: Chunk, w: Windows, spells: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """An attendance before every emergency admission via A&E, and others that go home."""
    via_ae = spells.filter(pl.col("method") == "21")
    admitted = pl.DataFrame(
        {
            "person": via_ae["person"],
            "day": via_ae["admission"],
            "destination": np.full(via_ae.height, "admitted"),
            "mode": rng.choice(
                np.array(["ambulance", "walk_in"]), size=via_ae.height, p=[0.6, 0.4]
            ),
        }
    )
    frames = [admitted]
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        age = np.clip(ys.age, 0, 110)
        rate = (0.2 + 0.002 * age + 0.00006 * np.maximum(age - 60, 0) ** 2) * np.exp(
            0.5 * ys.health + 0.35 * chunk.people.unobserved - 0.25
        )
        idx, days = _spread(rng, rng.poisson(rate * (b - a) / 365.0 * (b > a)), a, b)
        frames.append(
            pl.DataFrame(
                {
                    "person": idx,
                    "day": days,
                    "destination": rng.choice(
                        np.array(["home", "referred", "left_before_treatment"]),
                        size=len(idx),
                        p=[0.8, 0.15, 0.05],
                    ),
                    "mode": rng.choice(
                        np.array(["ambulance", "walk_in"]), size=len(idx), p=[0.25, 0.75]
                    ),
                }
            )
        )
    return pl.concat(frames)


def op_appointments(chunk: Chunk, w: Windows, rng: np.random.Generator) -> pl.DataFrame:
    p = chunk.people
    frames = []
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        age = np.clip(ys.age, 0, 110)
        rate = (0.5 + 0.02 * age + 0.45 * ys.conditions) * np.exp(0.3 * ys.health - 0.05)
        idx, days = _spread(rng, rng.poisson(rate * (b - a) / 365.0 * (b > a)), a, b)
        p_dna = (
            0.05 + 0.04 * (p.dep[idx] > 0.3) + 0.03 * (age[idx] < 30) + 0.03 * (ys.efi[idx] >= 9)
        )
        u = rng.random(len(idx))
        status = np.where(
            u < p_dna, "did_not_attend", np.where(u < p_dna + 0.05, "cancelled", "attended")
        )
        frames.append(
            pl.DataFrame(
                {
                    "person": idx,
                    "day": days,
                    "specialty": _pick(rng, OP_SPECIALTY, len(idx)),
                    "status": status,
                }
            )
        )
    return pl.concat(frames)


# --------------------------------------------------------------------------------------------
# Community, mental health and social care


def discharge_followup(
    spells: pl.DataFrame,
    quality: np.ndarray,
    practice: np.ndarray,
    stop: np.ndarray,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Contact after an emergency discharge: often within three working days, sometimes later,
    sometimes never; by the practice (a telephone encounter) or by the community team. Never
    after `stop` (death, leaving the practice, the end of the simulation)."""
    live = spells.filter(pl.col("method").str.starts_with("2") & ~pl.col("died"))
    person = live["person"].to_numpy()
    n = len(person)
    q = quality[practice[person]]
    happens = rng.random(n) < np.clip(0.75 * q, 0, 1)
    prompt = rng.random(n) < 0.7
    delay = np.where(prompt, rng.integers(1, 4, n), rng.integers(4, 15, n))
    by_practice = rng.random(n) < 0.6
    day = live["discharge"].to_numpy() + delay
    return pl.DataFrame({"person": person, "day": day, "by_practice": by_practice}).filter(
        pl.Series(happens & (day < stop[person]))
    )


def community_contacts(
    chunk: Chunk, w: Windows, followup: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    frames = [
        followup.filter(~pl.col("by_practice")).select(
            "person",
            "day",
            service=pl.lit("rapid_response"),
        )
    ]
    housebound = ITEM_INDEX["housebound"]
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        age = np.clip(ys.age, 0, 110)
        rate = np.exp(-4.2 + 0.04 * age + 0.22 * ys.efi + 0.4 * ys.health)
        bound = chunk.onsets[:, housebound] <= ys.age
        rate = rate + 8.0 * bound
        idx, days = _spread(rng, rng.poisson(rate * (b - a) / 365.0 * (b > a)), a, b)
        service = np.where(
            bound[idx] & (rng.random(len(idx)) < 0.7),
            "district_nursing",
            _pick(rng, COMMUNITY_SERVICES, len(idx)),
        )
        frames.append(pl.DataFrame({"person": idx, "day": days, "service": service}))
    out = pl.concat(frames)
    return out.with_columns(
        contact_type=pl.Series(
            rng.choice(np.array(["face_to_face", "telephone"]), size=out.height, p=[0.8, 0.2])
        )
    )


def mh_contacts(chunk: Chunk, w: Windows, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        present = chunk.onsets <= ys.age[:, None]
        smi = present[:, ITEM_INDEX["severe_mental_illness"]]
        dep = present[:, ITEM_INDEX["depression"]]
        dem = present[:, ITEM_INDEX["dementia"]]
        for mask, rate, service in [
            (smi, 10.0, "community_mental_health_team"),
            (dep, 0.8, "talking_therapies"),
            (dem, 1.5, "memory_service"),
            (smi | dep, 0.08, "crisis_team"),
        ]:
            lam = rate * mask * np.exp(0.3 * ys.health) * (b - a) / 365.0 * (b > a)
            idx, days = _spread(rng, rng.poisson(lam), a, b)
            frames.append(
                pl.DataFrame({"person": idx, "day": days, "service": np.full(len(idx), service)})
            )
    out = pl.concat(frames)
    return out.with_columns(
        contact_type=pl.Series(
            rng.choice(np.array(["face_to_face", "telephone"]), size=out.height, p=[0.7, 0.3])
        )
    )


def social_care_services(
    chunk: Chunk, w: Windows, spells: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Care home placements (from the simulated state), home care packages and reablement."""
    p = chunk.people
    stop = np.minimum(np.minimum(p.deregistered, w.death + 1), chunk.index_days[-1])
    frames = []
    entered = np.zeros(len(p.dob), dtype=bool)
    for k, ys in enumerate(chunk.years):
        a, b = w.start[k], w.end[k]
        active = b > a
        new = ys.care_home & ~entered & active
        entered |= ys.care_home
        idx, start = _spread(rng, new.astype(np.int64), a, b)
        nursing = (ys.efi[idx] >= 12) & (rng.random(len(idx)) < 0.5)
        frames.append(
            pl.DataFrame(
                {
                    "person": idx,
                    "start": start,
                    "end": stop[idx] - 1,
                    "service": np.where(nursing, "nursing_care", "residential_care"),
                }
            )
        )
        needs = active & ~ys.care_home & (ys.age >= 65) & (ys.efi >= 7)
        home = needs & (rng.random(len(p.dob)) < 0.12 + 0.02 * (ys.efi - 7))
        idx, start = _spread(rng, home.astype(np.int64), a, b)
        end = np.minimum(
            start + rng.exponential(200, len(idx)).astype(np.int64) + 14, stop[idx] - 1
        )
        frames.append(
            pl.DataFrame(
                {
                    "person": idx,
                    "start": start,
                    "end": end,
                    "service": np.full(len(idx), "home_care"),
                }
            )
        )
    older = spells.filter(pl.col("method").str.starts_with("2") & ~pl.col("died"))
    ages = (older["admission"].to_numpy() - p.dob[older["person"].to_numpy()]) / YEAR
    pick = (ages >= 70) & (rng.random(older.height) < 0.12)
    re = older.filter(pl.Series(pick))
    person = re["person"].to_numpy()
    start = re["discharge"].to_numpy() + 1
    frames.append(
        pl.DataFrame(
            {
                "person": person,
                "start": start,
                "end": np.minimum(start + 42, stop[person] - 1),
                "service": np.full(len(person), "reablement"),
            }
        )
    )
    out = pl.concat(frames)
    return out.filter(pl.col("end") >= pl.col("start"))


def rapid_practice_followup(followup: pl.DataFrame) -> pl.DataFrame:
    """Practice follow-ups are telephone encounters in the GP record."""
    tel = codelists.load("consultation").code_values[0]
    return followup.filter(pl.col("by_practice")).select(
        "person",
        "day",
        code=pl.lit(tel),
        value=pl.lit(None, pl.Float64),
        unit=pl.lit(None, pl.String),
    )


def provider_of(practice: np.ndarray, options: np.ndarray) -> np.ndarray:
    """Each practice mostly uses one provider of a kind (its local trust)."""
    return options[practice % len(options)]
