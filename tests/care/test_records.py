"""What people record is kept whole: append-only history, checked input, safe across rebuilds."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pytest

from stratify import operational
from stratify.care import candidates
from stratify.care.records import (
    Action,
    RecordError,
    record_care_plan,
    record_coordinator,
    record_enrolment,
)
from stratify.registry.build import build


@pytest.fixture
def db(care_db):
    return care_db


@pytest.fixture
def person(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    pid = con.execute("SELECT min(person_id) FROM registry.person").fetchall()[0][0]
    con.close()
    return pid


def test_the_enrolment_ledger_keeps_every_decision_and_the_latest_is_current(db, person):
    con = duckdb.connect(str(db))
    record_enrolment(con, person, "deferred", "dr.a", reason="in hospital; revisit next month")
    record_enrolment(con, person, "enrolled", "dr.b")
    record_enrolment(con, person, "withdrawn", "dr.b", reason="moved to another area")
    history = con.execute(
        "SELECT action, reason, recorded_by FROM ops.enrolment WHERE person_id = ? ORDER BY record_id",
        [person],
    ).fetchall()
    candidates(con)
    current = con.execute(
        "SELECT enrolment_status, decided_by FROM care.candidates WHERE person_id = ?", [person]
    ).fetchall()
    con.close()
    assert history == [
        ("deferred", "in hospital; revisit next month", "dr.a"),
        ("enrolled", None, "dr.b"),
        ("withdrawn", "moved to another area", "dr.b"),
    ]
    assert current in ([], [("withdrawn", "dr.b")])  # listed if still eligible, with the latest


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "declined", "reason": None}, "reason is required"),
        ({"action": "maybe"}, "action must be one of"),
        ({"action": "enrolled", "recorded_by": ""}, "recorded_by is required"),
        ({"action": "declined", "reason": "x" * 501}, "longer than 500 characters"),
    ],
)
def test_enrolment_input_is_checked(db, person, kwargs, message):
    con = duckdb.connect(str(db))
    args = {"recorded_by": "dr.a", "reason": None, **kwargs}
    with pytest.raises(RecordError, match=message):
        record_enrolment(con, person, args["action"], args["recorded_by"], args["reason"])
    con.close()


def test_only_registered_people_can_be_recorded(db):
    con = duckdb.connect(str(db))
    with pytest.raises(RecordError, match="no registered person"):
        record_enrolment(con, 10_000_000, "enrolled", "dr.a")
    with pytest.raises(RecordError, match="whole number"):
        record_enrolment(con, "1; DROP TABLE ops.enrolment", "enrolled", "dr.a")
    con.close()


def test_care_plans_are_versioned_and_each_change_says_why(db, person):
    con = duckdb.connect(str(db))
    due = date.today() + timedelta(days=30)
    plan_id, v1 = record_care_plan(
        con, person, ["stay at home safely"], [Action("falls assessment", "district nurse", due)],
        review_date=date.today() + timedelta(days=180), family_involved=True, carer_involved=False,
        recorded_by="nurse.c", preferences="prefers morning visits",
    )  # fmt: skip
    with pytest.raises(RecordError, match="change note is required"):
        record_care_plan(con, person, ["stay at home safely"], [], date.today() + timedelta(days=90),
                         True, True, "nurse.c", plan_id=plan_id)  # fmt: skip
    _, v2 = record_care_plan(
        con, person, ["stay at home safely", "manage breathlessness"], [], date.today() + timedelta(days=90),
        True, True, "nurse.c", plan_id=plan_id, change_note="reviewed with daughter",
    )  # fmt: skip
    rows = con.execute(
        "SELECT version, json_array_length(goals), carer_involved, change_note FROM ops.care_plans "
        "WHERE plan_id = ? ORDER BY version", [plan_id],
    ).fetchall()  # fmt: skip
    con.close()
    assert (v1, v2) == (1, 2)
    assert rows == [(1, 1, False, None), (2, 2, True, "reviewed with daughter")]


def test_a_rebuild_keeps_every_enrolment_coordinator_and_care_plan(db, person, small_population):
    con = duckdb.connect(str(db))
    record_enrolment(con, person, "enrolled", "dr.a")
    record_coordinator(con, person, "Sam Carer", "community matron", "RYX", "Dr Jones", "dr.a")
    record_care_plan(
        con, person, ["independence"], [], date.today() + timedelta(days=100), False, True, "dr.a"
    )
    before = {t: con.execute(f"SELECT * FROM ops.{t} ORDER BY record_id").fetchall()
              for t in ("enrolment", "coordinators", "care_plans")}  # fmt: skip
    nhs = con.execute(
        "SELECT nhs_number FROM registry.person WHERE person_id = ?", [person]
    ).fetchall()
    con.close()
    folder, _ = small_population
    build(folder / "feeds", db)
    con = duckdb.connect(str(db))
    after = {t: con.execute(f"SELECT * FROM ops.{t} ORDER BY record_id").fetchall() for t in before}
    same_person = con.execute(
        "SELECT nhs_number FROM registry.person WHERE person_id = ?", [person]
    ).fetchall()
    con.close()
    assert after == before
    assert same_person == nhs  # the pseudonym still points at the same person


def test_a_migration_of_existing_operational_data_takes_a_backup_first(db, tmp_path, monkeypatch):
    extra = tmp_path / "migrations"
    extra.mkdir()
    for path in operational.MIGRATIONS.glob("*.sql"):
        shutil.copy(path, extra / path.name)
    (extra / "999_test_column.sql").write_text("ALTER TABLE ops.enrolment ADD COLUMN note VARCHAR;")
    monkeypatch.setattr(operational, "MIGRATIONS", extra)
    applied = operational.migrate(db)
    assert applied == ["999_test_column"]
    backups = list(db.parent.glob(f"{db.name}.backup-*"))
    assert len(backups) == 1
    assert operational.migrate(db) == []
