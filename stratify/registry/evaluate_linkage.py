"""Linkage quality against the generator's ground truth: precision, recall and F1 per feed.

Evaluation only: the build never reads ground truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stratify import database

IDENTITY_FEEDS = ("community_contacts", "mh_contacts", "social_care_services")


def evaluate(db: Path, truth: Path) -> dict:
    """Per feed, for records without a valid NHS number: precision, recall and F1 of the
    probabilistic links; for records with one: how many were linked to the wrong person."""
    links = pl.read_parquet(Path(truth) / "links.parquet")
    con = database.connect(db, read_only=True)
    try:
        con.register("truth_links", links.to_arrow())
        frame = con.sql(
            """
            WITH true_person AS (  -- truth person -> the NHS number of their registration row
                SELECT t.person_id, p.nhs_number
                FROM truth_links AS t JOIN staging.patients AS p ON p.source_row = t.row_number
                WHERE t.feed = 'patients'
            )
            SELECT c.feed, c.nhs_number_valid, r.link_method, rp.nhs_number AS linked_nhs,
                   tp.nhs_number AS true_nhs
            FROM registry.linkage_candidates AS c
            JOIN registry.record_links AS r USING (feed, source_row)
            LEFT JOIN registry.person AS rp ON rp.person_id = r.person_id
            JOIN truth_links AS t ON t.feed = c.feed AND t.row_number = c.source_row
            LEFT JOIN true_person AS tp ON tp.person_id = t.person_id
            """
        ).pl()
    finally:
        con.close()
    result = {}
    for feed in IDENTITY_FEEDS:
        rows = frame.filter(pl.col("feed") == feed)
        without = rows.filter(~pl.col("nhs_number_valid"))
        linked = without.filter(pl.col("linked_nhs").is_not_null())
        correct = int((linked["linked_nhs"] == linked["true_nhs"]).sum())
        precision = correct / linked.height if linked.height else 1.0
        recall = correct / without.height if without.height else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        with_nhs = rows.filter(pl.col("nhs_number_valid") & pl.col("linked_nhs").is_not_null())
        result[feed] = {
            "records_without_valid_nhs_number": without.height,
            "linked": linked.height,
            "correct": correct,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "records_with_valid_nhs_number": rows.height - without.height,
            "false_links_with_valid_nhs_number": int(
                (with_nhs["linked_nhs"] != with_nhs["true_nhs"]).sum()
            ),
        }
    all_without = frame.filter(~pl.col("nhs_number_valid"))
    all_linked = all_without.filter(pl.col("linked_nhs").is_not_null())
    correct = int((all_linked["linked_nhs"] == all_linked["true_nhs"]).sum())
    precision = correct / all_linked.height if all_linked.height else 1.0
    recall = correct / all_without.height if all_without.height else 1.0
    result["all"] = {
        "records_without_valid_nhs_number": all_without.height,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4)
        if precision + recall
        else 0.0,
        "false_links_with_valid_nhs_number": sum(
            r["false_links_with_valid_nhs_number"] for r in result.values()
        ),
    }
    return result
