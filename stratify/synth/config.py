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
    unknown_code: float = 0.003


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
