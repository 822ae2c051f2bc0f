"""Case conferences: the list follows its rules, decisions carry into next month, the pack opens."""

from __future__ import annotations

from datetime import date

import duckdb
import openpyxl
import polars as pl
import pytest
from pypdf import PdfReader

from stratify import conference, pack
from stratify.care import candidates
from stratify.care.records import (
    record_action,
    record_action_status,
    record_attendance,
    record_conference,
    record_outcome,
)

MONTH = "2026-11"


@pytest.fixture
def db(care_db):
    return care_db


def _cluster(con) -> str:
    return con.execute("SELECT min(cluster_code) FROM ref.practices").fetchall()[0][0]


def test_every_listed_patient_meets_a_rule_and_no_practice_exceeds_its_cap(db):
    con = duckdb.connect(str(db))
    listed = conference.build_list(con, _cluster(con), MONTH)
    con.close()
    rows = listed.rows
    assert rows.height > 0
    assert (rows["why_discuss"].str.len_chars() > 0).all()
    assert rows.group_by("practice_code").len()["len"].max() <= 4
    assert rows["list_order"].to_list() == list(range(1, rows.height + 1))


def test_the_list_is_ordered_by_the_most_urgent_rule(db):
    con = duckdb.connect(str(db))
    cfg = conference.load_config() | {"cap_per_practice": 1000}
    rows = conference.build_list(con, _cluster(con), MONTH, cfg).rows
    con.close()
    labels = [r["label"] for r in cfg["rules"]]
    urgency = [min(labels.index(w) for w in why.split("; ")) for why in rows["why_discuss"]]
    assert urgency == sorted(urgency)


def test_a_patient_admitted_since_the_last_conference_appears_with_that_reason(db):
    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    cfg = conference.load_config() | {"cap_per_practice": 1000}
    conference.build_list(con, cluster, MONTH, cfg)
    admitted = con.execute(
        "SELECT person_id FROM care.conference_candidates WHERE emergency_admission_since_last ORDER BY person_id LIMIT 1"
    ).fetchall()[0][0]
    rows = conference.build_list(con, cluster, MONTH, cfg).rows.filter(
        pl.col("person_id") == admitted
    )
    assert "emergency admission since the last conference" in rows["why_discuss"].item()
    # After a meeting held since that admission, it is no longer news.
    record_conference(con, cluster, "2026-10", date(2026, 10, 31), "chair")
    later = conference.build_list(con, cluster, MONTH, cfg).rows.filter(
        pl.col("person_id") == admitted
    )
    con.close()
    assert later.is_empty() or "emergency admission since" not in later["why_discuss"].item()


def test_actions_agreed_one_month_are_open_the_next_and_gone_when_done(db):
    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    october = record_conference(con, cluster, "2026-10", date(2026, 10, 20), "chair")
    candidates(con)
    person = con.execute(
        "SELECT min(person_id) FROM care.candidates WHERE cluster_code = ?", [cluster]
    ).fetchall()[0][0]
    record_attendance(con, october, "Dr A Jones", "GP", "E85600", "chair")
    record_outcome(con, october, person, "discussed: refer to falls service", "chair")
    action = record_action(con, october, person, "falls service referral", "Nurse B", "district nurse",
                           date(2026, 10, 27), "chair")  # fmt: skip
    november = conference.build_list(con, cluster, MONTH).rows.filter(pl.col("person_id") == person)
    assert "open actions past due" in november["why_discuss"].item()
    assert (
        "falls service referral (Nurse B, district nurse, due 2026-10-27, PAST DUE)"
        in november["open_action_list"].item()
    )
    assert conference.open_actions(con, cluster)["action_id"].to_list() == [action]
    record_action_status(con, action, "done", "Nurse B")
    after = conference.build_list(con, cluster, MONTH).rows.filter(pl.col("person_id") == person)
    assert conference.open_actions(con, cluster).is_empty()
    history = con.execute(
        "SELECT status FROM ops.conference_actions WHERE action_id = ? ORDER BY record_id", [action]
    ).fetchall()
    attendance, outcomes = conference.last_outcomes(con, cluster, date(2026, 11, 1))
    con.close()
    assert after.is_empty() or "open actions" not in after["why_discuss"].item()
    assert history == [("open",), ("done",)]
    assert attendance["professional_name"].to_list() == ["Dr A Jones"]
    assert outcomes["outcome"].to_list() == ["discussed: refer to falls service"]


def test_the_workbook_opens_with_openpyxl_with_the_documented_sheets_and_columns(db, tmp_path):
    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    listed = conference.build_list(con, cluster, MONTH)
    actions = conference.open_actions(con, cluster)
    attendance, outcomes = conference.last_outcomes(con, cluster, date(2026, 11, 1))
    con.close()
    path = pack.write_workbook(
        tmp_path / "pack.xlsx", listed.rows, actions, attendance, outcomes, "t"
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Conference list", "Open actions", "Last meeting"]
    sheet = book["Conference list"]
    header = [c.value for c in sheet[1]]
    for label in ("Why discuss", "Patient", "NHS number", "Risk tier", "Top reasons", "Frailty (eFI)",
                  "Named coordinator", "Accountable GP", "Open actions", "Last medication review"):  # fmt: skip
        assert label in header
    assert sheet.max_row == listed.rows.height + 1
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["K"].width > 30
    assert len(sheet.conditional_formatting) >= 1  # tier colours
    assert [c.value for c in book["Open actions"][1]][:3] == ["Action", "Patient", "NHS number"]


def test_the_pdf_renders_with_every_listed_patient(db, tmp_path):
    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    listed = conference.build_list(con, cluster, MONTH)
    con.close()
    path = pack.write_pdf(tmp_path / "pack.pdf", listed.rows, pl.DataFrame(
        schema={"action": pl.String, "patient_name": pl.String, "owner": pl.String, "owner_role": pl.String,
                "due_date": pl.Date, "status": pl.String}), pl.DataFrame(
        schema={"meeting_date": pl.Date, "patient_name": pl.String, "outcome": pl.String}), "Case conference test")  # fmt: skip
    reader = PdfReader(path)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 1
    assert "Case conference test" in text and pack.NOTICE.split(":")[0] in text
    for nhs in listed.rows["nhs_number"]:
        assert nhs in text


def test_the_timeline_puts_every_setting_and_the_teams_decisions_in_date_order(db):
    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    person = con.execute(
        "SELECT person_id FROM registry.events WHERE person_id IS NOT NULL GROUP BY person_id "
        "ORDER BY count(DISTINCT setting) DESC, person_id LIMIT 1"
    ).fetchall()[0][0]
    cluster = con.execute(
        "SELECT cluster_code FROM registry.person WHERE person_id = ?", [person]
    ).fetchall()[0][0]
    meeting = record_conference(con, cluster, "2026-10", date(2026, 10, 20), "chair")
    record_outcome(con, meeting, person, "keep under review", "chair")
    frame = conference.timeline(con, person)
    con.close()
    assert frame["event_date"].is_sorted()
    assert frame["setting"].n_unique() >= 4
    assert "case conference" in frame["setting"].to_list()


def test_the_conference_command_prints_nothing_identifiable(db, tmp_path):
    import subprocess
    import sys

    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    con.close()
    done = subprocess.run(
        [sys.executable, "-m", "stratify.cli", "conference", "--db", str(db), "--cluster", cluster, "--month", MONTH,
         "--out", str(tmp_path / "pack")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    listed = con.execute("SELECT patient_name, nhs_number FROM care.conference_list").fetchall()
    con.close()
    printed = done.stdout + done.stderr
    assert listed
    for name, nhs in listed:
        assert nhs not in printed and name not in printed
    assert (tmp_path / "pack.xlsx").exists() and (tmp_path / "pack.pdf").exists()


def test_last_months_scores_give_the_change_and_the_risen_a_tier_rule(db):
    from stratify.models.score import score

    con = duckdb.connect(str(db))
    score(con, index_date=date(2026, 10, 1))
    cfg = conference.load_config() | {"cap_per_practice": 1000}
    conference.build_list(con, _cluster(con), MONTH, cfg)
    frame = con.sql("SELECT * FROM care.conference_candidates").pl()
    con.close()
    order = ["low", "moderate", "high", "very_high"]
    assert frame["previous_tier"].null_count() < frame.height
    risen = frame.filter(pl.col("risen_a_tier"))
    assert all(
        order.index(t) > order.index(p)
        for t, p in zip(risen["tier"], risen["previous_tier"], strict=True)
    )
    stayed = frame.filter(~pl.col("risen_a_tier") & pl.col("previous_tier").is_not_null())
    assert all(
        order.index(t) <= order.index(p)
        for t, p in zip(stayed["tier"], stayed["previous_tier"], strict=True)
    )
    new = frame.filter(pl.col("new_in_top_tiers"))
    assert set(new["tier"]) <= {"very_high", "high"} and not set(new["previous_tier"]) & {
        "very_high",
        "high",
    }


def test_a_conference_records_nothing_about_another_clusters_patients(db):
    from stratify.care.records import RecordError

    con = duckdb.connect(str(db))
    clusters = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT cluster_code FROM ref.practices ORDER BY 1"
        ).fetchall()
    ]
    meeting = record_conference(con, clusters[0], "2026-10", date(2026, 10, 20), "chair")
    outsider = con.execute(
        "SELECT min(person_id) FROM registry.person WHERE cluster_code = ?", [clusters[1]]
    ).fetchall()[0][0]
    with pytest.raises(RecordError, match="not registered in this conference's cluster"):
        record_outcome(con, meeting, outsider, "discussed", "chair")
    with pytest.raises(RecordError, match="not registered in this conference's cluster"):
        record_action(
            con, meeting, outsider, "call", "Nurse B", "district nurse", date(2026, 11, 5), "chair"
        )
    con.close()


def test_free_text_that_looks_like_a_formula_stays_text_in_the_workbook(tmp_path):
    frame = pl.DataFrame(
        {"action": ["=HYPERLINK(1)"], "patient_name": ["A"], "nhs_number": ["9990000018"]}
    )
    path = pack.write_workbook(
        tmp_path / "p.xlsx", pl.DataFrame(), frame, pl.DataFrame(), pl.DataFrame(), "t"
    )
    cell = openpyxl.load_workbook(path)["Open actions"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_a_conference_is_recorded_once_per_cluster_and_month_on_a_date_in_that_month(db):
    from stratify.care.records import RecordError

    con = duckdb.connect(str(db))
    cluster = _cluster(con)
    with pytest.raises(RecordError, match="meeting date 2026-11-02 is not in 2026-10"):
        record_conference(con, cluster, "2026-10", date(2026, 11, 2), "chair")
    record_conference(con, cluster, "2026-10", date(2026, 10, 20), "chair")
    with pytest.raises(RecordError, match="already recorded"):
        record_conference(con, cluster, "2026-10", date(2026, 10, 27), "chair")
    con.close()
