"""The one status function of a guard-exam enrolment (考试报名's 流程状态), in SQL and in Python.

The rule (docs/exams.md: Enrolment status), first match wins:

1. returned / withdrawn applications: 已退回申请人 / 已撤回.
2. In review: the stage is named by the gate of the step it waits at — screening → 待背景审查,
   fingerprint card → 待录入指纹, payment → 待缴费; a step with no gate → 审批中. The stage is
   the step, not whether its gate is open yet (the detail shows that, ``gates.evaluate``).
3. Approved, with its *current seat*: the newest exam seat that is open or whose scores are
   locked (a cancelled exam's seat no longer counts).
   - no seat, or a seat in an exam not yet published → 待安排考试
   - open seat, scores not locked, exam not yet over → 待考试; over → 待录入成绩
   - scores locked (通知成绩): not passed → 未通过; passed → the certificate stage.
4. Certificate stage (issue 16 §4): ``certificate_stage_sql`` / ``certificate_stage_of`` read
   the enrolment's cards. An active card not yet printed (no 打印 or 补打 event) → 待制证 (the
   制证审批 approved it into the 制证名单); otherwise any card → 已发证; no card and a 制证审批
   that said 不同意 (returned, final for the enrolment, D14) → 不予制证; else nothing, so a
   passed candidate is 待制证审批 (its review in the inbox, or not opened yet).

``status_column`` is the SQL form, for filtering, counting and sorting the list in the
database; ``decide`` is the Python form over the same facts; a test holds them to agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from server.db.approval_models import Application, ApprovalTask
from server.db.certificate_models import Certificate, CertificateEvent
from server.db.exam_models import Exam, ExamCandidate
from server.services.approvals import publishing
from server.services.approvals.tasks import PENDING
from shared.approvals import ApplicationStatus, Gate
from shared.certificates import CertificateEventKind, CertificateStatus
from shared.enums import BusinessType
from shared.exams import EnrolmentStatus, ExamResult, ExamStatus

STAGE_OF_GATE: dict[Gate, EnrolmentStatus] = {
    Gate.screening: EnrolmentStatus.screening,
    Gate.fingerprint_card: EnrolmentStatus.fingerprint,
    Gate.payment: EnrolmentStatus.payment,
}
"""A step's stage is its first gate in this order (a step may list several)."""


def stage_gate(gates: Iterable[Gate]) -> Gate | None:
    listed = set(gates)
    return next((g for g in STAGE_OF_GATE if g in listed), None)


# --- the certificate hook ------------------------------------------------------------------

PRINT_EVENTS = (CertificateEventKind.printed.value, CertificateEventKind.reprint.value)
"""Events that mean a card was handed over printed: 打印, 补打."""


def _cards(application_id: Any) -> Any:
    return exists().where(Certificate.application_id == application_id)


def _refused(application_id: Any) -> Any:
    """A 制证审批 of the enrolment that said 不同意 (returned; nobody resubmits it, D14). The
    review is an application too: aliased, so that the enrolment's own row stays the outer one."""
    review = aliased(Application, name="review")
    return exists().where(
        review.source_application_id == application_id,
        review.business_type == BusinessType.guard_certificate.value,
        review.status == ApplicationStatus.returned.value,
    )


def _printed(card_id: Any) -> ColumnElement[bool]:
    return exists().where(
        CertificateEvent.certificate_id == card_id, CertificateEvent.kind.in_(PRINT_EVENTS)
    )


def certificate_stage_sql(application_id: Any) -> ColumnElement[str | None]:
    """The certificate stage of a passed enrolment in SQL: ``'awaiting_print'`` while an active
    card of it has not been printed (nor reprinted), else ``'issued'`` once it has any card,
    else ``'certificate_refused'`` when its 制证审批 said 不同意, else NULL (待制证审批: no card
    yet, whether its 制证审批 is in review or not opened)."""
    unprinted = exists().where(
        Certificate.application_id == application_id,
        Certificate.status == CertificateStatus.active.value,
        ~_printed(Certificate.id),
    )
    return case(
        (unprinted, EnrolmentStatus.awaiting_print.value),
        (_cards(application_id), EnrolmentStatus.issued.value),
        (_refused(application_id), EnrolmentStatus.certificate_refused.value),
        else_=null(),
    )


def certificate_stage_of(session: Session, application_id: int) -> EnrolmentStatus | None:
    """The Python twin of ``certificate_stage_sql``, over the enrolment's cards."""
    cards = session.execute(
        select(Certificate.status, _printed(Certificate.id)).where(
            Certificate.application_id == application_id
        )
    ).all()
    if any(state == CertificateStatus.active.value and not printed for state, printed in cards):
        return EnrolmentStatus.awaiting_print
    if cards:
        return EnrolmentStatus.issued
    refused = session.scalar(select(_refused(application_id)))
    return EnrolmentStatus.certificate_refused if refused else None


# --- the facts and the decision in Python ----------------------------------------------


@dataclass(frozen=True)
class Seat:
    exam_status: str
    exam_ends_at: datetime
    is_open: bool
    scores_locked: bool
    result: str | None


@dataclass(frozen=True)
class Facts:
    application_status: str
    gate: Gate | None  # the stage gate of the pending step (in review only)
    seat: Seat | None
    certificate: EnrolmentStatus | None = None


def decide(facts: Facts, now: datetime) -> EnrolmentStatus:  # noqa: PLR0911  (the rule, case by case)
    if facts.application_status == ApplicationStatus.returned:
        return EnrolmentStatus.returned
    if facts.application_status == ApplicationStatus.withdrawn:
        return EnrolmentStatus.withdrawn
    if facts.application_status != ApplicationStatus.approved:
        return STAGE_OF_GATE[facts.gate] if facts.gate else EnrolmentStatus.in_review
    seat = facts.seat
    if seat is None:
        return EnrolmentStatus.awaiting_exam
    if not seat.scores_locked:
        if seat.exam_status != ExamStatus.published:
            return EnrolmentStatus.awaiting_exam
        if seat.exam_ends_at > now:
            return EnrolmentStatus.scheduled
        return EnrolmentStatus.awaiting_scores
    if seat.result != ExamResult.passed:
        return EnrolmentStatus.failed
    return facts.certificate or EnrolmentStatus.certificate_review


def current_seat(session: Session, application_id: int) -> Seat | None:
    row = session.execute(
        select(Exam.status, Exam.ends_at, ExamCandidate)
        .join(Exam, Exam.id == ExamCandidate.exam_id)
        .where(
            ExamCandidate.application_id == application_id,
            or_(ExamCandidate.is_open, ExamCandidate.scores_locked),
        )
        .order_by(ExamCandidate.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    status, ends_at, seat = row
    return Seat(status, ends_at, seat.is_open, seat.scores_locked, seat.result)


def facts_of(session: Session, application: Application) -> Facts:
    gate = None
    if application.status == ApplicationStatus.in_review:
        task = session.scalar(
            select(ApprovalTask).where(
                ApprovalTask.application_id == application.id, ApprovalTask.status == PENDING
            )
        )
        if task is not None:
            process = publishing.process_of(application.definition)
            gate = stage_gate(process.step(task.step_key).gates)
    return Facts(
        application.status,
        gate,
        current_seat(session, application.id),
        certificate_stage_of(session, application.id),
    )


def status_of(session: Session, application: Application, now: datetime) -> EnrolmentStatus:
    """The status of one enrolment, read with the ORM (the detail, tests)."""
    return decide(facts_of(session, application), now)


# --- the same in SQL ------------------------------------------------------------------------


def stage_steps(session: Session) -> dict[Gate, list[tuple[int, str]]]:
    """(definition id, step key) of every published enrolment step, by its stage gate."""
    steps: dict[Gate, list[tuple[int, str]]] = {gate: [] for gate in STAGE_OF_GATE}
    for row in publishing.list_published(session, business_type=BusinessType.guard_exam_enrolment):
        for step in publishing.process_of(row).steps:
            gate = stage_gate(step.gates)
            if gate is not None:
                steps[gate].append((row.id, step.key))
    return steps


AWAITING_EXAM = EnrolmentStatus.awaiting_exam.value
PendingTask = aliased(ApprovalTask, name="pending_task")
Seat_ = aliased(ExamCandidate, name="seat")
SeatExam = aliased(Exam, name="seat_exam")


def with_status_joins(stmt: Any) -> Any:
    """``stmt`` (selecting from ``Application``) outer-joined to what the status reads: the
    pending step, the current seat and its exam."""
    newest_seat = (
        select(func.max(ExamCandidate.id))
        .where(
            ExamCandidate.application_id == Application.id,
            or_(ExamCandidate.is_open, ExamCandidate.scores_locked),
        )
        .correlate(Application)
        .scalar_subquery()
    )
    return (
        stmt.outerjoin(
            PendingTask,
            and_(PendingTask.application_id == Application.id, PendingTask.status == PENDING),
        )
        .outerjoin(Seat_, Seat_.id == newest_seat)
        .outerjoin(SeatExam, SeatExam.id == Seat_.exam_id)
    )


def _at_steps(steps: list[tuple[int, str]]) -> ColumnElement[bool]:
    by_definition: dict[int, list[str]] = {}
    for definition_id, key in steps:
        by_definition.setdefault(definition_id, []).append(key)
    if not by_definition:
        return false()
    return or_(
        *(
            and_(Application.definition_id == d, PendingTask.step_key.in_(keys))
            for d, keys in sorted(by_definition.items())
        )
    )


def status_column(steps: dict[Gate, list[tuple[int, str]]], now: datetime) -> ColumnElement[str]:
    """The status as a SQL expression over ``with_status_joins``'s tables (``now``: when an
    exam counts as over)."""
    in_review = case(
        *((_at_steps(steps[gate]), STAGE_OF_GATE[gate].value) for gate in STAGE_OF_GATE),
        else_=EnrolmentStatus.in_review.value,
    )
    certificate = func.coalesce(
        certificate_stage_sql(Application.id), EnrolmentStatus.certificate_review.value
    )
    return case(
        (Application.status == ApplicationStatus.returned.value, EnrolmentStatus.returned.value),
        (Application.status == ApplicationStatus.withdrawn.value, EnrolmentStatus.withdrawn.value),
        (Application.status != ApplicationStatus.approved.value, in_review),
        (Seat_.id.is_(None), EnrolmentStatus.awaiting_exam.value),
        (
            Seat_.scores_locked.is_(False),
            case(
                (SeatExam.status != ExamStatus.published.value, AWAITING_EXAM),
                (SeatExam.ends_at > now, EnrolmentStatus.scheduled.value),
                else_=EnrolmentStatus.awaiting_scores.value,
            ),
        ),
        (
            func.coalesce(Seat_.result, "") != ExamResult.passed.value,
            EnrolmentStatus.failed.value,
        ),
        else_=certificate,
    )
