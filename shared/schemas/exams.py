"""Schemas of guard exams: the enrolment list, exams, candidates, the picker, pass rules."""

from datetime import datetime
from typing import Annotated, Any

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


class CertificateReviewReopen(Input):
    """重新提交制证 of a 不予制证 enrolment: why its 制证审批 opens again (the cause fixed)."""

    reason: str = Field(min_length=2, max_length=200, title="重新提交原因")


class CertificateReviewReopened(Schema):
    """The 制证审批 opened again: the same application in a new round, back in the inbox."""

    enrolment_id: int
    review_id: int
    review_number: str
    round: int
    status: EnrolmentStatus = Field(description="报名的流程状态（待制证审批）")
    status_label: str


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
    scores_locked_at: datetime | None = None


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


# --- scores (录入成绩, docs/exams-scores.md) ------------------------------------------------

ScoreValue = Annotated[float | str | None, Field(union_mode="left_to_right")]
"""A mark as the clerk typed it: a number, or text read by the import's rules (８５, "85.0")."""
SubjectKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class ScoresEntry(Input):
    """One candidate's scores from the grid (录入成绩): absent, or a mark per subject key."""

    absent: bool = False
    scores: dict[SubjectKey, ScoreValue] = Field(default_factory=dict, max_length=10)


class ScoresAmend(ScoresEntry):
    """更正成绩 after 通知成绩: the candidate, the new scores and the reason (required)."""

    candidate_id: Id
    reason: str = Field(default="", max_length=200, title="更正原因")


class ScoreImportCounts(Schema):
    """The answer of an import (or of its dry run): what the file holds and what changes."""

    dry_run: bool
    rows: int = Field(description="文件中填写了成绩或缺考的考生数")
    scored: int
    absent: int
    passed: int
    failed: int
    unchanged: int = Field(description="与已录入成绩相同、无需写入的考生数")
    written: int = Field(description="写入（或试导入时将写入）的考生数")
    not_in_file: int = Field(description="名单中未出现在文件里的考生数")


class ScoreLine(Schema):
    """One candidate of the score grid; ``id_number`` masked unless the caller may see it."""

    id: int
    application_id: int
    admission_number: str
    name: str
    id_number: str
    absent: bool
    scores: dict[str, float] | None
    total: float | None
    result: ExamResult | None
    result_label: str | None
    reasons: list[str]
    entered: bool
    amendments: int


class ScoreSheetPublic(Schema):
    """The score grid of an exam: its subjects, lock and candidates in admission order."""

    exam_id: int
    exam_name: str
    exam_version: int
    pass_rule: PassRule
    pass_rule_description: str
    locked: bool
    scores_locked_at: datetime | None
    may_enter: bool = Field(description="现在可录入或导入成绩（已发布、已开考、未锁定）")
    refusal: str | None = Field(description="不能录入成绩时的原因")
    counts: dict[str, int]
    lines: list[ScoreLine]


class AmendmentLine(Schema):
    id: int
    candidate_id: int
    admission_number: str
    name: str
    amended_at: datetime
    amended_by: str | None
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]
