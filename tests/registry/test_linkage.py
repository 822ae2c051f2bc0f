"""Probabilistic linkage: blocking that gives every plausible pair a chance, comparisons that know
how names and dates go wrong, a runner-up rule on the margin, true reasons, and the same links in
every fresh database."""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
import pytest

from stratify import database, nhs_number
from stratify.registry import linkage
from stratify.registry.build import build
from stratify.registry.evaluate_linkage import evaluate
from stratify.registry.review import ReviewError, resolve

CFG = linkage.LinkageConfig.load()
RULES = [r["name"] for r in CFG.blocking_rules_for_prediction]
COLUMNS = {
    "unique_id": pl.String, "given_key": pl.String, "family_key": pl.String,
    "date_of_birth": pl.Date, "sex": pl.String, "postcode_key": pl.String,
}  # fmt: skip

PERSON = ("9990000018", "JOHN", "SMITH", date(1950, 3, 7), "M", "W3 0SJ")
# A crowd of unrelated people elsewhere, so that Splink has pairs to estimate u from.
CROWD = [
    (
        f"99900{i:05d}",
        g,
        f,
        date(1930 + i % 60, 1 + i % 12, 1 + i % 28),
        "F",
        f"HA{i % 9} {i % 9}AB",
    )
    for i, (g, f) in enumerate(
        [(g, f) for g in ("MARY", "ANNE", "GRACE", "LILY") for f in ("KHAN", "OKAFOR", "NOWAK")]
    )
]


def _frame(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def _scored(record: tuple) -> pl.DataFrame:
    people = _frame([PERSON, *CROWD])
    return linkage.score(people, _frame([("r1", *record)]), CFG, train=False)


@pytest.mark.parametrize(
    "rule, record",
    [
        ("date of birth", ("PETER", "JONES", date(1950, 3, 7), "M", "UB1 1AA")),
        ("given and family name", ("JOHN", "SMITH", date(1961, 8, 20), "M", "UB1 1AA")),
        ("given and family name swapped", ("SMITH", "JOHN", date(1961, 8, 20), "M", "UB1 1AA")),
        # typos in both names and in the day: only the sector and the year are left
        ("postcode sector and year of birth", ("JOHM", "SMIHT", date(1950, 3, 9), "M", "W3 0QQ")),
        # moved within the street, year of birth wrong, given name missing
        ("postcode and family name sound-alike", (None, "SMYTH", date(1951, 4, 7), "M", "W3 0SJ")),
        # moved away and the year of birth wrong
        ("family name sound-alike and day and month of birth", ("JON", "SMYTHE", date(1960, 3, 7), "M", "UB1 1AA")),
    ],
)  # fmt: skip
def test_each_blocking_rule_catches_the_pair_it_exists_for(rule, record):
    scored = _scored(record)
    found = scored.filter(pl.col("person_nhs") == PERSON[0])
    assert found.height == 1, f"{rule}: pair never compared"
    assert RULES[found["blocking_rule"].item()] == rule


def test_a_record_no_rule_can_reach_is_never_compared():
    assert (
        _scored(("PETER", "JONES", date(1980, 1, 1), "F", "UB1 1AA"))
        .filter(pl.col("person_nhs") == PERSON[0])
        .is_empty()
    )


def _agreement(record: tuple) -> str:
    return _scored(record).filter(pl.col("person_nhs") == PERSON[0])["agreement"].item()


@pytest.mark.parametrize(
    "record, level",
    [
        (("SMITH", "JOHN", date(1950, 3, 7), "M", "W3 0SJ"), "names: match on reversed cols"),
        (("SMIHT", "JOHN", date(1950, 3, 7), "M", "W3 0SJ"), "names: names swapped, with a typo"),
        (("JACK", "SMITH", date(1950, 3, 7), "M", "W3 0SJ"), "names: short form of the given name"),
        (("J", "SMITH", date(1950, 3, 7), "M", "W3 0SJ"), "names: given name's initial"),
        (("JOHN", "JONES SMITH", date(1950, 3, 7), "M", "W3 0SJ"), "names: same given name, one part"),
        ((None, "SMITH", date(1950, 3, 7), "M", "W3 0SJ"), "names: exact match on family_key"),
        (("JOHN", "SMITH", date(1950, 7, 3), "M", "W3 0SJ"), "date_of_birth: day and month transposed"),
        (("JOHN", "SMITH", date(1959, 3, 7), "M", "W3 0SJ"), "date_of_birth: levenshtein distance <= 1"),
        (("JOHN", "SMITH", None, "M", "W3 0SJ"), "date_of_birth: missing"),
        (("JOHN", "SMITH", date(1950, 3, 7), "M", "W3 0SX"), "postcode_key: exact match on sector"),
        (("JOHN", "SMITH", date(1950, 3, 7), "M", "W3 9ZZ"), "postcode_key: exact match on district"),
    ],
)  # fmt: skip
def test_comparisons_know_how_names_dates_and_postcodes_go_wrong(record, level):
    assert level in _agreement(record).lower()


def _scores(rows) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, rank, pid, p, w, "", 0) for k, rank, pid, p, w in rows],
        schema=linkage.SCORES_SCHEMA,
        orient="row",
    )


def _decide(rows, missing=None, resolved=None) -> dict:
    keys = sorted({r[0] for r in rows} | set(missing or {}))
    missing_frame = pl.DataFrame(
        {"identity_key": keys, "missing": [(missing or {}).get(k, []) for k in keys]},
        schema={"identity_key": pl.String, "missing": pl.List(pl.String)},
    )
    if resolved is None:
        resolved = pl.DataFrame(schema=linkage.RESOLUTIONS_SCHEMA)
    out = linkage.decide(_scores(rows), missing_frame, resolved, CFG)
    return {r["identity_key"]: r for r in out.to_dicts()}


def test_a_full_agreement_links_although_a_relative_at_the_address_scores_high():
    # The case: best p = 1.0, a family member at 0.84 but 20 match weight behind.
    out = _decide([("a", 1, 7, 1.0, 22.0), ("a", 2, 8, 0.84, 2.4)])["a"]
    assert (out["person_id"], out["link_method"], out["unlinked_reason"]) == (
        7,
        "probabilistic",
        None,
    )
    assert not out["review"]


def test_two_candidates_closer_than_the_margin_go_to_review_not_a_guess():
    out = _decide([("a", 1, 7, 0.9999, 14.0), ("a", 2, 8, 0.9990, 10.5)])["a"]
    assert out["person_id"] is None and out["review"]
    assert out["unlinked_reason"] == "two candidates too close (p = 0.9999, 0.999)"


def test_a_best_candidate_below_the_threshold_is_said_so_with_its_probability():
    out = _decide([("a", 1, 7, 0.8123, 2.1)])["a"]
    assert out["unlinked_reason"] == "best candidate below threshold (p = 0.8123)"
    assert out["review"]  # above the review floor
    low = _decide([("b", 1, 7, 0.1, -3.0)])["b"]
    assert not low["review"]


def test_a_record_no_rule_compared_says_so():
    out = _decide([], missing={"a": []})["a"]
    assert out["unlinked_reason"] == "no candidate compared" and not out["review"]


def test_missing_fields_are_named_in_the_reason():
    out = _decide([("a", 1, 7, 0.6, 0.5)], missing={"a": ["given_name", "date_of_birth"]})["a"]
    assert out["unlinked_reason"] == (
        "missing fields: given_name, date_of_birth; best candidate below threshold (p = 0.6)"
    )


def test_a_record_missing_fields_links_when_what_it_has_is_enough():
    out = _decide([("a", 1, 7, 0.999, 11.0)], missing={"a": ["date_of_birth"]})["a"]
    assert out["person_id"] == 7 and out["unlinked_reason"] is None


def test_a_clerical_decision_overrides_the_score():
    resolved = pl.DataFrame(
        {"identity_key": ["a", "b"], "decision": ["link", "no_match"], "person_id": [8, None]},
        schema=linkage.RESOLUTIONS_SCHEMA,
    )
    rows = [("a", 1, 7, 0.9999, 14.0), ("a", 2, 8, 0.999, 10.5), ("b", 1, 9, 1.0, 25.0)]
    out = _decide(rows, resolved=resolved)
    assert (out["a"]["person_id"], out["a"]["link_method"]) == (8, "clerical")
    assert out["b"]["person_id"] is None
    assert out["b"]["unlinked_reason"] == "clerical review: no registered person matches"
    assert not out["a"]["review"] and not out["b"]["review"]


def _links(db) -> pl.DataFrame:
    """record_links with the person as their NHS number: person ids are salted per database."""
    con = database.connect(db, read_only=True)
    try:
        return con.sql(
            "SELECT r.feed, r.source_row, p.nhs_number, r.link_method, r.match_probability, "
            "r.unlinked_reason FROM registry.record_links AS r "
            "LEFT JOIN registry.person AS p USING (person_id) ORDER BY r.feed, r.source_row"
        ).pl()
    finally:
        con.close()


def test_the_same_feeds_give_the_same_links_in_two_fresh_databases(
    built_registry, small_population, tmp_path
):
    folder, _ = small_population
    first, _ = built_registry
    second = tmp_path / "fresh.duckdb"
    build(folder / "feeds", second)
    salts = [
        database.connect(db, read_only=True)
        .execute("SELECT value FROM meta.settings WHERE name = 'person_key_salt'")
        .fetchall()
        for db in (first, second)
    ]
    assert salts[0] != salts[1]  # different person ids ...
    a, b = _links(first), _links(second)
    assert a.height > 0 and a.equals(b)  # ... the same links, row for row


def test_the_build_says_how_many_comparisons_each_blocking_rule_made(small_population, tmp_path):
    folder, _ = small_population
    said = []
    build(folder / "feeds", tmp_path / "said.duckdb", say=said.append)
    for rule in RULES:
        assert any(m.startswith(f"linkage: blocking rule '{rule}': ") for m in said), rule
    assert not any("SMITH" in m.upper() or "999" in m for m in said if "linkage" in m)


def test_unlinked_reasons_are_the_true_ones(built_registry):
    db, _ = built_registry
    con = database.connect(db, read_only=True)
    reasons = con.sql(
        "SELECT unlinked_reason FROM registry.record_links WHERE link_method = 'unlinked'"
    ).pl()["unlinked_reason"]
    con.close()
    allowed = (
        r"^(missing fields: [a-z_, ]+; )?(no candidate compared|best candidate below threshold "
        r"\(p = [0-9.]+\)|two candidates too close \(p = [0-9.]+, [0-9.]+\))$"
        r"|^valid NHS number not registered with any practice$"
    )
    assert reasons.len() > 0 and reasons.str.contains(allowed).all()


def test_records_without_a_date_of_birth_or_given_name_reach_linkage_and_mostly_link(
    built_registry, small_population
):
    db, _ = built_registry
    folder, _ = small_population
    truth = pl.read_parquet(folder / "ground_truth" / "defects.parquet")
    rejected = truth.filter(pl.col("rejected")).select("feed", "row_number").unique()
    defects = truth.filter(
        pl.col("defect").is_in(["date_of_birth_missing", "given_name_missing"])
    ).join(rejected, on=["feed", "row_number"], how="anti")  # rows with no rejecting fault too
    con = database.connect(db, read_only=True)
    con.register("planted", defects.to_arrow())
    rows = con.sql(
        "SELECT r.link_method, r.unlinked_reason FROM planted AS d JOIN registry.record_links AS r "
        "ON r.feed = d.feed AND r.source_row = d.row_number"
    ).pl()
    con.close()
    assert rows.height == defects.height > 0  # a blank field alone never rejects the record
    linked = rows.filter(pl.col("link_method") != "unlinked").height
    assert linked / rows.height > 0.8
    unlinked = rows.filter(pl.col("link_method") == "unlinked")["unlinked_reason"]
    assert unlinked.str.starts_with("missing fields: ").all()


@pytest.fixture
def registry_copy(built_registry, tmp_path):
    db = tmp_path / "stratify.duckdb"
    shutil.copy(built_registry[0], db)
    return db


def _one_unlinked(db) -> tuple[str, int]:
    con = database.connect(db, read_only=True)
    key, person = con.execute(
        "SELECT c.identity_key, s.person_id FROM registry.linkage_candidates AS c "
        "JOIN registry.record_links AS r USING (feed, source_row) "
        "JOIN registry.linkage_scores AS s ON s.identity_key = c.identity_key AND s.rank = 1 "
        "WHERE r.link_method = 'unlinked' ORDER BY c.identity_key LIMIT 1"
    ).fetchall()[0]
    con.close()
    return key, person


def test_a_resolution_is_kept_and_applied_by_every_later_build(registry_copy, small_population):
    folder, _ = small_population
    key, person = _one_unlinked(registry_copy)
    resolve(registry_copy, key, person, "dq.lead", "same person: GP record checked")
    for _ in range(2):
        build(folder / "feeds", registry_copy)
        con = database.connect(registry_copy, read_only=True)
        rows = con.execute(
            "SELECT DISTINCT r.person_id, r.link_method FROM registry.record_links AS r "
            "JOIN registry.linkage_candidates AS c USING (feed, source_row) WHERE c.identity_key = ?",
            [key],
        ).fetchall()
        in_queue = con.execute(
            "SELECT count(*) FROM registry.linkage_review WHERE review_id = ?", [key]
        ).fetchall()[0][0]
        con.close()
        assert rows == [(person, "clerical")] and in_queue == 0


def test_a_resolution_needs_a_known_item_and_a_registered_person(registry_copy):
    key, _ = _one_unlinked(registry_copy)
    with pytest.raises(ReviewError, match="no such review item"):
        resolve(registry_copy, "not-a-key", None, "dq.lead")
    with pytest.raises(ReviewError, match="is not in registry.person"):
        resolve(registry_copy, key, 10**9, "dq.lead")


def test_the_review_queue_shows_two_candidates_and_what_agreed_never_demographics(built_registry):
    db, _ = built_registry
    con = database.connect(db, read_only=True)
    columns = [r[0] for r in con.execute("DESCRIBE registry.linkage_review").fetchall()]
    con.close()
    assert {"review_id", "reason", "candidate_1_person_id", "candidate_1_probability",
            "candidate_1_weight", "candidate_1_agreement", "candidate_2_person_id",
            "candidate_2_probability", "candidate_2_agreement"} <= set(columns)  # fmt: skip
    assert not {"given_name", "family_name", "date_of_birth", "postcode", "nhs_number"} & set(
        columns
    )


def test_no_record_is_linked_to_its_persons_twin(built_registry, small_population):
    db, _ = built_registry
    folder, _ = small_population
    result = evaluate(db, folder / "ground_truth")["all"]
    assert result["records_of_twins"] > 0
    assert result["false_links_to_a_twin"] == 0


def test_the_evaluation_counts_rejected_records_as_missed_links(built_registry, small_population):
    db, _ = built_registry
    folder, _ = small_population
    result = evaluate(db, folder / "ground_truth")["all"]
    frame = pl.concat(
        [
            pl.read_parquet(folder / "feeds" / f"{feed}.parquet", columns=["nhs_number"])
            .with_row_index("source_row", offset=1)
            .with_columns(feed=pl.lit(feed))
            for feed in ("community_contacts", "mh_contacts", "social_care_services")
        ]
    )
    without = frame.filter(~pl.Series(nhs_number.is_valid(frame["nhs_number"].to_list())))
    con = database.connect(db, read_only=True)
    rejected = con.sql(
        "SELECT DISTINCT feed, source_row FROM staging.quarantine WHERE severity = 'reject'"
    ).pl()
    con.close()
    planted = without.with_columns(pl.col("source_row").cast(pl.Int64)).join(
        rejected, on=["feed", "source_row"]
    )
    assert result["rejected"] == planted.height
    assert result["records_without_valid_nhs_number"] == without.height
    assert result["rejected"] + result["reached_linkage"] == without.height
    assert result["recall"] == round(result["correct"] / without.height, 4)
