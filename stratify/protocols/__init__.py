"""Shared clinical protocols as versioned YAML, checked on load, each step compiled to SQL.

A protocol names its population and its steps; each step has a kind (one SQL template in
sql/protocols/) and the parameters that kind needs. A file with an error is refused with a message
naming the file, the step and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stratify import codelists

PROTOCOL_DIR = Path(__file__).parent


class ProtocolError(Exception):
    """A protocol or provider-role file that cannot be used."""


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str


class RecordedWithin(_Step):
    kind: Literal["recorded_within"]
    codelists: list[str]
    window_days: int = Field(gt=0)
    due_soon_days: int = Field(default=30, ge=0)


class LatestValueAtMost(_Step):
    kind: Literal["latest_value_at_most"]
    codelists: list[str]
    window_days: int = Field(gt=0)
    at_most: float
    unit: str = ""


class BloodPressureAtMost(_Step):
    kind: Literal["blood_pressure_at_most"]
    window_days: int = Field(gt=0)
    systolic_at_most: float
    diastolic_at_most: float


class PrescribedWithin(_Step):
    kind: Literal["prescribed_within"]
    codelists: list[str]
    window_days: int = Field(gt=0)
    applies_from_age: int = 0


class AllOf(_Step):
    kind: Literal["all_of"]
    steps: list[str]


class CarePlanReviewedWithin(_Step):
    kind: Literal["care_plan_reviewed_within"]
    window_days: int = Field(gt=0)


class NamedCoordinator(_Step):
    kind: Literal["named_coordinator"]


class ContactAfterDischarge(_Step):
    kind: Literal["contact_after_discharge"]
    working_days: int = Field(gt=0)
    codelists: list[str]


Step = Annotated[
    RecordedWithin | LatestValueAtMost | BloodPressureAtMost | PrescribedWithin | AllOf
    | CarePlanReviewedWithin | NamedCoordinator | ContactAfterDischarge,
    Field(discriminator="kind"),
]  # fmt: skip


class Population(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal[
        "diabetes", "moderate_or_severe_frailty", "emergency_discharge", "repeat_medicines_at_least"
    ]
    lookback_days: int = 90
    value: int = 0


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: str
    title: str
    version: str
    source: str
    population: Population
    steps: list[Step]

    @model_validator(mode="after")
    def _coherent(self) -> Protocol:
        seen: set[str] = set()
        known = set(codelists.names())
        for i, step in enumerate(self.steps):
            if step.id in seen:
                raise ValueError(f"steps.{i}.id: step id {step.id!r} is used twice")
            for name in getattr(step, "codelists", []):
                if name not in known:
                    raise ValueError(f"steps.{i}.codelists: no code list named {name!r}")
            for ref in getattr(step, "steps", []):
                if ref not in seen:
                    raise ValueError(f"steps.{i}.steps: {ref!r} is not an earlier step")
            seen.add(step.id)
        return self


def _where(loc: list, data: dict) -> str:
    """'step <id>, field <name>' for a location inside a step, else 'field <path>'."""
    if len(loc) > 1 and loc[0] == "steps" and str(loc[1]).isdigit():
        steps = data.get("steps") or []
        i = int(loc[1])
        step = steps[i] if i < len(steps) and isinstance(steps[i], dict) else {}
        fields = [str(x) for x in loc[2:] if x != step.get("kind")]  # drop the union's tag
        return f"step {step.get('id', f'#{i + 1}')}, field {'.'.join(fields) or 'kind'}"
    return f"field {'.'.join(str(x) for x in loc) or '(top level)'}"


def load(path: Path) -> Protocol:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProtocolError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: not a protocol (expected a mapping)")
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message, loc = first["msg"].removeprefix("Value error, "), list(first["loc"])
        if not loc and ": " in message:  # our own checks start with the place they mean
            place, message = message.split(": ", 1)
            loc = [int(x) if x.isdigit() else x for x in place.split(".")]
        raise ProtocolError(f"{path}: {_where(loc, data)}: {message}") from exc


def load_all(folder: Path = PROTOCOL_DIR) -> dict[str, Protocol]:
    files = [f for f in sorted(Path(folder).glob("*.yaml")) if f.stem != "provider_roles"]
    return {p.protocol: p for p in map(load, files)}


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid")
    protocol: str
    step: str
    provider: str
    role: str
    scope: str = "everyone in the protocol's population"


class RoleAgreement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    agreed: str
    roles: list[Role]

    def owners(self, protocol: str, step: str) -> list[Role]:
        exact = [r for r in self.roles if r.protocol == protocol and r.step == step]
        return exact or [r for r in self.roles if r.protocol == protocol and r.step == "*"]


def roles(path: Path = PROTOCOL_DIR / "provider_roles.yaml") -> RoleAgreement:
    try:
        agreement = RoleAgreement.model_validate(yaml.safe_load(Path(path).read_text()))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProtocolError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
    protocols = load_all(Path(path).parent)
    for r in agreement.roles:
        if r.protocol not in protocols:
            raise ProtocolError(f"{path}: roles: unknown protocol {r.protocol!r}")
        if r.step != "*" and r.step not in {s.id for s in protocols[r.protocol].steps}:
            raise ProtocolError(f"{path}: roles: protocol {r.protocol} has no step {r.step!r}")
    return agreement
