"""The one-pass checks, rule by rule on small literal feeds: code systems, identifiers, dates and
units as suppliers send them, and what reject / flag / keep do to a row."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from stratify import codelists, contracts, sctid

CUT = date(2026, 10, 31)
SPELL = {
    "spell_id": "1",
    "nhs_number": "9990000018",
    "provider_code": "RYJ",
    "admission_date": "2024-03-01",
    "discharge_date": "2024-03-09",
    "admission_method": "21",
    "primary_diagnosis": "J189",
    "discharge_method": "1",
}
EVENT = {
    "event_id": "1",
    "nhs_number": "9990000018",
    "practice_code": "E85600",
    "event_date": "2025-01-01",
    "snomed_code": "38341003",
    "value": "",
    "unit": "",
}
EPISODE = {
    "episode_id": "1",
    "nhs_number": "9990000018",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth": "10/12/1935",
    "sex": "F",
    "postcode": "LS1 4AB",
    "local_authority_code": "E08000035",
    "service_type": "home_care",
    "start_date": "01/02/2025",
    "end_date": "",
}


def _staged(tmp_path, feed: str, rows: list[dict], fmt: str = "csv", schema=None):
    """(check result, every checked row as staged) for literal rows of one feed."""
    path = tmp_path / f"{feed}.{fmt}"
    frame = pl.DataFrame(rows, schema=schema or {k: pl.String for k in rows[0]})
    frame.write_csv(path) if fmt == "csv" else frame.write_parquet(path)
    con = contracts.connect()
    result = contracts.check_feed(con, contracts.load_contracts()[feed], path, CUT)
    rows = con.sql(f'SELECT * FROM "raw_{feed}__checked" ORDER BY row_number').pl()
    return result, rows


def _valid(codes: list[str]) -> list[bool]:
    con = contracts.connect()
    con.register("codes", pl.DataFrame({"code": codes}).to_arrow())
    return con.sql("SELECT verhoeff_valid(code) AS ok FROM codes").pl()["ok"].to_list()


def test_verhoeff_accepts_real_sctids_and_refuses_a_changed_digit():
    real = ["38341003", "999791000000106", "10674791000119101", "1049301000000100"]
    assert _valid(real) == [True] * 4
    changed = ["38341004", "999791000000107", "10674791000119102", "1049301000000101"]
    assert _valid(changed) == [False] * 4


def test_the_sql_verhoeff_agrees_with_the_python_one_on_random_numbers():
    rng = np.random.default_rng(3)
    numbers = [str(n) for n in rng.integers(10**5, 10**17, 2_000)]
    assert _valid(numbers) == [sctid.verhoeff_valid(n) for n in numbers]
    assert all(sctid.verhoeff_valid(sctid.with_check_digit(n)) for n in numbers[:200])


def test_a_chart_item_number_is_not_a_snomed_code_and_the_row_is_kept_flagged(tmp_path):
    rows = [EVENT, dict(EVENT, event_id="2", snomed_code="220045")]
    result, staged = _staged(tmp_path, "gp_events", rows)
    assert (result.read, result.accepted, result.rejected, result.flagged) == (2, 2, 0, 1)
    hit = result.violations.row(0, named=True)
    assert (hit["row_number"], hit["check_name"], hit["severity"]) == (2, "code_system", "flag")
    assert hit["reason"] == (
        "snomed_code 220045 is not a valid SNOMED CT identifier: partition 04 is not a concept"
    )
    assert staged["snomed_code"].to_list() == ["38341003", None]


def test_a_snomed_code_with_a_wrong_check_digit_is_flagged_with_that_reason(tmp_path):
    rows = [EVENT, dict(EVENT, event_id="2", snomed_code="38341004")]
    result, _ = _staged(tmp_path, "gp_events", rows)
    assert result.violations["reason"].to_list() == [
        "snomed_code 38341004 is not a valid SNOMED CT identifier: "
        "the Verhoeff check digit does not match"
    ]


def test_an_rxnorm_number_is_not_a_dmd_code(tmp_path):
    issue = {
        "issue_id": "1",
        "nhs_number": "9990000018",
        "practice_code": "E85600",
        "issue_date": "2025-01-01",
        "dmd_code": "197361",  # RxNorm amlodipine 5 mg oral tablet
        "description": "Amlodipine 5mg tablets",
        "issue_type": "repeat",
    }
    result, staged = _staged(tmp_path, "gp_medications", [issue])
    assert (result.accepted, result.flagged) == (1, 1)
    assert result.violations["reason"][0].startswith(
        "dmd_code 197361 is not a valid dm+d identifier"
    )
    assert staged["dmd_code"].to_list() == [None]


def test_a_code_in_a_project_list_is_known_whatever_its_check_digit(tmp_path):
    placeholders = [
        c for n in codelists.names() if codelists.load(n).system == "dmd"
        for c in codelists.load(n).code_values if not sctid.is_concept_id(c)
    ]  # fmt: skip
    if not placeholders:
        pytest.skip("every dm+d code in the lists passes the check")
    issue = {
        "issue_id": "1", "nhs_number": "9990000018", "practice_code": "E85600",
        "issue_date": "2025-01-01", "dmd_code": placeholders[0], "description": "x",
        "issue_type": "repeat",
    }  # fmt: skip
    result, staged = _staged(tmp_path, "gp_medications", [issue])
    assert result.violations.height == 0
    assert staged["dmd_code"].to_list() == [placeholders[0]]


def test_a_valid_code_in_no_list_is_kept_as_it_is(tmp_path):
    unknown = sctid.with_check_digit("999999900")
    result, staged = _staged(tmp_path, "gp_events", [dict(EVENT, snomed_code=unknown)])
    assert result.violations.height == 0
    assert staged["snomed_code"].to_list() == [unknown]


@pytest.mark.parametrize(("sent", "staged"), [("J18.9", "J189"), ("j18", "J18"), ("I10", "I10")])
def test_icd10_is_accepted_with_or_without_the_dot_at_three_or_four_characters(
    tmp_path, sent, staged
):
    result, rows = _staged(tmp_path, "apc_spells", [dict(SPELL, primary_diagnosis=sent)])
    assert result.violations.height == 0
    assert rows["primary_diagnosis"].to_list() == [staged]


def test_a_spell_with_an_invalid_diagnosis_stays_an_emergency_admission(tmp_path):
    result, rows = _staged(tmp_path, "apc_spells", [dict(SPELL, primary_diagnosis="J18.99X")])
    assert (result.accepted, result.flagged) == (1, 1)
    assert rows["admission_method"].to_list() == ["21"]
    assert rows["primary_diagnosis"].to_list() == [None]


@pytest.mark.parametrize("written", ["999 000 0018", "999-000-0018", " 9990000018 "])
def test_an_nhs_number_as_people_write_it_is_normalised_before_the_check(tmp_path, written):
    result, rows = _staged(tmp_path, "apc_spells", [dict(SPELL, nhs_number=written)])
    assert result.violations.height == 0
    assert rows["nhs_number"].to_list() == ["9990000018"]


def test_an_nhs_number_that_cleans_to_nothing_is_missing(tmp_path):
    result, _ = _staged(tmp_path, "apc_spells", [dict(SPELL, nhs_number=" - ")])
    assert result.rejected == 1
    assert result.violations["reason"].to_list() == ["nhs_number is missing"]


def test_the_same_person_written_two_ways_is_one_duplicate_key(tmp_path):
    patient = {
        "nhs_number": "9990000018", "given_name": "Ada", "family_name": "Lovelace",
        "date_of_birth": "1935-12-10", "sex": "F", "ethnic_category": "A", "postcode": "LS1 4AB",
        "lsoa_code": "E01000001", "practice_code": "E85600", "registration_date": "2000-01-01",
        "deregistration_date": "", "date_of_death": "",
    }  # fmt: skip
    rows = [patient, dict(patient, nhs_number="999 000 0018")]
    result, _ = _staged(tmp_path, "patients", rows)
    assert result.violations["reason"].to_list() == ["duplicate nhs_number: same as row 1"]


def test_dates_in_a_declared_uk_format_are_read(tmp_path):
    result, rows = _staged(tmp_path, "social_care_services", [EPISODE])
    assert result.violations.height == 0
    assert rows["start_date"].to_list() == [date(2025, 2, 1)]
    assert rows["date_of_birth"].to_list() == [date(1935, 12, 10)]


@pytest.mark.parametrize("start", ["31/02/2025", "2025/02/01", "1 Feb 2025", "02-01-2025"])
def test_an_impossible_or_undeclared_date_is_a_row_reason_never_a_guess(tmp_path, start):
    result, _ = _staged(tmp_path, "social_care_services", [dict(EPISODE, start_date=start)])
    assert result.rejected == 1
    assert result.violations["reason"].to_list() == [
        f"start_date {start} is not a valid date in the declared format (YYYY-MM-DD or DD/MM/YYYY)"
    ]


def test_a_uk_date_is_refused_where_the_feed_declares_only_iso(tmp_path):
    result, _ = _staged(tmp_path, "apc_spells", [dict(SPELL, admission_date="01/03/2024")])
    assert result.rejected == 1


def test_spells_whose_dates_arrive_as_yyyymmdd_integers_are_read_as_declared(tmp_path):
    spell = dict(SPELL, admission_date=20240301, discharge_date=20240309, spell_id=1)
    schema = {k: pl.String for k in SPELL} | {
        "spell_id": pl.Int64, "admission_date": pl.Int32, "discharge_date": pl.Int32,
    }  # fmt: skip
    result, rows = _staged(tmp_path, "apc_spells", [spell], "parquet", schema)
    assert result.violations.height == 0
    assert rows["admission_date"].to_list() == [date(2024, 3, 1)]
    assert rows["discharge_date"].to_list() == [date(2024, 3, 9)]


def test_integer_dates_in_a_feed_that_does_not_declare_them_are_refused_with_a_hint(tmp_path):
    attendance = {
        "attendance_id": 1, "nhs_number": "9990000018", "provider_code": "RYJ",
        "arrival_date": 20240301, "arrival_mode": "ambulance", "discharge_destination": "home",
    }  # fmt: skip
    schema = {k: pl.String for k in attendance} | {
        "attendance_id": pl.Int64, "arrival_date": pl.Int32,
    }  # fmt: skip
    result, _ = _staged(tmp_path, "ecds_attendances", [attendance], "parquet", schema)
    assert result.rejected == 1
    assert "declare date_formats [yyyymmdd]" in result.violations["reason"][0]


def _hba1c() -> str:
    return codelists.load("hba1c").code_values[0]


def test_hba1c_in_percent_is_converted_to_mmol_per_mol_and_the_sent_value_kept(tmp_path):
    result, rows = _staged(
        tmp_path, "gp_events", [dict(EVENT, snomed_code=_hba1c(), value="7.0", unit="%")]
    )
    assert result.violations.height == 0
    row = rows.row(0, named=True)
    assert row["value"] == pytest.approx(10.929 * (7.0 - 2.15))
    assert row["unit"] == "mmol/mol"
    assert (row["value_as_sent"], row["unit_as_sent"]) == (7.0, "%")


def test_cholesterol_in_mg_per_dl_is_converted_and_unit_case_does_not_matter(tmp_path):
    code = codelists.load("cholesterol").code_values[0]
    result, rows = _staged(
        tmp_path, "gp_events", [dict(EVENT, snomed_code=code, value="193.35", unit="MG/DL")]
    )
    assert result.violations.height == 0
    assert rows["value"][0] == pytest.approx(5.0)
    assert rows["unit"][0] == "mmol/L"


def test_a_value_outside_the_plausible_range_is_flagged_and_the_event_kept(tmp_path):
    rows = [dict(EVENT, snomed_code=_hba1c(), value="350", unit="mmol/mol")]
    result, staged = _staged(tmp_path, "gp_events", rows)
    assert (result.accepted, result.flagged) == (1, 1)
    hit = result.violations.row(0, named=True)
    assert (hit["check_name"], hit["severity"]) == ("plausible_range", "flag")
    assert "outside the plausible range 20.0-200.0 mmol/mol for hba1c" in hit["reason"]
    assert staged["value"].to_list() == [None]
    assert staged["value_as_sent"].to_list() == [350.0]


@pytest.mark.parametrize("unit", ["mg", ""])
def test_an_unknown_or_missing_unit_is_flagged_not_silently_used(tmp_path, unit):
    rows = [dict(EVENT, snomed_code=_hba1c(), value="48", unit=unit)]
    result, staged = _staged(tmp_path, "gp_events", rows)
    assert result.violations["check_name"].to_list() == ["unit"]
    assert result.violations["severity"].to_list() == ["flag"]
    assert staged["value"].to_list() == [None]


def test_a_value_on_a_code_that_is_not_measured_is_kept_as_sent(tmp_path):
    result, staged = _staged(tmp_path, "gp_events", [dict(EVENT, value="3", unit="")])
    assert result.violations.height == 0
    assert staged["value"].to_list() == [3.0]


def test_ae_and_outpatient_rows_without_optional_fields_stay(tmp_path):
    attendance = {
        "attendance_id": "1", "nhs_number": "9990000018", "provider_code": "RYJ",
        "arrival_date": "2025-01-01", "arrival_mode": "", "discharge_destination": "home",
    }  # fmt: skip
    result, _ = _staged(tmp_path, "ecds_attendances", [attendance])
    assert (result.accepted, result.violations.height) == (1, 0)
    appointment = {
        "appointment_id": "1", "nhs_number": "9990000018", "provider_code": "RYJ",
        "appointment_date": "2025-01-01", "treatment_function_code": "",
        "attendance_status": "attended",
    }  # fmt: skip
    result, _ = _staged(tmp_path, "op_appointments", [appointment])
    assert (result.accepted, result.violations.height) == (1, 0)


@pytest.mark.parametrize(
    ("change", "column", "check"),
    [
        ({"date_of_birth": ""}, "date_of_birth", "required"),
        ({"date_of_birth": "10/12/1835"}, "date_of_birth", "earliest"),
        ({"date_of_birth": "10/12/2025"}, "date_of_birth", "born_before_start"),
        ({"given_name": ""}, "given_name", "required"),
        ({"family_name": " "}, "family_name", "required"),
    ],
)
def test_a_missing_or_impossible_identity_field_is_flagged_and_the_row_kept(
    tmp_path, change, column, check
):
    result, staged = _staged(tmp_path, "social_care_services", [dict(EPISODE, **change)])
    assert (result.accepted, result.flagged) == (1, 1)
    hit = result.violations.row(0, named=True)
    assert (hit["check_name"], hit["severity"]) == (check, "flag")
    assert staged[column].to_list() == [None]
    assert staged["family_name" if column != "family_name" else "given_name"][0] is not None


def test_counts_reconcile_with_rejected_and_flagged_rows(tmp_path):
    rows = [
        SPELL,
        dict(SPELL, spell_id="2", primary_diagnosis="XX"),  # flagged
        dict(SPELL, spell_id="3", admission_date=""),  # rejected
        dict(SPELL, spell_id="3"),  # a repeat of a rejected key is rejected too
    ]
    result, _ = _staged(tmp_path, "apc_spells", rows)
    assert (result.read, result.accepted, result.rejected, result.flagged) == (4, 2, 2, 1)


def test_every_contract_column_and_rule_says_why():
    loaded = {**contracts.load_contracts(), **contracts.load_reference_contracts()}
    for contract in loaded.values():
        for name, column in contract.columns.items():
            assert column.why, f"{contract.feed}.{name}"
        for rule in contract.rules:
            assert rule.why, f"{contract.feed}: {rule.name}"


def test_a_contract_may_not_declare_month_first_dates(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "feed: x\nversion: '1'\ndescription: d\nsource: s\ngrain: g\nkey: [a]\n"
        "date_formats: [mm/dd/yyyy]\ncolumns:\n  a: {type: integer, description: d}\n"
    )
    with pytest.raises(contracts.ContractError, match="date_formats"):
        contracts.load_contract(path)
