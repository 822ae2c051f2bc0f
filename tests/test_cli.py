"""The command line as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys


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
