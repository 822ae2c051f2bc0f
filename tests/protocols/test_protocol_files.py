"""Protocol files: the shipped ones load; a file with an error is refused naming file, step, field."""

from __future__ import annotations

import pytest

from stratify import protocols

HEAD = "protocol: p\ntitle: t\nversion: '1'\nsource: s\npopulation: {name: diabetes}\nsteps:\n"


def test_the_shipped_protocols_load_with_versions_and_sources():
    loaded = protocols.load_all()
    assert set(loaded) == {"diabetes", "frailty", "transitions", "polypharmacy"}
    assert all(p.version and p.source for p in loaded.values())
    assert len(loaded["diabetes"].steps) == 14


def test_every_step_has_an_owner_in_the_provider_role_agreement():
    agreement = protocols.roles()
    for protocol in protocols.load_all().values():
        for step in protocol.steps:
            assert agreement.owners(protocol.protocol, step.id), (protocol.protocol, step.id)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{id: hba1c, title: t, kind: recorded_within, codelists: [hba1c], window_days: -1}",
         "step hba1c, field window_days: Input should be greater than 0"),
        ("{id: hba1c, title: t, kind: recorded_within, codelists: [no_such_list], window_days: 5}",
         "step hba1c, field codelists: no code list named 'no_such_list'"),
        ("{id: hba1c, title: t, kind: recorded_within, codelists: [hba1c]}",
         "step hba1c, field window_days: Field required"),
        ("{id: both, title: t, kind: all_of, steps: [later]}", "step both, field steps: 'later' is not an earlier step"),
        ("{id: odd, title: t, kind: sometimes}", "step odd, field kind:"),
    ],
)  # fmt: skip
def test_a_protocol_with_an_error_is_refused_naming_the_file_step_and_field(
    tmp_path, step, message
):
    path = tmp_path / "broken.yaml"
    path.write_text(HEAD + f"  - {step}\n")
    with pytest.raises(protocols.ProtocolError) as caught:
        protocols.load(path)
    assert str(caught.value).startswith(f"{path}: {message}")
