"""Process definitions (审批流程定义) as the API and the client see them."""

from datetime import datetime

from pydantic import ConfigDict, Field

from shared.approvals import AuthorityLevel, Gate
from shared.enums import ApprovalRole, BusinessType
from shared.schemas.common import Input, Schema


class WorkflowStepPublic(Schema):
    key: str
    name: str
    level: AuthorityLevel
    level_label: str
    role: ApprovalRole
    role_label: str
    time_limit_days: int
    gates: list[Gate]
    gate_labels: list[str]
    final: bool
    next: str | None = None


class WorkflowPublic(Schema):
    """One published version of a business type's process."""

    id: int
    business_type: BusinessType
    label: str
    version: int
    name: str
    source_name: str
    sha256: str
    published_at: datetime
    published_by: str
    steps: list[WorkflowStepPublic]


class WorkflowPublish(Input):
    """A definition to publish: the YAML text of one file and the name it is known by.

    Whitespace is kept as sent so the line numbers in error messages match the file.
    """

    model_config = ConfigDict(str_strip_whitespace=False)

    source_name: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=200_000)


class WorkflowProblem(Schema):
    """One entry of a WORKFLOW_INVALID error's ``details``; ``line`` None: the whole file."""

    line: int | None
    message: str
