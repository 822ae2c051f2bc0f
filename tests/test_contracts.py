"""Contracts: readable errors for bad contracts and bad files; a reason for every rejected row."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from stratify import contracts

CUT = date(2026, 10, 31)
GOOD_SPELL = {
    "spell_id": "1",
    "nhs_number": "9990000018",
    "provider_code": "RYJ",
    "admission_date": "2024-03-01",
    "discharge_date": "2024-03-09",
    "admission_method": "21",
    "primary_diagnosis": "J189",
    "discharge_method": "1",
}


def _write_csv(path, rows):
    pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}).write_csv(path)
    return path


def _check(path, feed="apc_spells"):
    return contracts.check_feed(contracts.connect(), contracts.load_contracts()[feed], path, CUT)


def test_a_discharge_before_admission_is_quarantined_with_both_dates_in_the_reason(tmp_path):
    bad = dict(GOOD_SPELL, spell_id="2", admission_date="2024-03-09", discharge_date="2024-03-01")
    result = _check(_write_csv(tmp_path / "apc_spells.csv", [GOOD_SPELL, bad]))
    assert (result.read, result.accepted, result.rejected) == (2, 1, 1)
    row = result.violations.row(0, named=True)
    assert row["row_number"] == 2
    assert row["reason"] == "discharge_date 2024-03-01 is before admission_date 2024-03-09"


@pytest.mark.parametrize(
    ("change", "column", "reason", "severity"),
    [
        (
            {"admission_date": "09/03/2024"},
            "admission_date",
            "admission_date 09/03/2024 is not a valid date in the declared format",
            "reject",
        ),
        (
            {"admission_method": "99"},
            "admission_method",
            "admission_method 99 is not one of",
            "reject",
        ),
        (
            {"primary_diagnosis": "pneumonia"},
            "primary_diagnosis",
            "primary_diagnosis pneumonia is not a valid ICD-10 code",
            "flag",
        ),
        (
            {"admission_date": "2027-01-01", "discharge_date": "2027-01-02"},
            "admission_date",
            "admission_date 2027-01-01 is after the data cut 2026-10-31",
            "reject",
        ),
        ({"admission_method": ""}, "admission_method", "admission_method is missing", "reject"),
        ({"provider_code": ""}, "provider_code", "provider_code is missing", "flag"),
        (
            {"nhs_number": "9990000017"},
            "nhs_number",
            "nhs_number fails the Modulus 11 check",
            "reject",
        ),
    ],
)
def test_each_kind_of_bad_value_names_the_row_the_column_and_why(
    tmp_path, change, column, reason, severity
):
    rows = [GOOD_SPELL, dict(GOOD_SPELL, spell_id="2", **change)]
    result = _check(_write_csv(tmp_path / "apc_spells.csv", rows))
    assert result.rejected == (1 if severity == "reject" else 0)
    hit = result.violations.filter(pl.col("column_name") == column).row(0, named=True)
    assert hit["row_number"] == 2
    assert hit["reason"].startswith(reason)
    assert hit["severity"] == severity


def test_a_duplicate_key_rejects_the_later_row_and_points_at_the_first(tmp_path):
    result = _check(_write_csv(tmp_path / "apc_spells.csv", [GOOD_SPELL, GOOD_SPELL, GOOD_SPELL]))
    assert (result.accepted, result.rejected) == (1, 2)
    assert result.violations["reason"].to_list() == ["duplicate spell_id: same as row 1"] * 2


def test_identifiable_values_never_appear_in_a_reason(tmp_path):
    row = {
        "contact_id": "1",
        "nhs_number": "9990000017",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "not a date",
        "sex": "F",
        "postcode": "NOT A POSTCODE",
        "provider_code": "RYX",
        "contact_date": "2025-01-01",
        "service": "district_nursing",
        "contact_type": "telephone",
    }
    result = _check(_write_csv(tmp_path / "community_contacts.csv", [row]), "community_contacts")
    text = " ".join(result.violations["reason"].to_list())
    assert "date_of_birth is not a valid date" in text
    for secret in ("9990000017", "not a date", "NOT A POSTCODE", "Lovelace"):
        assert secret not in text
    # In community data a bad NHS number, date of birth or postcode is flagged, the row kept.
    flags = result.violations.filter(pl.col("severity") == "flag")["column_name"].to_list()
    assert sorted(flags) == ["date_of_birth", "nhs_number", "postcode"]
    assert result.rejected == 0


def test_a_missing_required_column_stops_with_the_file_and_column_named(tmp_path):
    rows = [{k: v for k, v in GOOD_SPELL.items() if k != "admission_date"}]
    path = _write_csv(tmp_path / "apc_spells.csv", rows)
    with pytest.raises(
        contracts.ContractError, match=r"apc_spells\.csv: missing required column 'admission_date'"
    ):
        _check(path)


def test_a_file_that_is_not_parquet_stops_with_the_file_named(tmp_path):
    path = tmp_path / "apc_spells.parquet"
    path.write_text("spell_id,nhs_number\n1,2\n")
    with pytest.raises(
        contracts.ContractError, match=r"apc_spells\.parquet: not a readable parquet file"
    ):
        _check(path)


def test_a_contract_with_an_error_is_refused_naming_the_file_and_field(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "feed: x\nversion: '1'\ndescription: d\nsource: s\ngrain: g\nkey: [a]\n"
        "columns:\n  a: {type: text, description: d}\n"
    )
    with pytest.raises(contracts.ContractError, match=r"broken\.yaml: columns\.a\.type"):
        contracts.load_contract(path)


def test_a_rule_message_may_not_reveal_an_identifiable_field(tmp_path):
    path = tmp_path / "leaky.yaml"
    path.write_text(
        "feed: x\nversion: '1'\ndescription: d\nsource: s\ngrain: g\nkey: [a]\n"
        "columns:\n  a: {type: integer, description: d}\n  postcode: {type: string, description: d}\n"
        "rules:\n  - {name: r, check: a > 0, message: 'bad {postcode}'}\n"
    )
    with pytest.raises(contracts.ContractError, match="would reveal identifiable 'postcode'"):
        contracts.load_contract(path)


def test_every_shipped_contract_loads_and_has_a_version():
    loaded = {**contracts.load_contracts(), **contracts.load_reference_contracts()}
    assert len(loaded) == 11
    assert all(c.version for c in loaded.values())


def test_a_row_with_too_many_or_too_few_fields_is_quarantined_and_later_rows_keep_their_numbers(
    tmp_path,
):
    path = _write_csv(tmp_path / "apc_spells.csv", [GOOD_SPELL, dict(GOOD_SPELL, spell_id="2")])
    lines = path.read_text().splitlines()
    text = "\n".join(
        [lines[0], lines[1], lines[1].replace("1,", "9,", 1) + ",extra", "3,too,few", lines[2]]
    )
    path.write_text(text + "\n")
    result = _check(path)
    assert (result.read, result.accepted, result.rejected) == (4, 2, 2)
    bad = result.violations.filter(pl.col("check_name") == "malformed_row")["row_number"].to_list()
    assert bad == [2, 3]


def test_a_feed_sent_both_as_parquet_and_as_csv_is_refused_naming_both_files(tmp_path):
    (tmp_path / "patients.parquet").write_bytes(b"")
    (tmp_path / "patients.csv").write_text("nhs_number\n")
    with pytest.raises(contracts.ContractError, match="patients.parquet and patients.csv"):
        contracts.feed_file(tmp_path, "patients")


def test_a_feed_sent_once_is_found_whichever_the_format(tmp_path):
    (tmp_path / "patients.csv").write_text("nhs_number\n")
    assert contracts.feed_file(tmp_path, "patients") == tmp_path / "patients.csv"
    assert contracts.feed_file(tmp_path, "gp_events") is None
