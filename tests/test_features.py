"""Features: computed as at an index date from events strictly before it; the eFI by the book."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest
from crafted import NHS, gp_event, medication, patient, registry

from stratify import codelists, features
from stratify.synth import codes

INDEX = date(2025, 11, 1)


@pytest.fixture
def registry_copy(built_registry, tmp_path):
    db, _ = built_registry
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    return copy


def _future_events(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """Add, for a hundred people, an event of every kind on `day`."""
    people = "(SELECT person_id FROM features.population ORDER BY person_id LIMIT 100)"
    con.execute(f"""INSERT INTO registry.spells (person_id, spell_id, admission_date, discharge_date,
        is_emergency, is_elective, length_of_stay) SELECT person_id, -person_id, ?, ?::DATE + 30, true,
        false, 30 FROM {people}""", [day, day])  # fmt: skip
    con.execute(
        f"INSERT INTO registry.ae_attendances (person_id, arrival_date, admitted) SELECT person_id, ?, true FROM {people}",
        [day],
    )
    con.execute(
        f"INSERT INTO registry.op_appointments (person_id, appointment_date, attended, did_not_attend) SELECT person_id, ?, true, false FROM {people}",
        [day],
    )
    con.execute(
        f"INSERT INTO registry.community_contacts (person_id, contact_date) SELECT person_id, ? FROM {people}",
        [day],
    )
    con.execute(
        f"INSERT INTO registry.mh_contacts (person_id, contact_date) SELECT person_id, ? FROM {people}",
        [day],
    )
    con.execute(
        f"INSERT INTO registry.social_care_episodes (person_id, start_date, is_care_home) SELECT person_id, ?, true FROM {people}",
        [day],
    )
    for name in ("heart_failure", "efi_falls", "hba1c", "systolic_bp", "consultation"):
        code = codelists.load(name).code_values[0]
        con.execute(
            f"INSERT INTO registry.gp_events (person_id, event_date, snomed_code, value) SELECT person_id, ?, ?, 99 FROM {people}",
            [day, code],
        )
    for code in codelists.load("medicines").code_values[:6]:
        con.execute(
            f"INSERT INTO registry.gp_medications (person_id, issue_date, dmd_code, is_repeat) SELECT person_id, ?, ?, true FROM {people}",
            [day, code],
        )


def test_no_feature_can_see_an_event_on_or_after_the_index_date(registry_copy):
    con = duckdb.connect(str(registry_copy))
    before = features.compute(con, INDEX)
    _future_events(con, INDEX)  # on the index date itself
    _future_events(con, date(2026, 3, 1))  # and after it
    after = features.compute(con, INDEX)
    con.close()
    assert before.height > 1000
    assert before.equals(after)


def test_an_event_the_day_before_the_index_date_is_counted(registry_copy):
    con = duckdb.connect(str(registry_copy))
    before = features.compute(con, INDEX)
    _future_events(con, date(2025, 10, 31))
    after = features.compute(con, INDEX)
    con.close()
    changed = after.join(before, on="person_id", suffix="_before").filter(
        pl.col("emergency_admissions_3m") == pl.col("emergency_admissions_3m_before") + 1
    )
    assert changed.height == 100
    assert (changed["heart_failure"] == 1).all()
    assert (changed["days_since_emergency_admission"] == 1).all()


def _only(name: str) -> str:
    """A code of the list that counts for nothing else (the generator's rule): one deficit each."""
    return codes.pool(name)["code"][0]


# Deficit codes, one per distinct eFI deficit (dementia and memory impairment share one).
DEFICIT_CODES = [
    _only(name)
    for name in ("efi_anaemia", "efi_arthritis", "atrial_fibrillation", "stroke", "ckd", "diabetes_type2",
                 "efi_dizziness", "efi_dyspnoea", "efi_falls", "efi_foot_problems", "efi_hearing_impairment",
                 "heart_failure", "efi_housebound", "hypertension", "efi_skin_ulcer")
]  # fmt: skip


@pytest.fixture(scope="module")
def crafted_efi(tmp_path_factory):
    """Patients with 4, 5, 8, 9, 12 and 13 deficits (the category boundaries), one whose
    polypharmacy makes the 13th, and one whose deficits are all on or after the index date."""
    counts = [4, 5, 8, 9, 12, 13]
    events, meds, n = [], [], 0
    for i, k in enumerate(counts):
        for code in DEFICIT_CODES[:k]:
            n += 1
            events.append(gp_event(n, i, "2020-06-01", code))
    # Patient 6: 12 coded deficits, dementia and memory impairment (one deficit), 5 repeats.
    for code in [*DEFICIT_CODES[:11], _only("dementia"), _only("efi_memory_cognitive")]:
        n += 1
        events.append(gp_event(n, 6, "2021-01-01", code))
    for m, code in enumerate(codelists.load("medicines").code_values[:5]):
        meds.append(medication(m + 1, 6, "2025-09-01", code))
    meds.append(medication(99, 5, "2024-01-01", codelists.load("medicines").code_values[0]))
    # Patient 7: every deficit coded on the index date or later: none count.
    for code in DEFICIT_CODES:
        n += 1
        events.append(gp_event(n, 7, "2025-11-01", code))
    feeds = {
        "patients": [patient(i) for i in range(8)],
        "gp_events": events,
        "gp_medications": meds,
    }
    db = registry(tmp_path_factory.mktemp("crafted"), "2026-10-31", feeds)
    con = duckdb.connect(str(db))
    frame = features.compute(con, INDEX)
    people = dict(con.execute("SELECT nhs_number, person_id FROM registry.person").fetchall())
    con.close()
    return frame, people  # person_id is a pseudonym: find each crafted patient through the registry


@pytest.mark.parametrize(
    ("patient_no", "deficits", "efi", "category"),
    [(0, 4, 0.1111, "fit"), (1, 5, 0.1389, "mild"), (2, 8, 0.2222, "mild"), (3, 9, 0.25, "moderate"),
     (4, 12, 0.3333, "moderate"), (5, 13, 0.3611, "severe"), (6, 13, 0.3611, "severe"), (7, 0, 0.0, "fit")],
)  # fmt: skip
def test_efi_equals_the_hand_computed_value_at_every_category_boundary(
    crafted_efi, patient_no, deficits, efi, category
):
    frame, people = crafted_efi
    row = frame.filter(pl.col("person_id") == people[NHS[patient_no]])
    assert row["efi_deficits"].item() == deficits
    assert row["efi"].item() == pytest.approx(efi, abs=1e-4)
    assert row["efi_category"].item() == category


def test_the_efi_deficit_map_has_the_36_deficits_of_clegg_2016():
    mapping = pl.read_csv(codelists.CODELIST_DIR / "efi_deficits.csv")
    assert mapping["deficit"].n_unique() + 1 == 36  # + polypharmacy, from prescriptions
    assert set(mapping["list"]) <= set(codelists.names())
