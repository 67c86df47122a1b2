"""A process definition in memory: the ordered steps of one business type, already validated.

Definitions are data (``resources/workflows/*.yaml``), published into the database as numbered
versions; an application keeps the version it began with. This module holds only the shape and
the questions the engine asks of it; reading and validating files lives in ``definition_files``.
"""

from dataclasses import dataclass, field
from typing import Any

from shared.approvals import AuthorityLevel, Gate
from shared.enums import ApprovalRole, BusinessType


@dataclass(frozen=True)
class StepDef:
    key: str
    name: str
    level: AuthorityLevel
    role: ApprovalRole
    time_limit_days: int
    gates: tuple[Gate, ...] = ()
    final: bool = False
    next: str | None = None  # None: the step listed after this one

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "level": str(self.level),
            "role": str(self.role),
            "time_limit_days": self.time_limit_days,
            "gates": [str(g) for g in self.gates],
            "final": self.final,
        }
        if self.next is not None:
            data["next"] = self.next
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StepDef":
        return cls(
            key=data["key"],
            name=data["name"],
            level=AuthorityLevel(data["level"]),
            role=ApprovalRole(data["role"]),
            time_limit_days=int(data["time_limit_days"]),
            gates=tuple(Gate(g) for g in data.get("gates", ())),
            final=bool(data.get("final", False)),
            next=data.get("next"),
        )


@dataclass(frozen=True)
class ProcessDef:
    business_type: BusinessType
    name: str
    steps: tuple[StepDef, ...]
    version: int | None = None  # set once published
    extra: dict[str, Any] = field(default_factory=dict)

    def index_of(self, key: str) -> int:
        for index, step in enumerate(self.steps):
            if step.key == key:
                return index
        raise KeyError(key)

    def step(self, key: str) -> StepDef:
        return self.steps[self.index_of(key)]

    @property
    def first(self) -> StepDef:
        return self.steps[0]

    def after(self, key: str) -> StepDef | None:
        """The step an approval of ``key`` leads to; None after a final step."""
        step = self.step(key)
        if step.final:
            return None
        if step.next is not None:
            return self.step(step.next)
        return self.steps[self.index_of(key) + 1]

    def to_json(self) -> dict[str, Any]:
        return {
            "business_type": str(self.business_type),
            "name": self.name,
            "steps": [s.to_json() for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], version: int | None = None) -> "ProcessDef":
        return cls(
            business_type=BusinessType(data["business_type"]),
            name=data["name"],
            steps=tuple(StepDef.from_json(s) for s in data["steps"]),
            version=version,
        )
