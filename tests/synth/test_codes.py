"""The synthetic GP record codes conditions as a real one does, across the published lists, and the
registry finds the conditions the generator gave people."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import numpy as np
import polars as pl

from stratify import codelists
from stratify.synth import codes, prevalence

ACCEPTANCE = ("hypertension", "copd", "heart_failure", "ckd", "diabetes")


def test_codes_are_drawn_with_a_skew_a_few_common_and_a_long_tail():
    drawn = codes.draw(np.random.default_rng(1), "hypertension", 20_000)
    shares = pl.Series(drawn).value_counts(sort=True)["count"].to_numpy() / len(drawn)
    assert drawn[0] in codelists.load("hypertension").code_values
    assert 0.15 < shares[0] < 0.40  # essential hypertension leads
    assert shares[:3].sum() < 0.60
    assert len(shares) > 60  # of the 117 codes in HYP_COD


def test_the_draw_is_deterministic_for_a_seeded_generator():
    a = codes.draw(np.random.default_rng(7), "asthma", 500)
    b = codes.draw(np.random.default_rng(7), "asthma", 500)
    assert (a == b).all()


def test_a_code_that_also_means_another_condition_is_never_drawn_for_this_one():
    ckd = set(codelists.load("ckd").code_values)
    hypertension = set(codes.pool("hypertension")["code"])
    assert hypertension and not hypertension & ckd
    dementia = set(codelists.load("dementia").code_values)
    assert not set(codes.pool("efi_memory_cognitive")["code"]) & dementia


def test_a_repeat_medicine_keeps_one_dm_d_product_and_it_is_in_the_class_list():
    code, term = codes.draw_medicines(np.random.default_rng(3), np.array(["atorvastatin"] * 50))
    assert set(code) <= set(codelists.load("statins").code_values)
    assert all(t.startswith(("Atorvastatin", "Lipitor")) for t in term)


def test_the_small_population_uses_many_codes_of_each_condition_list(small_population):
    folder, _ = small_population
    events = pl.read_parquet(folder / "feeds" / "gp_events.parquet")
    for name in ("hypertension", "asthma", "diabetes_type2", "ckd"):
        used = events.filter(pl.col("snomed_code").is_in(codelists.load(name).code_values))
        assert used["snomed_code"].n_unique() >= 8, name


def test_registry_prevalence_matches_the_truth_within_one_point(
    built_registry, small_population, tmp_path
):
    db, _ = built_registry
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    con = duckdb.connect(str(copy))
    table = prevalence.compare(con, small_population[0] / "ground_truth", date(2026, 11, 1))
    con.close()
    assert table["people"].min() > 4000
    rows = {r["condition"]: r for r in table.iter_rows(named=True)}
    for name in ACCEPTANCE:
        r = rows[name]
        assert r["true_prevalence"] > 0.005, name
        assert abs(r["registry_prevalence"] - r["true_prevalence"]) < 0.01, name
