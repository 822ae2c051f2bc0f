import re

import polars as pl
import pytest

from stratify import codelists
from stratify.contracts import CODE_SYSTEMS

FORMAT = {
    "snomed_ct": CODE_SYSTEMS["snomed_ct"][0],
    "dmd": CODE_SYSTEMS["dmd"][0],
    "icd10": "[A-Z][0-9]{2}[0-9A-Z]?",
}
# The set the published files were copied from (../shared/codelists beside the checkout), if here.
SHARED = next(
    (
        p / "shared" / "codelists"
        for p in codelists.CODELIST_DIR.parents
        if (p / "shared" / "codelists").is_dir()
    ),
    None,
)


def _placeholder_files() -> set[str]:
    return {
        f["file"]
        for entry in codelists.manifest()["lists"].values()
        for f in entry["files"]
        if f.get("placeholder")
    }


def test_every_list_in_the_manifest_loads_with_a_version_and_unique_codes():
    for name in codelists.names():
        cl = codelists.load(name)
        assert cl.version, name
        assert cl.codes.height > 0, name
        assert cl.codes["code"].is_unique().all(), name


def test_every_code_has_the_shape_of_its_code_system():
    for name in codelists.names():
        cl = codelists.load(name)
        for code in cl.code_values:
            assert re.fullmatch(FORMAT[cl.system], code), f"{name}: {code}"


def test_every_snomed_and_dmd_code_passes_verhoeff_and_the_concept_partition_rule():
    bad = []
    for entry in codelists.manifest()["lists"].values():
        if entry["system"] == "icd10":
            continue
        for f in entry["files"]:
            if f.get("placeholder"):
                continue
            codes = codelists.read_codes(codelists.CODELIST_DIR / f["file"])["code"]
            bad += [(f["file"], c) for c in codes if not codelists.sctid_ok(c)]
    assert bad == []


def test_only_the_declared_placeholder_file_holds_made_up_dmd_codes():
    assert _placeholder_files() == {"medicines_placeholder.csv"}
    codes = codelists.read_codes(codelists.CODELIST_DIR / "medicines_placeholder.csv")
    assert codes["medicine"].to_list() == ["co_beneldopa"]


@pytest.mark.parametrize(
    ("code", "ok"),
    [("84114007", True), ("195967001", True), ("1239511000000100", True),
     ("84114008", False), ("711021001", False), ("3001051000001104", False),
     ("84114027", False)],  # the last passes no partition: 02
)  # fmt: skip
def test_sctid_check_accepts_real_identifiers_and_refuses_altered_ones(code, ok):
    assert codelists.sctid_ok(code) is ok


def test_every_published_file_is_an_unchanged_copy_with_its_provenance():
    if SHARED is None:
        pytest.skip("the shared code lists are not on this machine")
    for entry in codelists.manifest()["lists"].values():
        for f in entry["files"]:
            if f["ours"]:
                assert f["source"], f["file"]
                continue
            assert {"source_repo", "path", "commit", "version", "licence"} <= f.keys(), f["file"]
            local = (codelists.CODELIST_DIR / f["file"]).read_bytes()
            assert local == (SHARED / f["file"]).read_bytes(), f["file"]


def test_concepts_map_to_the_published_lists_under_the_names_the_code_uses():
    assert [f["file"] for f in codelists.files("hypertension")] == ["hypertension.csv"]
    assert "59621000" in codelists.load("hypertension").code_values  # essential hypertension
    assert codelists.load("cancer").codes.height > 8000  # all sites, solid and haematological
    assert codelists.load("smoking_status").codes.height == 68
    assert not codelists.load("statins").codes.is_empty()
    assert codelists.load("icd10_chronic").system == "icd10"


def test_a_file_with_extra_columns_loads_code_first_and_term():
    cl = codelists.load("diuretics")
    assert cl.codes.columns == ["code", "term"]
    assert cl.code_values[0] == "42206611000001103"


def test_every_medicine_the_generator_prescribes_has_a_dmd_code():
    from stratify.synth.health import MEDICINE_NAMES

    meds = codelists.load("medicines").codes
    assert set(MEDICINE_NAMES) | {"amoxicillin", "nitrofurantoin"} <= set(meds["medicine"])


def test_atorvastatin_codes_are_statins_so_the_statin_step_sees_them():
    meds = codelists.load("medicines").codes.filter(pl.col("medicine") == "atorvastatin")
    assert set(meds["code"]) <= set(codelists.load("statins").code_values)


def test_an_unknown_list_name_fails_loudly():
    try:
        codelists.load("no_such_list")
    except KeyError as exc:
        assert "no_such_list" in str(exc)
    else:
        raise AssertionError("expected KeyError")
