"""Every knob of the synthetic population in one place, with defaults documented in README.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class QualityRates:
    """Rates of deliberate data-quality problems, per record of the feeds they apply to."""

    nhs_missing: dict[str, float] = field(
        default_factory=lambda: {
            "community_contacts": 0.03,
            "mh_contacts": 0.03,
            "social_care_services": 0.06,
        }
    )
    nhs_invalid: dict[str, float] = field(
        default_factory=lambda: {
            "community_contacts": 0.02,
            "mh_contacts": 0.02,
            "social_care_services": 0.04,
        }
    )
    name_typo: float = 0.03
    dob_error: float = 0.01
    postcode_typo: float = 0.01
    mover_share: float = 0.10  # people whose address changed inside the window
    duplicate_row: float = 0.002
    future_date: float = 0.001
    discharge_before_admission: float = 0.002
    unknown_code: float = 0.003  # a valid code that is in no code list (kept, counted)
    # Faults of feeds as suppliers send them (issue 13); each in ground_truth/defects.parquet.
    nhs_spaces: dict[str, float] = field(
        default_factory=lambda: {
            "patients": 0.02,
            "gp_medications": 0.02,
            "apc_spells": 0.05,
            "ecds_attendances": 0.05,
            "op_appointments": 0.05,
        }
    )  # "999 123 4567" or "999-123-4567" (normalised)
    uk_date_feed: str = "social_care_services"  # its contract declares dd/mm/yyyy
    uk_date: float = 0.6  # share of that feed's rows with dd/mm/yyyy dates (normalised)
    hba1c_percent: float = 1.0  # share of one practice's HbA1c sent in DCCT % (normalised)
    wrong_code_system: float = 0.002  # RxNorm numbers as dm+d, chart items as SNOMED (flagged)
    invalid_diagnosis: float = 0.003  # a primary diagnosis that is not ICD-10 (flagged)
    icd10_dotted: float = 0.02  # "J18.9" for J189 (normalised)
    missing_optional: dict[str, float] = field(
        default_factory=lambda: {"ecds_attendances": 0.05, "op_appointments": 0.03}
    )  # no arrival mode, no treatment function (kept)
    identity: IdentityRates = field(default_factory=lambda: IdentityRates())


@dataclass(frozen=True)
class IdentityRates:
    """How the records that carry name, date of birth and postcode go wrong (per record of the
    community, mental health and social care feeds, unless said otherwise), and the people who are
    hard to tell apart: twins, and family members at one address."""

    name_swap: float = 0.01  # given and family name recorded the wrong way round
    nickname: float = 0.03  # of records whose given name has a common short form
    initial_only: float = 0.01  # given name recorded as its initial
    surname_variant: float = 0.3  # of records of people with a double-barrelled surname: one part
    given_missing: float = 0.01
    dob_missing: float = 0.01
    dob_day_month_swap: float = 0.01  # of records whose day of birth is 12 or less
    dob_year_digit: float = 0.005  # one digit of the year of birth wrong
    double_barrelled: float = 0.03  # of people: a hyphenated or two-part surname
    twins: float = 0.02  # of people: one of a pair of twins (same surname, birth date, address)
    households: float = 0.3  # of people: shares surname and address with 1-3 others


@dataclass(frozen=True)
class SynthConfig:
    patients: int = 50_000
    seed: int = 42
    data_cut: date = date(2026, 10, 31)
    history_years: int = 5
    practice_size: tuple[int, int] = (3_000, 15_000)
    practices_per_cluster: int = 4
    chunk_size: int = 50_000
    quality: QualityRates = field(default_factory=QualityRates)
