"""The synthetic feeds obey their contracts except where ground truth says a row was made bad."""

from __future__ import annotations

import polars as pl
import pytest

from stratify import contracts, nhs_number
from stratify.synth.generator import FEEDS


def _check(folder, feed):
    con = contracts.connect()
    contract = contracts.load_contracts()[feed]
    path = contracts.feed_file(folder / "feeds", feed)
    return contracts.check_feed(con, contract, path, contracts.data_cut_of(folder / "feeds"))


def _digits(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"[ -]", "")


def _truth(folder) -> pl.DataFrame:
    return pl.read_parquet(folder / "ground_truth" / "defects.parquet")


def test_every_feed_has_a_contract_and_a_file(small_population):
    folder, _ = small_population
    assert set(contracts.load_contracts()) == set(FEEDS)
    for feed in FEEDS:
        assert contracts.feed_file(folder / "feeds", feed) is not None, feed


@pytest.mark.parametrize("feed", FEEDS)
def test_rejected_rows_are_exactly_the_rows_ground_truth_made_bad(small_population, feed):
    folder, _ = small_population
    result = _check(folder, feed)
    rejected = set(result.violations.filter(pl.col("severity") == "reject")["row_number"].to_list())
    truth = _truth(folder).filter((pl.col("feed") == feed) & pl.col("rejected"))
    assert rejected == set(truth["row_number"].to_list())
    assert result.read == result.accepted + result.rejected


def _planted_outcomes_hold(result, truth: pl.DataFrame) -> None:
    """Each planted defect, row by row, ends as its contract says: rejected with its check, or
    kept (flagged with its check on its column, or with nothing said about that column)."""
    v = result.violations
    rejects = v.filter(pl.col("severity") == "reject")
    rejected_rows = set(rejects["row_number"])
    rejected_by = {(r, c) for r, c in rejects.select("row_number", "check_name").iter_rows()}
    flags = v.filter(pl.col("severity") == "flag")
    flagged = {(r, c) for r, c in flags.select("row_number", "column_name").iter_rows()}
    flagged_by = set(flags.select("row_number", "column_name", "check_name").iter_rows())
    said = set(v.select("row_number", "column_name").iter_rows())
    made_bad = set(truth.filter(pl.col("outcome") == "rejected")["row_number"])
    for row, column, defect, outcome, check in truth.select(
        "row_number", "column", "defect", "outcome", "check"
    ).iter_rows():
        where = f"{defect} at row {row}"
        if outcome == "rejected":
            assert row in rejected_rows, where
            assert check is None or (row, check) in rejected_by, where
            continue
        if row in made_bad:
            continue  # also planted a fault that rejects the row
        assert row not in rejected_rows, where
        if outcome == "flagged":
            assert (row, column) in flagged, where
            assert check is None or (row, column, check) in flagged_by, where
        else:  # kept or normalised: nothing to say about that value
            assert (row, column) not in said, where


@pytest.mark.parametrize("feed", FEEDS)
def test_every_planted_defect_ends_as_its_contract_says_row_by_row(small_population, feed):
    folder, _ = small_population
    truth = _truth(folder).filter(pl.col("feed") == feed)
    _planted_outcomes_hold(_check(folder, feed), truth)


def test_every_kind_of_supplier_fault_is_planted(small_population):
    folder, _ = small_population
    kinds = set(_truth(folder).select("feed", "defect").unique().iter_rows())
    for expected in [
        ("gp_events", "wrong_code_system"), ("gp_medications", "wrong_code_system"),
        ("gp_events", "unknown_code"), ("gp_events", "hba1c_percent"),
        ("apc_spells", "invalid_diagnosis"), ("apc_spells", "icd10_dotted"),
        ("apc_spells", "nhs_number_spaces"), ("patients", "nhs_number_spaces"),
        ("social_care_services", "uk_date"), ("ecds_attendances", "missing_optional"),
        ("op_appointments", "missing_optional"),
    ]:  # fmt: skip
        assert expected in kinds, expected


def test_hba1c_sent_in_percent_is_staged_in_mmol_per_mol(small_population):
    folder, _ = small_population
    con = contracts.connect()
    contract = contracts.load_contracts()["gp_events"]
    path = contracts.feed_file(folder / "feeds", "gp_events")
    contracts.check_feed(con, contract, path, contracts.data_cut_of(folder / "feeds"))
    planted = _truth(folder).filter(
        (pl.col("feed") == "gp_events") & (pl.col("defect") == "hba1c_percent")
    )
    con.register("planted", planted.select("row_number").to_arrow())
    staged = con.sql(
        'SELECT value, unit, value_as_sent, unit_as_sent FROM "raw_gp_events__checked" '
        "JOIN planted USING (row_number)"
    ).pl()
    assert staged.height == planted.height > 0
    assert set(staged["unit"]) == {"mmol/mol"} and set(staged["unit_as_sent"]) == {"%"}
    assert staged["value"].is_between(25 - 0.6, 160 + 0.6).all()


@pytest.mark.parametrize("feed", ["apc_spells", "community_contacts", "social_care_services"])
def test_the_same_holds_for_csv_feeds(small_population_csv, feed):
    folder, _ = small_population_csv
    result = _check(folder, feed)
    rejected = set(result.violations.filter(pl.col("severity") == "reject")["row_number"].to_list())
    truth = _truth(folder).filter((pl.col("feed") == feed) & pl.col("rejected"))
    assert rejected == set(truth["row_number"].to_list())
    _planted_outcomes_hold(result, _truth(folder).filter(pl.col("feed") == feed))


@pytest.mark.parametrize("feed", ["community_contacts", "mh_contacts", "social_care_services"])
def test_invalid_nhs_numbers_are_flagged_not_rejected_and_match_ground_truth(
    small_population, feed
):
    folder, _ = small_population
    result = _check(folder, feed)
    flagged = result.violations.filter(
        (pl.col("severity") == "flag") & (pl.col("column_name") == "nhs_number")
    )
    planted = _truth(folder).filter(
        (pl.col("feed") == feed) & (pl.col("defect") == "nhs_number_invalid")
    )
    # A planted row may have been duplicated after planting; each copy is flagged too.
    assert set(flagged["row_number"]) >= set(planted["row_number"])
    assert flagged.height <= planted.height * 1.05 + 2


def test_each_kind_of_bad_row_has_a_reason_a_data_manager_understands(small_population):
    folder, _ = small_population
    reasons = _check(folder, "apc_spells").violations["reason"].to_list()
    assert any(
        r.startswith("discharge_date ") and " is before admission_date " in r for r in reasons
    )
    assert any("is after the data cut 2026-10-31" in r for r in reasons)
    assert any(r.startswith("duplicate spell_id: same as row ") for r in reasons)


def test_defect_rates_match_the_configured_rates(small_population):
    folder, summary = small_population
    configured = summary["configured_rates"]
    by_kind = {(d["feed"], d["defect"]): d for d in summary["defects"]}
    for feed in ("gp_events", "gp_medications", "op_appointments"):
        for kind in ("duplicate_row", "future_date"):
            observed = by_kind[(feed, kind)]["rate"]
            assert observed == pytest.approx(configured[kind], rel=0.35), (feed, kind)
    for feed in ("community_contacts", "mh_contacts"):
        missing = by_kind[(feed, "nhs_number_missing")]["rate"]
        assert missing == pytest.approx(configured["nhs_missing"][feed], rel=0.3)
    frame = pl.read_parquet(folder / "feeds" / "social_care_services.parquet")
    no_valid = 1 - nhs_number.is_valid(frame["nhs_number"].to_list()).mean()
    expected = (
        configured["nhs_missing"]["social_care_services"]
        + configured["nhs_invalid"]["social_care_services"]
    )
    assert no_valid == pytest.approx(expected, abs=0.04)


def test_ground_truth_links_every_row_of_every_feed_to_one_person(small_population):
    folder, summary = small_population
    links = pl.read_parquet(folder / "ground_truth" / "links.parquet")
    counts = dict(links.group_by("feed").len().iter_rows())
    assert counts == summary["rows"]
    assert links.select(pl.struct("feed", "row_number").is_unique().all()).item()


def test_records_with_a_valid_nhs_number_carry_their_true_persons_number(small_population):
    folder, _ = small_population
    patients = pl.read_parquet(folder / "feeds" / "patients.parquet").with_row_index("i", offset=1)
    links = pl.read_parquet(folder / "ground_truth" / "links.parquet")
    person_nhs = (
        links.filter(pl.col("feed") == "patients")
        .join(patients, left_on="row_number", right_on="i")
        .select("person_id", true_nhs=_digits("nhs_number"))
        .unique("person_id")
    )
    for feed in ("apc_spells", "community_contacts"):
        rows = pl.read_parquet(folder / "feeds" / f"{feed}.parquet").with_row_index("i", offset=1)
        rows = rows.with_columns(nhs_number=_digits("nhs_number"))  # as written: "999 123 4567"
        joined = (
            links.filter(pl.col("feed") == feed)
            .join(rows, left_on="row_number", right_on="i")
            .join(person_nhs, on="person_id")
        )
        valid = joined.filter(pl.Series(nhs_number.is_valid(joined["nhs_number"].to_list())))
        assert valid.height > 0.9 * joined.height
        assert (valid["nhs_number"] == valid["true_nhs"]).all(), feed


def test_nhs_numbers_are_valid_and_from_the_999_test_range(small_population):
    folder, _ = small_population
    patients = pl.read_parquet(folder / "feeds" / "patients.parquet")
    numbers = patients.select(_digits("nhs_number"))["nhs_number"].to_list()
    assert all(n.startswith("999") for n in numbers)
    assert nhs_number.is_valid(numbers).all()


def test_the_year_after_the_cut_is_only_in_ground_truth(small_population):
    folder, _ = small_population
    cut = pl.date(2026, 10, 31)
    future_spells = pl.read_parquet(folder / "ground_truth" / "future" / "apc_spells.parquet")
    assert future_spells.height > 0
    assert (future_spells["admission_date"] > pl.select(cut).item()).all()
    feed = pl.read_parquet(folder / "feeds" / "apc_spells.parquet").with_row_index("i", offset=1)
    late = set(feed.filter(pl.col("admission_date") > cut)["i"].to_list())
    planted = _truth(folder).filter(
        (pl.col("feed") == "apc_spells")
        & (pl.col("defect").is_in(["future_date", "duplicate_row"]))
    )
    assert late <= set(planted["row_number"].to_list())


def test_no_pipeline_module_reads_ground_truth():
    import pathlib

    package = pathlib.Path(contracts.__file__).parent
    for path in package.rglob("*.py"):
        if "synth" in path.parts or path.name.startswith("evaluat") or path.name == "cli.py":
            continue
        assert "ground_truth" not in path.read_text(), path
