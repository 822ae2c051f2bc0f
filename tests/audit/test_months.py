"""The one-pass monthly measures agree with the former per-month computation, and only months
whose inputs changed are recomputed."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from stratify import operational
from stratify.audit import months as audit_months
from stratify.audit import reference
from stratify.audit.window import month_ends

MONTHS = month_ends(date(2026, 7, 1), date(2026, 10, 31))


@pytest.fixture
def con(scored_registry, tmp_path):
    db = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], db)
    operational.migrate(db)
    con = duckdb.connect(str(db))
    # a few operational records, so the enrolment measures are not all zero
    people = [
        r[0] for r in con.execute("SELECT person_id FROM registry.person LIMIT 400").fetchall()
    ]
    for i, person in enumerate(people):
        day = datetime(2026, 7 + i % 4, 1 + i % 28)
        con.execute(
            "INSERT INTO ops.enrolment (person_id, action, reason, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, 'test', ?)",
            [person, "enrolled" if i % 3 else "declined", None if i % 3 else "no", day],
        )
        if i % 2:
            con.execute(
                "INSERT INTO ops.coordinators (person_id, coordinator_name, coordinator_role, "
                "organisation, accountable_gp, recorded_by, recorded_at) "
                "VALUES (?, 'c', 'r', 'o', 'g', 'test', ?)",
                [person, day],
            )
    yield con
    con.close()


def test_one_pass_measures_equal_the_per_month_computation_measure_by_measure(con):
    expected = reference.practice_measures(con, MONTHS)
    con.execute("DROP TABLE audit.measures")
    audit_months.compute(con, MONTHS)
    got = con.sql("SELECT * FROM audit.measures ORDER BY ALL").pl()
    assert expected.height > 0
    keys = ["month", "level", "unit_code", "measure"]
    joined = expected.join(got, on=keys, how="full", suffix="_one_pass", coalesce=True)
    for measure, rows in joined.group_by("measure"):
        for column in ("numerator", "denominator", "multiplier"):
            mismatched = rows.filter(pl.col(column).ne_missing(pl.col(f"{column}_one_pass")))
            assert mismatched.height == 0, (measure, column, mismatched.head())


def test_unchanged_months_are_not_recomputed_and_recompute_forces_them(con):
    assert audit_months.compute(con, MONTHS) == MONTHS
    assert audit_months.compute(con, MONTHS) == []
    assert audit_months.compute(con, MONTHS, recompute=True) == MONTHS


def test_a_new_operational_record_recomputes_only_the_months_it_falls_in(con):
    audit_months.compute(con, MONTHS)
    person = con.execute("SELECT min(person_id) FROM registry.person").fetchall()[0][0]
    con.execute(
        "INSERT INTO ops.enrolment (person_id, action, reason, recorded_by, recorded_at) "
        "VALUES (?, 'enrolled', NULL, 'test', TIMESTAMP '2026-10-05 10:00')",
        [person],
    )
    assert audit_months.compute(con, MONTHS) == [date(2026, 10, 31)]
    recorded = con.sql("SELECT month_end, build_id, ops_records FROM audit.months").pl()
    assert recorded.height == len(MONTHS)
    assert recorded["build_id"].null_count() == 0
