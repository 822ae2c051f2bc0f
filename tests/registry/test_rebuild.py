"""Rebuilds: idempotent, atomic, and never touching what people recorded."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest

from stratify.contracts import ContractError
from stratify.registry.build import build

DERIVED = [
    "registry.person", "registry.record_links", "registry.gp_events", "registry.spells",
    "registry.events", "registry.community_contacts", "staging.quarantine",
]  # fmt: skip


def _fingerprint(db) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(
                f"SELECT count(*), sum(hash(t)) FROM (SELECT * FROM {table}) AS t"
            ).fetchall()[0]
            for table in DERIVED
        } | {"build_id": con.execute("SELECT build_id FROM registry.build_info").fetchall()[0][0]}
    finally:
        con.close()


@pytest.fixture
def feeds_copy(small_population, tmp_path):
    folder, _ = small_population
    shutil.copytree(folder / "feeds", tmp_path / "feeds")
    shutil.copytree(folder / "reference", tmp_path / "reference")
    return tmp_path / "feeds"


@pytest.fixture
def registry(feeds_copy, tmp_path):
    db = tmp_path / "stratify.duckdb"
    build(feeds_copy, db)
    return db


def test_the_same_feeds_give_the_same_registry(registry, feeds_copy):
    first = _fingerprint(registry)
    build(feeds_copy, registry)
    second = _fingerprint(registry)
    assert first.pop("build_id") != second.pop("build_id")
    assert first == second


def test_operational_tables_survive_a_rebuild(registry, feeds_copy):
    con = duckdb.connect(str(registry))
    con.execute(
        "CREATE TABLE ops.enrolment (nhs_number VARCHAR, status VARCHAR, recorded_by VARCHAR)"
    )
    con.execute("INSERT INTO ops.enrolment VALUES ('9990000018', 'enrolled', 'dr.a')")
    con.close()
    build(feeds_copy, registry)
    con = duckdb.connect(str(registry), read_only=True)
    assert con.execute("SELECT * FROM ops.enrolment").fetchall() == [
        ("9990000018", "enrolled", "dr.a")
    ]
    con.close()


def test_a_feed_missing_a_required_column_stops_the_build_and_leaves_the_registry(
    registry, feeds_copy
):
    before = _fingerprint(registry)
    path = feeds_copy / "apc_spells.parquet"
    pl.read_parquet(path).drop("admission_date").write_parquet(path)
    with pytest.raises(
        ContractError, match=r"apc_spells\.parquet: missing required column 'admission_date'"
    ):
        build(feeds_copy, registry)
    assert _fingerprint(registry) == before


def test_a_file_that_is_not_of_its_format_stops_the_build_and_leaves_the_registry(
    registry, feeds_copy
):
    before = _fingerprint(registry)
    (feeds_copy / "gp_events.parquet").write_text("this is not parquet\n")
    with pytest.raises(ContractError, match=r"gp_events\.parquet: not a readable parquet file"):
        build(feeds_copy, registry)
    assert _fingerprint(registry) == before


def test_a_build_killed_midway_leaves_the_previous_registry_readable_and_intact(
    registry, feeds_copy
):
    before = _fingerprint(registry)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stratify.cli", "build", "--feeds", str(feeds_copy), "--db", str(registry)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "linkage:" in line or time.monotonic() > deadline:
            break
    assert any("staged gp_events" in line for line in seen), seen  # it was inside the transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _fingerprint(registry) == before
