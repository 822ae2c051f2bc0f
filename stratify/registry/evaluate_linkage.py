"""Linkage quality against the generator's ground truth. Evaluation only: the build never reads
ground truth.

The population that matters is every record delivered without a valid NHS number, as it was in
the feed file: a record the contracts rejected or the linkage left unlinked is a missed link, not
a smaller denominator. Precision and recall are given over all of them and, separately, over the
records that reached linkage (accepted into staging)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from stratify import contracts, database, nhs_number

IDENTITY_FEEDS = ("community_contacts", "mh_contacts", "social_care_services")
LINKED = ("probabilistic", "clerical")


def _nhs_numbers(feeds: Path, feed: str) -> pl.DataFrame:
    """Each row of a feed file (1-based, as source_row) with its NHS number, the spaces and
    hyphens people write taken out as staging does (else '943 476 5919' in the GP feed and
    '9434765919' in a community one look like two people)."""
    path = contracts.feed_file(feeds, feed)
    if path is None:
        return pl.DataFrame(schema={"row_number": pl.Int64, "nhs_number": pl.String})
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path, columns=["nhs_number"])
    else:
        frame = pl.read_csv(
            path, columns=["nhs_number"], schema_overrides={"nhs_number": pl.String}
        )
    return frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_number"),
        pl.col("nhs_number").cast(pl.String).str.replace_all(r"[\s-]", ""),
    )


def _valid(numbers: pl.Series) -> pl.Series:
    return pl.Series(nhs_number.is_valid(numbers.to_list()), dtype=pl.Boolean)


def outcomes(db: Path, truth: Path, feeds: Path | None = None) -> pl.DataFrame:
    """One row per delivered record of the identity feeds: whether its NHS number was valid, its
    true person's NHS number, and what the build did with it."""
    truth = Path(truth)
    feeds = Path(feeds) if feeds else truth.parent / "feeds"
    links = pl.read_parquet(truth / "links.parquet")
    patients = _nhs_numbers(feeds, "patients").join(
        links.filter(pl.col("feed") == "patients").select("row_number", "person_id"),
        on="row_number",
    )
    true_nhs = patients.group_by("person_id").agg(true_nhs=pl.col("nhs_number").min())
    delivered = pl.concat(
        [_nhs_numbers(feeds, feed).with_columns(feed=pl.lit(feed)) for feed in IDENTITY_FEEDS]
    )
    delivered = delivered.with_columns(nhs_number_valid=_valid(delivered["nhs_number"])).join(
        links.select("feed", "row_number", "person_id"), on=["feed", "row_number"], how="left"
    )
    con = database.connect(db, read_only=True)
    try:
        built = con.sql(
            """
            SELECT r.feed, r.source_row AS row_number, r.link_method, p.nhs_number AS linked_nhs,
                   p.family_name AS linked_family, p.date_of_birth AS linked_dob,
                   p.postcode AS linked_postcode
            FROM registry.record_links AS r
            LEFT JOIN registry.person AS p USING (person_id)
            """
        ).pl()
        registered = con.sql(
            "SELECT nhs_number AS true_nhs, family_name AS true_family, "
            "date_of_birth AS true_dob, postcode AS true_postcode, "
            "count(*) OVER (PARTITION BY family_name, date_of_birth, postcode) > 1 AS has_twin "
            "FROM registry.person"
        ).pl()
    finally:
        con.close()
    frame = (
        delivered.join(true_nhs, on="person_id", how="left")
        .join(built, on=["feed", "row_number"], how="left")
        .join(registered, on="true_nhs", how="left")
    )
    return frame.with_columns(
        reached=pl.col("link_method").is_not_null(),
        linked=pl.col("link_method").is_in(LINKED).fill_null(False),
        registered=pl.col("true_family").is_not_null() | pl.col("true_dob").is_not_null(),
        correct=(pl.col("linked_nhs") == pl.col("true_nhs")).fill_null(False),
    ).with_columns(
        false_link=pl.col("linked") & ~pl.col("correct"),
        twin=(pl.col("linked_family") == pl.col("true_family"))
        & (pl.col("linked_dob") == pl.col("true_dob"))
        & (pl.col("linked_nhs") != pl.col("true_nhs")),
        same_address=(pl.col("linked_postcode") == pl.col("true_postcode"))
        & (pl.col("linked_nhs") != pl.col("true_nhs")),
    )


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def _measures(rows: pl.DataFrame) -> dict:
    without = rows.filter(~pl.col("nhs_number_valid") & pl.col("registered"))
    reached = without.filter(pl.col("reached"))
    linked = int(without["linked"].sum())
    correct = int(without["correct"].sum())
    precision = _ratio(correct, linked)
    recall = _ratio(correct, without.height)
    false = without.filter(pl.col("false_link"))
    with_nhs = rows.filter(pl.col("nhs_number_valid") & pl.col("reached"))
    # A twin: another registered person with the same family name, birth date and postcode.
    twins = without.filter(pl.col("has_twin").fill_null(False))
    return {
        "records_without_valid_nhs_number": without.height,
        "rejected": without.height - reached.height,
        "reached_linkage": reached.height,
        "linked": linked,
        "correct": correct,
        "unlinked": reached.height - linked,
        "precision": precision,
        "recall": recall,
        "f1": round(2 * precision * recall / (precision + recall), 4)
        if precision + recall
        else 0.0,
        "recall_of_records_that_reached_linkage": _ratio(correct, reached.height),
        "false_links": false.height,
        "false_links_to_a_twin": int(false["twin"].fill_null(False).sum()),
        "false_links_to_someone_at_the_same_address": int(
            false["same_address"].fill_null(False).sum()
        ),
        "records_of_twins": twins.height,
        "recall_of_twins": _ratio(int(twins["correct"].sum()), twins.height),
        "records_with_valid_nhs_number": with_nhs.height,
        "false_links_with_valid_nhs_number": int(
            (with_nhs["linked_nhs"].is_not_null() & ~with_nhs["correct"]).sum()
        ),
    }


def by_defect(frame: pl.DataFrame, truth: Path) -> dict:
    """Recall of the records without a valid NHS number, per identity defect planted in them."""
    defects = pl.read_parquet(Path(truth) / "defects.parquet").filter(
        pl.col("feed").is_in(IDENTITY_FEEDS) & ~pl.col("defect").str.starts_with("nhs_number")
    )
    rows = frame.filter(~pl.col("nhs_number_valid") & pl.col("registered")).join(
        defects.select("feed", "row_number", "defect").unique(), on=["feed", "row_number"]
    )
    summary = (
        rows.group_by("defect")
        .agg(
            records=pl.len(),
            correct=pl.col("correct").sum(),
            false_links=pl.col("false_link").sum(),
        )
        .sort("defect")
    )
    return {
        r["defect"]: {
            "records": r["records"],
            "recall": _ratio(r["correct"], r["records"]),
            "false_links": r["false_links"],
        }
        for r in summary.to_dicts()
    }


def evaluate(db: Path, truth: Path, feeds: Path | None = None) -> dict:
    """Per feed and over all: precision and recall of the links of records delivered without a
    valid NHS number (rejected and unlinked records are misses), the recall among those that
    reached linkage, false links to a twin or to someone at the same address, and false links
    among records with a valid NHS number; recall per planted defect."""
    frame = outcomes(db, truth, feeds)
    result = {feed: _measures(frame.filter(pl.col("feed") == feed)) for feed in IDENTITY_FEEDS}
    result["all"] = _measures(frame)
    result["all"]["by_defect"] = by_defect(frame, truth)
    return result
