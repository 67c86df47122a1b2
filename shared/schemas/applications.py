"""Applications and the approval actions on them, as the API and the client see them."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from shared.approvals import (
    FINGERPRINT_CARD_PATTERN,
    ApplicantKind,
    ApplicationStatus,
    ApprovalAction,
    FingerprintMatchVerdict,
    OpinionVisibility,
    PersonRole,
)
from shared.documents import DocumentKind
from shared.enums import BusinessType
from shared.schemas.common import ActionState, Id, Input, Page, Schema, Version
from shared.schemas.users import MOBILE_PATTERN, id_number_field

FORM_FIELDS_MAX = 50
CORRECTION_MAX = 500


class PersonIn(Input):
    role: PersonRole
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(max_length=32)
    mobile: str | None = Field(default=None, max_length=11, pattern=MOBILE_PATTERN)

    _check_id = field_validator("id_number")(id_number_field)


class ApplicationCreate(Input):
    business_type: BusinessType
    applicant_kind: ApplicantKind
    applicant_name: str = Field(min_length=2, max_length=100)
    applicant_code: str = Field(
        min_length=6, max_length=32, description="统一社会信用代码或身份证号"
    )
    region_code: str = Field(
        max_length=6, pattern=r"^\d{6}$", description="申请人所在县（区）行政区划代码"
    )
    form: dict[Annotated[str, Field(max_length=64)], Any] = Field(max_length=FORM_FIELDS_MAX)
    persons: list[PersonIn] = Field(min_length=1, max_length=20)
    external_ref: str | None = Field(default=None, max_length=64)


class ApplicationResubmit(Input):
    version: Version
    form: dict[Annotated[str, Field(max_length=64)], Any] = Field(max_length=FORM_FIELDS_MAX)
    persons: list[PersonIn] = Field(min_length=1, max_length=20)


class ApproveBody(Input):
    version: Version
    opinion: str = Field(default="", max_length=2000)


class RejectBody(Input):
    """Disagree: the reason and the full list of corrections (一次性告知) go to the applicant;
    ``opinion``, optional, is the approver's internal opinion (内部意见): logged as an internal
    line, never shown to the applicant nor sent to the extranet."""

    version: Version
    reason: str = Field(min_length=2, max_length=2000)
    corrections: list[Annotated[str, Field(max_length=CORRECTION_MAX)]] = Field(
        min_length=1, max_length=50
    )
    opinion: str = Field(default="", max_length=2000)

    @field_validator("corrections")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        cleaned = [item.strip() for item in value]
        if any(not item for item in cleaned):
            raise ValueError("补正事项不能为空")
        return cleaned


class AssignBody(Input):
    version: Version
    assignee_id: Id
    opinion: str = Field(default="", max_length=2000)


class ReassignBody(Input):
    """收回 (``assignee_id`` null: back to the bureau), 认领 (oneself) or 改派 (a colleague)."""

    version: Version
    assignee_id: Id | None
    opinion: str = Field(default="", max_length=2000)


class ReturnBody(Input):
    version: Version
    reason: str = Field(min_length=2, max_length=2000)


class FingerprintBody(Input):
    version: Version
    card_number: str = Field(max_length=32, pattern=FINGERPRINT_CARD_PATTERN)


class FingerprintMatchBody(Input):
    """A hit of the station module's library search for the finger being enrolled."""

    device_id: str = Field(min_length=1, max_length=64)
    slot: int = Field(ge=0, le=65535)
    score: int = Field(ge=0, le=65535)


class FingerprintMatch(Schema):
    verdict: FingerprintMatchVerdict
    message: str
    application_number: str | None = None
    person_name: str | None = None
    id_number: str | None = None  # masked
    card_number: str | None = None


class FingerprintEnrolBody(Input):
    """A template stored in ``slot`` of module ``device_id`` for this application's applicant."""

    version: Version
    device_id: str = Field(min_length=1, max_length=64)
    slot: int = Field(ge=0, le=65535)


class PaymentConfirm(Input):
    application_ids: list[Id] = Field(min_length=1, max_length=500)


class PersonPublic(Schema):
    id: int
    role: PersonRole
    role_label: str
    name: str
    id_number: str | None
    mobile: str | None


class TaskPublic(Schema):
    id: int
    round: int
    step_key: str
    step_name: str
    level: str
    level_label: str
    approval_role: str
    approval_role_label: str
    acting_org_id: int
    acting_org_name: str
    assignee_name: str | None
    status: str
    started_at: datetime
    due_date: date
    overdue: bool
    decided_at: datetime | None


class GateView(Schema):
    """What the review dialog's main button does and says, as the server decides it."""

    action: str  # approve | fingerprint | payment
    label: str  # 同意 | 获取指纹卡号 | 缴费确认
    approve_allowed: bool
    reject_allowed: bool
    reasons: list[str]


class ApplicationRow(Schema):
    """One inbox line."""

    id: int
    number: str
    business_type: BusinessType
    business_type_label: str
    applicant_name: str
    status: ApplicationStatus
    status_label: str
    round: int
    submitted_at: datetime
    version: int
    task_id: int | None = None
    step_name: str | None = None
    acting_org_name: str | None = None
    due_date: date | None = None
    overdue: bool = False
    decided_at: datetime | None = None


class PendingApprover(Schema):
    user_id: int
    name: str
    role_label: str
    org_name: str


class StepFacts(Schema):
    """Facts of the pending step, stated by the server: the desk infers nothing from step names
    or positions (ARCHITECTURE.md habit 11)."""

    is_final: bool  # approving it ends the review: the application is approved
    can_return: bool  # an earlier step of this round was done, so 退回上一级 has somewhere to go
    # who reads the opinion given with 同意: police only (intermediate) or the applicant (final)
    approve_opinion_visibility: OpinionVisibility
    approve_opinion_required: bool  # the final step's opinion goes to the applicant: required
    # 不同意 always goes to the applicant with its reason; 退回上一级's reason stays inside
    reject_opinion_visibility: OpinionVisibility = OpinionVisibility.external
    return_opinion_visibility: OpinionVisibility = OpinionVisibility.internal


class ApplicationDetail(ApplicationRow):
    applicant_kind: ApplicantKind
    applicant_code: str
    region_code: str
    region_name: str
    form: dict[str, Any]
    persons: list[PersonPublic]
    definition_version: int
    steps: list[str]
    current_task: TaskPublic | None
    can_act: bool
    # whom the caller may hand the step to with 指派 (everyone who could act on it but the caller)
    assign_to: list[PendingApprover] = []
    # the caller may take back, take or hand on the pending step (收回/认领/改派), and to whom
    # (never the step's current assignee)
    can_reassign: bool = False
    reassign_to: list[PendingApprover] = []
    gate: GateView | None
    fingerprint_card_no: str | None
    paid_at: datetime | None
    # the review is over (approved, returned to the applicant or withdrawn): no step is pending
    finished: bool = False
    step: StepFacts | None = None
    # what the caller may do now, and for the others why not: approve, reject, assign,
    # return_back, release (收回, only an assigned step), reassign (认领/改派)
    allowed_actions: dict[ApprovalAction, ActionState] = {}
    # where it came in (an ``ApplicationSource`` value and its label: 外网门户, 内网受理, 系统生成)
    # and, for one filed on the extranet, the portal's own reference (外网申请编号)
    source: str = "intranet"
    source_label: str = "内网受理"
    external_ref: str | None = None


class LogEntryPublic(Schema):
    at: datetime
    round: int
    step_name: str | None
    actor_name: str
    actor_role: str | None
    action: ApprovalAction
    action_label: str
    opinion: str | None
    opinion_hidden: bool
    visibility: OpinionVisibility
    corrections: list[str] | None
    assignee_name: str | None


class Progress(Schema):
    entries: list[LogEntryPublic]
    pending: list[PendingApprover]
    finished: bool


class InboxCounts(Schema):
    total: int
    overdue: int
    by_type: dict[str, int]


class InboxPage(Page[ApplicationRow]):
    """A page of the inbox; with ``?with_counts=true`` also the pending counts per business type
    (the inbox screen shows both, so it asks once)."""

    counts: InboxCounts | None = None


class ExternalStep(Schema):
    step_name: str
    level_label: str
    state: str  # done | pending | not_reached | rejected
    at: datetime | None


class ExternalRound(Schema):
    round: int
    submitted_at: datetime
    outcome: str  # in_review | rejected | approved
    steps: list[ExternalStep]
    reason: str | None = None
    corrections: list[str] | None = None
    opinion: str | None = None
    decided_at: datetime | None = None


class ExternalView(Schema):
    """Everything an applicant may see, and nothing more: no internal opinion, no approver."""

    number: str
    business_type: BusinessType
    business_type_label: str
    applicant_name: str
    status: ApplicationStatus
    status_label: str
    rounds: list[ExternalRound]
    document_number: str | None = None


class PaymentResult(Schema):
    confirmed: list[int]


class DocumentPublic(Schema):
    """A licence or certificate issued on final approval. ``verification_code`` is what the
    printed document and its QR code (``qr_payload``) carry for 核验."""

    id: int
    application_id: int
    application_number: str
    kind: DocumentKind
    kind_label: str
    number: str
    holder_name: str
    issued_at: datetime
    issued_by: str
    verification_code: str
    qr_payload: str


class DocumentVerification(Schema):
    """The answer to a scanned QR code: valid or not, and whose document it is when valid."""

    valid: bool
    message: str
    number: str
    kind_label: str | None = None
    holder_name: str | None = None
    issued_at: datetime | None = None
    issued_by: str | None = None
