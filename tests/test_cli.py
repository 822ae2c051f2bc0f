"""The command line as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "stratify.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_synth_json_prints_one_object_with_counts_rates_and_oracle_auroc(tmp_path):
    out = tmp_path / "pop"
    done = _run(
        "synth",
        "--patients",
        "1500",
        "--seed",
        "3",
        "--out",
        str(out),
        "--min-practice",
        "500",
        "--max-practice",
        "1000",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"]["patients"] >= 1500
    assert 0.5 < summary["at_data_cut"]["oracle_auroc"] < 1.0
    assert "configured_rates" in summary
    assert "chunk 1" in done.stderr  # progress goes to stderr
    assert (out / "feeds" / "manifest.json").exists()


def test_check_reconciles_read_accepted_and_rejected_per_feed(tmp_path):
    out = tmp_path / "pop"
    assert (
        _run(
            "synth",
            "--patients",
            "800",
            "--out",
            str(out),
            "--min-practice",
            "300",
            "--max-practice",
            "500",
            "--format",
            "csv",
            "--quiet",
        ).returncode
        == 0
    )
    done = _run("check", "--feeds", str(out / "feeds"), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    feeds = json.loads(done.stdout)["feeds"]
    assert len(feeds) == 9
    for r in feeds.values():
        assert r["read"] == r["accepted"] + r["rejected"]


def test_asking_for_more_patients_than_test_nhs_numbers_fails_in_one_line(tmp_path):
    done = _run("synth", "--patients", "1000000", "--out", str(tmp_path / "x"))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "999 test range" in done.stderr


def test_no_identifiable_field_reaches_the_terminal(tmp_path):
    import polars as pl

    out = tmp_path / "pop"
    done = _run(
        "synth",
        "--patients",
        "600",
        "--out",
        str(out),
        "--min-practice",
        "200",
        "--max-practice",
        "400",
    )
    checked = _run("check", "--feeds", str(out / "feeds"))
    printed = done.stdout + done.stderr + checked.stdout + checked.stderr
    patients = pl.read_parquet(out / "feeds" / "patients.parquet")
    for column in ("nhs_number", "family_name", "postcode"):
        for value in patients[column].head(50).to_list():
            assert value not in printed, column


def test_build_prints_a_reconciled_report_and_evaluate_linkage_scores_it(tmp_path):
    out, db = tmp_path / "pop", tmp_path / "stratify.duckdb"
    assert _run("synth", "--patients", "1500", "--out", str(out), "--min-practice", "500",
                "--max-practice", "800", "--quiet").returncode == 0  # fmt: skip
    built = _run("build", "--feeds", str(out / "feeds"), "--db", str(db), "--json")
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    for feed in report["feeds"].values():
        assert feed["rows_read"] == feed["rows_accepted"] + feed["rows_quarantined"]
    assert "linkage:" in built.stderr
    scored = _run(
        "evaluate-linkage", "--db", str(db), "--truth", str(out / "ground_truth"), "--json"
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["all"]["precision"] >= 0.99


def test_build_without_a_feeds_folder_fails_in_one_line(tmp_path):
    done = _run("build", "--feeds", str(tmp_path / "nowhere"), "--db", str(tmp_path / "x.duckdb"))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "no such folder of feeds" in done.stderr


def test_a_malformed_csv_row_is_quarantined_with_its_row_number_and_the_build_goes_on(tmp_path):
    out, db = tmp_path / "pop", tmp_path / "stratify.duckdb"
    assert _run("synth", "--patients", "600", "--out", str(out), "--min-practice", "200",
                "--max-practice", "400", "--format", "csv", "--quiet").returncode == 0  # fmt: skip
    path = out / "feeds" / "apc_spells.csv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5] + ",an,extra,field"  # data row 5
    path.write_text("\n".join(lines) + "\n")
    done = _run("build", "--feeds", str(out / "feeds"), "--db", str(db), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    spells = json.loads(done.stdout)["feeds"]["apc_spells"]
    assert spells["rows_read"] == len(lines) - 1
    assert spells["rows_read"] == spells["rows_accepted"] + spells["rows_quarantined"]
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    reasons = con.execute(
        "SELECT reason FROM staging.quarantine WHERE feed = 'apc_spells' AND source_row = 5"
    ).fetchall()
    con.close()
    assert len(reasons) == 1
    assert reasons[0][0].startswith("row cannot be read: too many columns")


def test_train_score_and_evaluate_model_from_the_command_line(tmp_path):
    out, db = tmp_path / "pop", tmp_path / "stratify.duckdb"
    assert _run("synth", "--patients", "3000", "--out", str(out), "--min-practice", "1000",
                "--max-practice", "2000", "--quiet").returncode == 0  # fmt: skip
    assert _run("build", "--feeds", str(out / "feeds"), "--db", str(db), "--quiet").returncode == 0
    card = tmp_path / "card.html"
    trained = _run("train", "--db", str(db), "--card", str(card), "--json", "--quiet")
    assert trained.returncode == 0, trained.stderr
    assert set(json.loads(trained.stdout)["test"]) == {
        "lightgbm",
        "prior_admissions",
        "efi_and_age",
        "logistic",
    }
    assert card.read_text().startswith("<!doctype html>")
    scored = _run("score", "--db", str(db), "--json")
    assert scored.returncode == 0, scored.stderr
    assert "reasons for" in scored.stderr
    assert sum(json.loads(scored.stdout)["tiers"].values()) == json.loads(scored.stdout)["people"]
    evaluated = _run(
        "evaluate-model", "--db", str(db), "--truth", str(out / "ground_truth"), "--json"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert 0.5 < json.loads(evaluated.stdout)["oracle_auroc"] < 1


def test_train_before_build_says_what_to_run(tmp_path):
    done = _run("train", "--db", str(tmp_path / "none.duckdb"))
    assert done.returncode == 1
    assert "run stratify build first" in done.stderr


def test_candidates_enrol_coordinator_and_adherence_from_the_command_line(tmp_path):
    out, db = tmp_path / "pop", tmp_path / "stratify.duckdb"
    assert _run("synth", "--patients", "3000", "--out", str(out), "--min-practice", "1000",
                "--max-practice", "2000", "--quiet").returncode == 0  # fmt: skip
    for step in (("build", "--feeds", str(out / "feeds")), ("train",), ("score",)):
        assert (
            _run(
                *step,
                "--db",
                str(db),
                "--quiet",
                *(("--card", str(tmp_path / "c.html")) if step == ("train",) else ()),
            ).returncode
            == 0
        )
    listed = json.loads(_run("candidates", "--db", str(db), "--json", "--quiet").stdout)
    assert listed["by_status"]["candidate"] > 0
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    person = con.execute("SELECT min(person_id) FROM care.candidates").fetchall()[0][0]
    con.close()
    refused = _run(
        "enrol", "--db", str(db), "--person-id", str(person), "--action", "declined", "--by", "dr.a"
    )
    assert refused.returncode == 1 and "reason is required" in refused.stderr
    assert (
        _run(
            "enrol",
            "--db",
            str(db),
            "--person-id",
            str(person),
            "--action",
            "enrolled",
            "--by",
            "dr.a",
        ).returncode
        == 0
    )
    named = _run("coordinator", "--db", str(db), "--person-id", str(person), "--name", "Sam Carer",
                 "--role", "community matron", "--organisation", "RYX", "--accountable-gp", "Dr Jones", "--by", "dr.a")  # fmt: skip
    assert named.returncode == 0, named.stderr
    listed = json.loads(_run("candidates", "--db", str(db), "--json", "--quiet").stdout)
    assert listed["by_status"]["enrolled"] == 1
    done = _run("adherence", "--db", str(db), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    steps = {(s["protocol"], s["step"]) for s in json.loads(done.stdout)["steps"]}
    assert ("diabetes", "all_three_targets") in steps and ("frailty", "named_coordinator") in steps
    con = duckdb.connect(str(db), read_only=True)
    sums = con.execute(
        "SELECT (SELECT sum(met) FROM care.adherence_by_practice), (SELECT sum(met) FROM care.adherence_by_cluster)"
    ).fetchall()[0]
    con.close()
    assert sums[0] == sums[1] > 0


def test_audit_from_the_command_line_prints_system_figures_with_icons(scored_registry, tmp_path):
    import shutil

    db = tmp_path / "stratify.duckdb"
    shutil.copy(scored_registry[0], db)
    done = _run("audit", "--db", str(db), "--months", "2", "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["months"] == 2
    assert any(r["measure"] == "diabetes.hba1c" for r in summary["system_latest"])


# Gates on a delivery, and stages run before what they need -------------------------------------


@pytest.fixture(scope="module")
def gated(tmp_path_factory) -> dict[str, Path]:
    """A small delivery, a good registry built from it (in registry.duckdb: any file name works),
    one built with no accepted spell (an accepted drop), and an empty database file."""
    import duckdb
    import polars as pl

    root = tmp_path_factory.mktemp("gated_cli")
    out = root / "pop"
    assert _run("synth", "--patients", "800", "--out", str(out), "--min-practice", "300",
                "--max-practice", "500", "--quiet").returncode == 0  # fmt: skip
    good = root / "registry.duckdb"
    done = _run("build", "--feeds", str(out / "feeds"), "--db", str(good), "--quiet")
    assert done.returncode == 0, done.stderr
    broken = root / "broken"
    shutil.copytree(out, broken)
    spells = broken / "feeds" / "apc_spells.parquet"
    pl.read_parquet(spells).with_columns(admission_date=pl.lit("unknown")).write_parquet(spells)
    no_spells = root / "ops.duckdb"
    shutil.copy(good, no_spells)
    done = _run("build", "--feeds", str(broken / "feeds"), "--db", str(no_spells), "--quiet",
                "--accept-drop", "apc_spells", "--by", "dr.data", "--why", "dates changed type")  # fmt: skip
    assert done.returncode == 0, done.stderr
    empty = root / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    return {"feeds": out / "feeds", "good": good, "no_spells": no_spells, "empty": empty}


def _builds(db: Path) -> list[tuple]:
    from stratify import database

    con = database.connect(db, read_only=True)
    try:
        return con.execute(
            "SELECT build_id, accepted_drops FROM meta.builds ORDER BY built_at"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def halved(gated, tmp_path) -> tuple[Path, Path]:
    """The delivery with its patients file cut in half, and a copy of the good registry."""
    import polars as pl

    feeds = tmp_path / "feeds"
    shutil.copytree(gated["feeds"], feeds)
    shutil.copytree(gated["feeds"].parent / "reference", tmp_path / "reference")
    patients = pl.read_parquet(feeds / "patients.parquet")
    patients.head(patients.height // 2).write_parquet(feeds / "patients.parquet")
    db = tmp_path / "staging.duckdb"
    shutil.copy(gated["good"], db)
    return feeds, db


def test_build_refuses_a_halved_patients_file_with_a_line_per_gate_and_the_comparison(halved):
    feeds, db = halved
    before = _builds(db)
    done = _run("build", "--feeds", str(feeds), "--db", str(db), "--json", "--quiet")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(
        "stratify build: delivery refused, the previous registry is unchanged"
    )
    assert any(line.strip().startswith("patients: ") and "down 50" in line for line in lines[1:])
    gates = json.loads(done.stdout)["gates"]
    assert gates["refused"] is True
    assert [line.strip() for line in lines[1:]] == gates["reasons"]
    assert gates["feeds"]["patients"]["rows_read_before"] > gates["feeds"]["patients"]["rows_read"]
    assert _builds(db) == before


def test_check_reports_the_gates_a_build_would_refuse_and_writes_nothing(halved):
    feeds, db = halved
    before, stamp = _builds(db), db.stat().st_mtime_ns
    done = _run("check", "--feeds", str(feeds), "--db", str(db), "--quiet")
    assert done.returncode == 1
    assert "build would refuse this delivery" in done.stderr
    assert "FAILED: patients:" in done.stdout
    assert _builds(db) == before and db.stat().st_mtime_ns == stamp


def test_build_refuses_a_folder_with_both_a_parquet_and_a_csv_for_one_feed_and_names_them(
    gated, tmp_path
):
    import polars as pl

    feeds = tmp_path / "feeds"
    shutil.copytree(gated["feeds"], feeds)
    shutil.copytree(gated["feeds"].parent / "reference", tmp_path / "reference")
    pl.read_parquet(feeds / "mh_contacts.parquet").head(10).write_csv(feeds / "mh_contacts.csv")
    db = tmp_path / "stratify.duckdb"
    shutil.copy(gated["good"], db)
    before = _builds(db)
    done = _run("build", "--feeds", str(feeds), "--db", str(db), "--quiet")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "mh_contacts.parquet and mh_contacts.csv" in done.stderr
    assert _builds(db) == before


def test_accept_drop_lets_the_build_through_and_records_who_and_why(halved):
    feeds, db = halved
    done = _run("build", "--feeds", str(feeds), "--db", str(db), "--quiet", "--accept-drop",
                "patients", "--by", "dr.data", "--why", "practice B left the federation")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Accepted drop: patients:" in done.stdout
    recorded = json.loads(_builds(db)[-1][1])
    assert recorded == [
        {"feed": "patients", "by": "dr.data", "why": "practice B left the federation"}
    ]


def test_accept_drop_without_who_and_why_fails_in_one_line(halved):
    feeds, db = halved
    done = _run("build", "--feeds", str(feeds), "--db", str(db), "--accept-drop", "patients")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "--by" in done.stderr and "--why" in done.stderr


STAGES = {
    "train": ("train", "--card", "{tmp}/card.html"),
    "score": ("score",),
    "candidates": ("candidates",),
    "adherence": ("adherence",),
    "conference": ("conference", "--cluster", "all", "--month", "2026-10", "--out", "{tmp}/pack"),
    "audit": ("audit",),
    "timeline": ("timeline", "--person-id", "1"),
}


@pytest.mark.parametrize(
    "database, stage, says",
    [
        ("empty", "train", "no registry; run stratify build first"),
        ("empty", "score", "no registry; run stratify build first"),
        ("empty", "candidates", "no registry; run stratify build first"),
        ("empty", "adherence", "no registry; run stratify build first"),
        ("empty", "conference", "no registry; run stratify build first"),
        ("empty", "audit", "no registry; run stratify build first"),
        ("empty", "timeline", "no registry; run stratify build first"),
        ("good", "score", "no trained model; run stratify train first"),
        ("good", "candidates", "no risk scores; run stratify score first"),
        ("good", "conference", "no risk scores; run stratify score first"),
        ("no_spells", "train", "no accepted hospital spell in the registry"),
        ("no_spells", "audit", "no accepted hospital spell in the registry"),
    ],
)
def test_a_stage_before_what_it_needs_says_what_is_missing_in_one_line(
    gated, tmp_path, database, stage, says
):
    args = [a.format(tmp=tmp_path) for a in STAGES[stage]]
    done = _run(*args, "--db", str(gated[database]), "--quiet")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert says in done.stderr
    for leak in ("Catalog Error", "Traceback", "SELECT", "LINE "):
        assert leak not in done.stderr + done.stdout
