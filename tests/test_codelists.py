import re

from stratify import codelists
from stratify.contracts import CODE_SYSTEMS

FORMAT = {
    "snomed_ct": CODE_SYSTEMS["snomed_ct"][0],
    "dmd": CODE_SYSTEMS["dmd"][0],
    "icd10": "[A-Z][0-9]{2}",
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


def test_an_unknown_list_name_fails_loudly():
    try:
        codelists.load("no_such_list")
    except KeyError as exc:
        assert "no_such_list" in str(exc)
    else:
        raise AssertionError("expected KeyError")
