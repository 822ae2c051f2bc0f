"""The audit on a seeded population: its figures agree with direct counts from the registry, and
what leaves the direct-care team is suppressed."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest

from stratify import features, operational
from stratify.audit.run import month_ends, run

MONTHS = month_ends(date(2026, 8, 1), date(2026, 10, 31))


@pytest.fixture(scope="module")
def audited(scored_registry, tmp_path_factory):
    source, _, _ = scored_registry
    db = tmp_path_factory.mktemp("audit") / "stratify.duckdb"
    shutil.copy(source, db)
    operational.migrate(db)
    con = duckdb.connect(str(db))
    summary = run(con, MONTHS)
    # The direct counts below read the person features as at the last month's start.
    features.compute(con, MONTHS[-1].replace(day=1))
    con.close()
    return db, summary


def _sql(db, query, params=None) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(query, params=params).pl()
    finally:
        con.close()


def test_every_month_has_practice_cluster_and_system_figures(audited):
    db, summary = audited
    assert summary["months"] == 3
    levels = _sql(
        db, "SELECT level, count(DISTINCT month) AS months FROM audit.values GROUP BY level"
    )
    assert dict(levels.iter_rows()) == {"practice": 3, "cluster": 3, "system": 3}


def test_system_figures_are_sums_of_practice_numerators_and_denominators(audited):
    db, _ = audited
    joined = _sql(
        db,
        "SELECT s.measure, s.month, s.numerator AS system_n, sum(p.numerator) AS practice_n, "
        "s.denominator AS system_d, sum(p.denominator) AS practice_d FROM audit.values AS s "
        "JOIN audit.values AS p USING (measure, month) WHERE s.level = 'system' AND p.level = 'practice' "
        "GROUP BY ALL",
    )
    assert (joined["system_n"] == joined["practice_n"]).all()


def test_emergency_admissions_agree_with_a_direct_count_from_the_registry(audited):
    db, _ = audited
    month = MONTHS[-1]
    audit = _sql(
        db,
        "SELECT sum(numerator) AS n FROM audit.values WHERE level = 'system' AND month = ? AND measure IN "
        "('emergency_admissions_per_1000_enrolled', 'emergency_admissions_per_1000_eligible_not_enrolled')",
        [month],
    )["n"].item()
    direct = _sql(
        db,
        "SELECT count(*) AS n FROM registry.spells AS s JOIN features.person_features AS f USING (person_id) "
        "WHERE s.is_emergency AND s.admission_date BETWEEN ? AND ? "
        "AND (f.efi_category IN ('moderate', 'severe') OR f.diabetes_type1 + f.diabetes_type2 > 0)",
        [month.replace(day=1), month],
    )["n"].item()
    assert audit == direct > 0


def test_the_eligible_count_agrees_with_a_direct_count_of_the_cohorts(audited):
    db, _ = audited
    audit = _sql(
        db, "SELECT numerator FROM audit.values WHERE level = 'system' AND measure = 'eligible_people' AND month = ?",
        [MONTHS[-1]],
    )["numerator"].item()  # fmt: skip
    start = MONTHS[-1].replace(day=1)  # the population is everyone registered and alive then
    diabetic = _sql(
        db,
        "SELECT count(*) AS n FROM registry.person AS p WHERE p.registration_date < $d "
        "AND p.date_of_birth < $d AND (p.deregistration_date IS NULL OR p.deregistration_date >= $d) "
        "AND (p.date_of_death IS NULL OR p.date_of_death >= $d) AND EXISTS (SELECT 1 FROM registry.gp_events AS e "
        "JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.list IN ('diabetes_type1', 'diabetes_type2') "
        "WHERE e.person_id = p.person_id AND e.event_date < $d)",
        {"d": start},
    )["n"].item()
    frail_only = _sql(
        db,
        "SELECT count(*) AS n FROM features.person_features WHERE efi_category IN ('moderate', 'severe') "
        "AND diabetes_type1 + diabetes_type2 = 0",
    )["n"].item()
    assert audit == diabetic + frail_only


def test_adherence_figures_match_the_patient_level_statuses(audited):
    db, _ = audited
    audit = _sql(
        db, "SELECT numerator, denominator FROM audit.values WHERE level = 'system' AND measure = 'diabetes.hba1c' "
        "AND month = ?", [MONTHS[-1]],
    ).row(0)  # fmt: skip
    direct = _sql(
        db,
        "SELECT count(*) FILTER (WHERE status IN ('met', 'due_soon')) AS met, count(*) AS n FROM care.adherence "
        "WHERE as_of = ? AND protocol = 'diabetes' AND step = 'hba1c'",
        [MONTHS[-1]],
    ).row(0)
    assert audit == direct


def test_every_series_has_an_spc_chart_with_limits_and_icons(audited):
    db, _ = audited
    spc = _sql(
        db,
        "SELECT * FROM audit.spc WHERE level = 'system' AND measure = 'diabetes.hba1c' ORDER BY month",
    )
    assert spc.height == 3
    assert (spc["lower"] <= spc["mean"]).all() and (spc["mean"] <= spc["upper"]).all()
    assert spc["variation"][0] in {"common cause", "special cause improvement", "special cause concern",
                                   "special cause neither"}  # fmt: skip


def test_practices_are_compared_on_funnel_plots_not_ranked(audited):
    db, _ = audited
    funnel = _sql(db, "SELECT * FROM audit.funnel WHERE measure = 'diabetes.hba1c'")
    practices = _sql(db, "SELECT count(*) AS n FROM ref.practices")["n"].item()
    assert funnel.height == practices
    assert set(funnel["position_95"]) <= {"inside", "above", "below"}
    assert "rank" not in funnel.columns


def test_the_published_copy_suppresses_small_numbers_everywhere(audited):
    db, _ = audited
    published = _sql(db, "SELECT * FROM audit.published")
    small = published.filter(pl.col("numerator_display") == "*")
    assert small["numerator"].null_count() == small.height
    assert small["value"].null_count() == small.height
    shown = published.filter(pl.col("numerator").is_not_null() & (pl.col("numerator") > 0))
    assert (shown["numerator"] % 5 == 0).all()
    assert not ((published["numerator"] >= 1) & (published["numerator"] <= 7)).any()


def test_deaths_in_the_month_are_counted_for_the_frail_cohort(audited):
    db, _ = audited
    month = MONTHS[-1]
    audit = _sql(
        db, "SELECT denominator FROM audit.values WHERE level = 'system' AND measure = 'frail_deaths_in_hospital' "
        "AND month = ?", [month],
    )  # fmt: skip
    direct = _sql(
        db,
        "SELECT count(*) AS n FROM registry.person AS p JOIN features.person_features AS f USING (person_id) "
        "WHERE f.efi_category IN ('moderate', 'severe') AND p.date_of_death BETWEEN ? AND ?",
        [month.replace(day=1), month],
    )["n"].item()
    assert (audit["denominator"].item() if audit.height else 0) == direct


def test_commissioner_charts_are_drawn_from_suppressed_figures(audited):
    db, _ = audited
    spc = _sql(db, "SELECT * FROM audit.spc_published")
    assert set(spc["level"]) == {"practice", "cluster", "system"}
    shown = spc.filter(pl.col("numerator").is_not_null() & (pl.col("numerator") > 0))
    assert (shown["numerator"] % 5 == 0).all()
    funnel = _sql(db, "SELECT * FROM audit.funnel_published")
    assert (
        funnel.height == 0
        or ((funnel["numerator"] % 5 == 0) & (funnel["denominator"] % 5 == 0)).all()
    )
