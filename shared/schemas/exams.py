"""Schemas of guard exams: the enrolment list, exams, candidates, the picker, pass rules."""

from datetime import datetime

from pydantic import Field

from shared.exams import EnrolmentStatus, ExamResult, ExamStatus, PassRule
from shared.schemas.common import Id, Input, Page, Schema, Version


class PassRulePublic(Schema):
    id: int
    key: str
    name: str
    description: str
    rule: PassRule


class EnrolmentLine(Schema):
    """One line of 保安员资格证考试报名. ``status`` comes from the server's one status function."""

    application_id: int
    number: str
    name: str
    id_number: str  # masked unless the caller may see it in full
    region_code: str
    region_name: str
    training_unit: str | None
    submitted_at: datetime
    paid: bool
    fingerprint_card_no: str | None
    status: EnrolmentStatus
    status_label: str
    exam_id: int | None
    exam_name: str | None
    admission_number: str | None
    result: ExamResult | None
    hours_done: int | None
    hours_required: int | None
    version: int


class EnrolmentPage(Page[EnrolmentLine]):
    counts: dict[str, int] = Field(
        default_factory=dict, description="各流程状态的人数（不受 status 筛选影响）"
    )


class ExamCreate(Input):
    name: str = Field(min_length=2, max_length=100, title="考试名称")
    address: str = Field(min_length=2, max_length=200, title="考试地址")
    starts_at: datetime = Field(title="开始时间")
    ends_at: datetime = Field(title="结束时间")
    seats: int = Field(ge=1, le=10000, title="考位数")
    pass_rule_id: Id = Field(title="成绩合格标准")


class ExamUpdate(Input):
    """Reschedule or edit: only the fields given change. After publication, a change of time or
    address notifies every candidate again."""

    version: Version
    name: str | None = Field(default=None, min_length=2, max_length=100)
    address: str | None = Field(default=None, min_length=2, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    seats: int | None = Field(default=None, ge=1, le=10000)


class ExamCancel(Input):
    version: Version
    reason: str = Field(min_length=2, max_length=200)


class ExamVersion(Input):
    version: Version


class CandidatesChange(Input):
    version: Version
    application_ids: list[Id] = Field(min_length=1, max_length=1000)


class ExamPublic(Schema):
    id: int
    name: str
    address: str
    starts_at: datetime
    ends_at: datetime
    seats: int
    candidates: int
    org_id: int
    org_name: str
    pass_rule_id: int
    pass_rule: PassRule
    pass_rule_description: str
    status: ExamStatus
    status_label: str
    published_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class CandidateLine(Schema):
    id: int
    application_id: int
    application_number: str
    name: str
    id_number: str
    region_code: str
    training_unit: str | None
    admission_number: str | None
    absent: bool
    scores: dict[str, float] | None
    result: ExamResult | None
    result_label: str | None
    scores_locked: bool


class PickerLine(Schema):
    """An enrolment that may be placed in an exam (添加人员), with its 课程学习进度."""

    application_id: int
    number: str
    name: str
    id_number: str
    region_code: str
    region_name: str
    training_unit: str | None
    hours_done: int | None
    hours_required: int | None
    decided_at: datetime | None
    submitted_at: datetime
