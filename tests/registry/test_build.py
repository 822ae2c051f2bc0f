"""The registry: every row accounted for, linked to the right person, in one atomic build."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from stratify.registry.build import FEEDS
from stratify.registry.evaluate_linkage import evaluate


def _sql(db, query: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(query).pl()
    finally:
        con.close()


def test_read_equals_accepted_plus_quarantined_for_every_feed(built_registry, small_population):
    db, summary = built_registry
    _, synth = small_population
    for feed in FEEDS:
        f = summary["feeds"][feed]
        assert f["rows_read"] == synth["rows"][feed], feed
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"], feed


def test_quarantine_holds_exactly_the_rows_ground_truth_made_bad(built_registry, small_population):
    db, _ = built_registry
    folder, _ = small_population
    truth = pl.read_parquet(folder / "ground_truth" / "defects.parquet").filter(pl.col("rejected"))
    quarantined = _sql(
        db, "SELECT DISTINCT feed, source_row FROM staging.quarantine WHERE severity = 'reject'"
    )
    for feed in FEEDS:
        got = set(quarantined.filter(pl.col("feed") == feed)["source_row"].to_list())
        assert got == set(truth.filter(pl.col("feed") == feed)["row_number"].to_list()), feed


def test_every_quarantined_row_has_a_file_a_row_a_check_and_a_reason(built_registry):
    db, _ = built_registry
    q = _sql(db, "SELECT * FROM staging.quarantine")
    assert q.height > 0
    assert (
        q.select(pl.col("file", "source_row", "check_name", "reason").null_count())
        .sum_horizontal()
        .item()
        == 0
    )


def test_every_accepted_row_reaches_the_registry_linked_or_not(built_registry):
    db, summary = built_registry
    tables = {
        "gp_events": "gp_events", "gp_medications": "gp_medications", "apc_spells": "spells",
        "ecds_attendances": "ae_attendances", "op_appointments": "op_appointments",
        "community_contacts": "community_contacts", "mh_contacts": "mh_contacts",
        "social_care_services": "social_care_episodes",
    }  # fmt: skip
    for feed, table in tables.items():
        rows = _sql(db, f"SELECT count(*) AS n FROM registry.{table}")["n"].item()
        assert rows == summary["feeds"][feed]["rows_accepted"], feed
    events = _sql(db, "SELECT count(*) AS n FROM registry.events")["n"].item()
    assert events == sum(summary["feeds"][f]["rows_accepted"] for f in tables)


def test_linkage_meets_its_targets_against_ground_truth(built_registry, small_population):
    db, _ = built_registry
    folder, _ = small_population
    result = evaluate(db, folder / "ground_truth")["all"]
    assert result["records_without_valid_nhs_number"] > 100
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.97
    assert result["false_links_with_valid_nhs_number"] == 0


def test_every_link_records_its_method_and_probability(built_registry):
    db, _ = built_registry
    links = _sql(
        db, "SELECT link_method, match_probability, unlinked_reason FROM registry.record_links"
    )
    assert set(links["link_method"]) <= {"nhs_number", "probabilistic", "unlinked"}
    probabilistic = links.filter(pl.col("link_method") == "probabilistic")
    assert probabilistic.height > 0
    assert (probabilistic["match_probability"] >= 0.95).all()
    assert (links.filter(pl.col("link_method") == "nhs_number")["match_probability"] == 1.0).all()
    assert links.filter(pl.col("link_method") == "unlinked")["unlinked_reason"].null_count() == 0


def test_the_person_table_carries_practice_cluster_deprivation_and_no_duplicates(built_registry):
    db, summary = built_registry
    person = _sql(db, "SELECT * FROM registry.person")
    assert person.height == summary["people"] == 6_000
    assert person["nhs_number"].is_unique().all()
    assert (
        person.select(pl.col("cluster_code", "imd_decile", "practice_name").null_count())
        .sum_horizontal()
        .item()
        == 0
    )
    assert person["cluster_code"].n_unique() >= 2


def test_the_timeline_joins_every_care_setting_in_one_shape(built_registry):
    db, _ = built_registry
    settings = _sql(db, "SELECT DISTINCT setting FROM registry.events")["setting"].to_list()
    assert set(settings) == {
        "gp", "hospital", "emergency_department", "outpatients", "community", "mental_health",
        "social_care",
    }  # fmt: skip
    spells = _sql(db, "SELECT * FROM registry.spells WHERE is_emergency LIMIT 50")
    assert (spells["length_of_stay"].drop_nulls() >= 0).all()


def test_codes_in_no_code_list_are_exactly_the_planted_unknown_codes(
    built_registry, small_population
):
    db, _ = built_registry
    folder, _ = small_population
    truth = pl.read_parquet(folder / "ground_truth" / "defects.parquet")
    for feed in ("gp_events", "apc_spells"):
        planted = truth.filter((pl.col("feed") == feed) & (pl.col("defect") == "unknown_code"))
        # a planted unknown code on a row that is also quarantined never reaches the registry
        rejected = set(truth.filter((pl.col("feed") == feed) & pl.col("rejected"))["row_number"])
        expected = sum(1 for r in planted["row_number"] if r not in rejected)
        found = _sql(
            db, f"SELECT sum(rows) AS n FROM registry.dq_unknown_codes WHERE feed = '{feed}'"
        )
        assert found["n"].item() >= expected > 0


def test_the_report_lists_late_feeds_per_practice(built_registry):
    db, _ = built_registry
    latest = _sql(db, "SELECT * FROM registry.dq_latest_event_by_practice")
    practices = _sql(db, "SELECT count(*) AS n FROM ref.practices")["n"].item()
    assert latest.height == practices * 8
    assert set(latest["status"]) <= {"current", "late", "missing"}


def test_nothing_identifiable_is_in_the_data_quality_report(built_registry):
    db, summary = built_registry
    import json

    text = json.dumps(summary, default=str)
    person = _sql(db, "SELECT nhs_number, family_name, postcode FROM registry.person LIMIT 200")
    for column in person.columns:
        for value in person[column].to_list():
            assert f'"{value}"' not in text


@pytest.mark.parametrize("feed", ["community_contacts", "social_care_services"])
def test_csv_feeds_build_with_the_same_row_numbers_as_ground_truth(
    small_population_csv, tmp_path, feed
):
    from stratify.registry.build import build

    folder, _ = small_population_csv
    db = tmp_path / "csv.duckdb"
    build(folder / "feeds", db)
    truth = pl.read_parquet(folder / "ground_truth" / "defects.parquet")
    got = _sql(
        db,
        f"SELECT DISTINCT source_row FROM staging.quarantine WHERE feed = '{feed}' AND severity = 'reject'",
    )
    want = truth.filter((pl.col("feed") == feed) & pl.col("rejected"))["row_number"]
    assert set(got["source_row"]) == set(want)
    assert evaluate(db, folder / "ground_truth")[feed]["precision"] >= 0.99
