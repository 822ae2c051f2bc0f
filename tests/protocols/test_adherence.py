"""Each protocol step at its exact boundaries, on crafted patients built by the real pipeline."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from crafted import NHS, gp_event, medication, patient, registry

from stratify import codelists, operational
from stratify.care.records import record_coordinator
from stratify.protocols.adherence import run

AS_OF = date(2026, 10, 31)  # the data cut, a Saturday
FRIDAY = date(2026, 10, 23)


def _code(name: str) -> str:
    return codelists.load(name).code_values[0]


def _days_before(n: int) -> str:
    return (AS_OF - timedelta(days=n)).isoformat()


def _spell(n: int, i: int, admitted: date, discharged: date) -> dict:
    return {"spell_id": n, "nhs_number": NHS[i], "provider_code": "RYJ", "admission_date": admitted.isoformat(),
            "discharge_date": discharged.isoformat(), "admission_method": "21", "primary_diagnosis": "J189",
            "discharge_method": "1"}  # fmt: skip


def _community(n: int, i: int, day: date) -> dict:
    p = patient(i)
    return {"contact_id": n, "nhs_number": NHS[i], "given_name": p["given_name"], "family_name": p["family_name"],
            "date_of_birth": p["date_of_birth"], "sex": "F", "postcode": p["postcode"], "provider_code": "RYX",
            "contact_date": day.isoformat(), "service": "district_nursing", "contact_type": "telephone"}  # fmt: skip


@pytest.fixture(scope="module")
def adherence(tmp_path_factory) -> pl.DataFrame:
    """Ten crafted patients, all with type 2 diabetes (so every diabetes step applies):
    0: HbA1c 365 days ago, value 58       1: HbA1c 366 days ago, value 58
    2: HbA1c 364 days ago, value 59       3: HbA1c 340 days ago (due soon)
    4: aged 39, no statin (not applicable) 5: aged 40, statin 200 days ago, HbA1c 100 days ago
    6: discharged Friday, practice contact the Wednesday after (3 working days)
    7: discharged Friday, community contact the Thursday after (4 working days)
    8: discharged on the as-of date, no contact yet (due soon)
    9: moderate frailty with a named coordinator recorded by the team"""
    events, n = [], 0

    def add(i, days, name, value=None, unit=None):
        nonlocal n
        n += 1
        events.append(gp_event(n, i, _days_before(days), _code(name), value, unit))

    for i in range(10):
        add(i, 2000, "diabetes_type2")
    for i, days, value in ((0, 365, 58), (1, 366, 58), (2, 364, 59), (3, 340, 50), (5, 100, 48)):
        add(i, days, "hba1c", value, "mmol/mol")
    for deficit in ("efi_anaemia", "efi_arthritis", "efi_dizziness", "efi_dyspnoea", "efi_falls",
                    "efi_foot_problems", "efi_hearing_impairment", "heart_failure", "efi_housebound"):  # fmt: skip
        add(9, 1000, deficit)  # with diabetes: 10 deficits, moderate frailty
    wednesday, thursday = FRIDAY + timedelta(days=5), FRIDAY + timedelta(days=6)
    n += 1
    events.append(gp_event(n, 6, wednesday.isoformat(), _code("consultation")))
    people = [patient(i) for i in range(10)]
    people[4]["date_of_birth"] = "1987-01-01"  # 39 on the as-of date
    people[5]["date_of_birth"] = "1986-10-01"  # 40
    feeds = {
        "patients": people,
        "gp_events": events,
        "gp_medications": [medication(1, 5, _days_before(200), _code("statins"))],
        "apc_spells": [
            _spell(1, 6, FRIDAY - timedelta(days=3), FRIDAY),
            _spell(2, 7, FRIDAY - timedelta(days=3), FRIDAY),
            _spell(3, 8, AS_OF - timedelta(days=2), AS_OF),
        ],  # fmt: skip
        "community_contacts": [_community(1, 7, thursday)],
    }
    folder = tmp_path_factory.mktemp("protocols")
    db = registry(folder, AS_OF.isoformat(), feeds)
    operational.migrate(db)
    con = duckdb.connect(str(db))
    people_ids = dict(con.execute("SELECT nhs_number, person_id FROM registry.person").fetchall())
    # Adherence is as of a date: a record counts only if it was made by then, so this one is
    # backdated (the write layer itself always stamps the present).
    record_coordinator(
        con, people_ids[NHS[9]], "Sam Carer", "community matron", "RYX", "Dr Jones", "tester"
    )
    con.execute("UPDATE ops.coordinators SET recorded_at = ?", [AS_OF - timedelta(days=10)])
    run(con, AS_OF)
    frame = con.sql("SELECT * FROM care.adherence").pl()
    con.close()
    by_person = {v: k for k, v in people_ids.items()}
    return frame.with_columns(patient=pl.col("person_id").replace_strict(by_person).replace_strict(
        {nhs: i for i, nhs in enumerate(NHS)}))  # fmt: skip


def _status(frame: pl.DataFrame, patient: int, protocol: str, step: str) -> dict:
    rows = frame.filter(
        (pl.col("patient") == patient) & (pl.col("protocol") == protocol) & (pl.col("step") == step)
    )
    assert rows.height == 1, (patient, protocol, step)
    return rows.row(0, named=True)


@pytest.mark.parametrize(
    ("patient", "status"),
    [(0, "due_soon"), (1, "not_met"), (2, "due_soon"), (3, "due_soon"), (5, "met")],
)
def test_hba1c_recorded_on_day_365_counts_and_on_day_366_does_not(adherence, patient, status):
    # day 365 still counts, but lapses within 30 days: due soon; day 366 no longer counts
    assert _status(adherence, patient, "diabetes", "hba1c")["status"] == status


def test_a_lapsed_process_says_what_is_missing_and_a_met_one_gives_its_evidence(adherence):
    assert _status(adherence, 1, "diabetes", "hba1c")["missing"] == "none in the last 365 days"
    met = _status(adherence, 0, "diabetes", "hba1c")
    assert met["evidence_date"] == AS_OF - timedelta(days=365)
    assert "recorded" in met["evidence"]
    assert _status(adherence, 4, "diabetes", "hba1c")["missing"] == "never recorded"


@pytest.mark.parametrize(("patient", "status"), [(0, "met"), (2, "not_met"), (1, "not_met")])
def test_hba1c_target_58_is_met_and_59_is_not(adherence, patient, status):
    assert _status(adherence, patient, "diabetes", "hba1c_target")["status"] == status


@pytest.mark.parametrize(("patient", "status"), [(4, "not_applicable"), (5, "met"), (0, "not_met")])
def test_statin_applies_from_age_40(adherence, patient, status):
    assert _status(adherence, patient, "diabetes", "statin")["status"] == status


@pytest.mark.parametrize(("patient", "status"), [(6, "met"), (7, "not_met"), (8, "due_soon")])
def test_contact_within_3_working_days_across_a_weekend(adherence, patient, status):
    row = _status(adherence, patient, "transitions", "contact_after_discharge")
    assert row["status"] == status
    if patient == 6:
        assert "(3 working days)" in row["evidence"]
    if patient == 7:
        assert row["missing"] == "contact after 4 working days"


def test_people_without_a_discharge_are_outside_the_transitions_protocol(adherence):
    rows = adherence.filter(pl.col("protocol") == "transitions")
    assert set(rows["patient"]) == {6, 7, 8}


def test_the_frailty_protocol_applies_to_moderate_frailty_and_sees_the_named_coordinator(adherence):
    frailty = adherence.filter(pl.col("protocol") == "frailty")
    assert set(frailty["patient"]) == {9}
    assert _status(adherence, 9, "frailty", "named_coordinator")["status"] == "met"
    assert _status(adherence, 9, "frailty", "care_plan")["missing"] == "no care plan"


def test_composites_need_every_step(adherence):
    assert _status(adherence, 0, "diabetes", "all_care_processes")["status"] == "not_met"
    row = _status(adherence, 5, "diabetes", "all_three_targets")
    assert row["status"] == "not_met" and row["missing"] == "not met: blood_pressure_target"
    assert row["evidence"] == "2 of 3 met"


def test_every_row_shows_its_protocol_version_source_and_owner(adherence):
    assert (
        adherence.select(pl.col("protocol_version", "source", "owner").null_count())
        .sum_horizontal()
        .item()
        == 0
    )
    falls = _status(adherence, 9, "frailty", "falls_question")
    assert "district nurse (housebound patients)" in falls["owner"]


def test_a_discharge_still_within_its_deadline_is_pending_not_met(adherence):
    rows = adherence.filter(pl.col("protocol") == "transitions").sort("patient")
    assert rows.select("patient", "status", "pending").rows() == [
        (6, "met", False),
        (7, "not_met", False),
        (8, "due_soon", True),
    ]
