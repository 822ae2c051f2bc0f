"""The population looks like an English integrated care system and its risk is learnable but
not trivially so."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stratify import codelists
from stratify.synth.config import SynthConfig
from stratify.synth.generator import synthesise
from stratify.synth.population import practice_sizes


def test_practice_list_sizes_fall_in_the_configured_range_and_sum_to_the_population():
    sizes = practice_sizes(50_000, 3_000, 15_000, np.random.default_rng(0))
    assert sum(sizes) == 50_000
    assert all(3_000 <= s <= 15_000 for s in sizes)


def test_the_default_demo_has_two_or_three_clusters(tmp_path):
    from stratify.synth import population as pop

    for seed in range(5):
        places = pop.make_places(
            SynthConfig(patients=50_000, seed=seed), np.random.default_rng(seed)
        )
        assert places.practices["cluster_code"].n_unique() in (2, 3)


def test_prevalence_rises_with_age_and_deprivation(small_population):
    folder, _ = small_population
    patients = pl.read_parquet(folder / "feeds" / "patients.parquet").unique("nhs_number")
    depr = pl.read_parquet(folder / "reference" / "deprivation.parquet")
    diabetes = (
        pl.read_parquet(folder / "feeds" / "gp_events.parquet")
        .filter(pl.col("snomed_code").is_in(codelists.load("diabetes_type2").code_values))
        .select("nhs_number")
        .unique()
        .with_columns(diabetic=pl.lit(True))
    )
    people = (
        patients.join(depr, on="lsoa_code")
        .join(diabetes, on="nhs_number", how="left")
        .with_columns(
            diabetic=pl.col("diabetic").fill_null(False),
            age=(pl.date(2026, 10, 31) - pl.col("date_of_birth")).dt.total_days() / 365.25,
        )
    )
    young = people.filter(pl.col("age") < 40)["diabetic"].mean()
    old = people.filter(pl.col("age") >= 65)["diabetic"].mean()
    assert old > 3 * young
    middle = people["imd_decile"].median()
    adults = people.filter(pl.col("age") >= 40)
    deprived = adults.filter(pl.col("imd_decile") < middle)["diabetic"].mean()
    affluent = adults.filter(pl.col("imd_decile") > middle)["diabetic"].mean()
    assert deprived > affluent


def test_older_people_are_frailer_in_the_ground_truth(small_population):
    folder, _ = small_population
    risk = pl.read_parquet(folder / "ground_truth" / "risk.parquet").filter(
        pl.col("index_date") == pl.date(2026, 11, 1)
    )
    older = risk.filter(pl.col("age") >= 65)
    assert risk.filter(pl.col("age") < 50)["efi_deficits"].mean() < 1.5
    moderate_or_severe = (older["efi_deficits"] >= 9).mean()
    assert 0.08 < moderate_or_severe < 0.30


def test_diabetes_care_processes_are_recorded_with_realistic_completeness_and_values(
    small_population,
):
    folder, _ = small_population
    events = pl.read_parquet(folder / "feeds" / "gp_events.parquet")
    hba1c = events.filter(pl.col("snomed_code").is_in(codelists.load("hba1c").code_values))
    # One practice's laboratory reports DCCT % (a planted supplier fault, converted at staging).
    assert set(hba1c["unit"].unique()) == {"mmol/mol", "%"}
    hba1c = hba1c.filter(pl.col("unit") == "mmol/mol")
    assert 45 < hba1c["value"].median() < 70
    assert 0.3 < (hba1c["value"] > 58).mean() < 0.6


@pytest.fixture(scope="module")
def population_100k(tmp_path_factory):
    out = tmp_path_factory.mktemp("p100k")
    return synthesise(SynthConfig(patients=100_000, seed=2026), out, "parquet")


def test_at_100000_patients_the_oracle_auroc_is_between_075_and_085(population_100k):
    for when in ("at_training_index", "at_data_cut"):
        assert 0.75 <= population_100k[when]["oracle_auroc"] <= 0.85


def test_at_100000_patients_emergency_admission_rates_are_realistic(population_100k):
    for when in ("at_training_index", "at_data_cut"):
        assert 0.05 <= population_100k[when]["emergency_admission_rate"] <= 0.10
        assert 0.12 <= population_100k[when]["emergency_admission_rate_65_plus"] <= 0.25
