"""考试安排: exams and their candidate lists (docs/exams.md: Scheduling).

Every change is permissioned, audited and checked against the version the clerk saw. A change
to an exam's candidates first claims the exam row at that version (``_claim``: an UPDATE with
``WHERE version = seen``), so of two clerks filling the last seat at once the second waits for
the first's commit and is then refused as stale (409) — on PostgreSQL as on SQLite. The unique
index on open seats refuses the same enrolment placed in two exams at once.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from server.db.approval_models import Application, ApplicationPerson
from server.db.exam_models import Exam, ExamCandidate, PassRuleRow
from server.db.models import Org
from server.services import audit, notifications
from server.services.approvals.access import principal_authority, visible_clause
from server.services.authz import Principal
from server.services.errors import AppError, check_version, not_found
from server.services.exams.enrolments import eligible_clause
from server.services.exams.rules import rule_of
from server.services.sync import records_out
from shared.approvals import PersonRole
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_time
from shared.errors import ErrorCode
from shared.exams import ExamStatus, PassRule
from shared.schemas.exams import ExamCreate, ExamUpdate


def get_exam(session: Session, principal: Principal, exam_id: int) -> Exam:
    """An exam organised inside the caller's data scope; anything else is 404."""
    exam = session.scalar(
        select(Exam).where(Exam.id == exam_id, principal.scope.clause(Exam.org_id))
    )
    if exam is None:
        raise not_found("exam")
    return exam


def list_exams(
    session: Session, principal: Principal, *, status: ExamStatus | None, offset: int, limit: int
) -> tuple[list[Exam], int]:
    stmt = select(Exam).where(principal.scope.clause(Exam.org_id))
    if status is not None:
        stmt = stmt.where(Exam.status == status.value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Exam.starts_at.desc(), Exam.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), total


def seats_taken(session: Session, exam_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamCandidate)
            .where(ExamCandidate.exam_id == exam_id, ExamCandidate.is_open)
        )
        or 0
    )


def snapshot(exam: Exam) -> dict[str, Any]:
    return {
        "name": exam.name,
        "address": exam.address,
        "starts_at": exam.starts_at,
        "ends_at": exam.ends_at,
        "seats": exam.seats,
        "status": exam.status,
        "pass_rule": exam.pass_rule.get("name"),
        "version": exam.version,
    }


def _audit(
    session: Session,
    principal: Principal,
    exam: Exam,
    action: AuditAction,
    *,
    now: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=action,
        entity_type=AuditEntity.EXAM,
        entity_id=exam.id,
        org_id=exam.org_id,
        before=before,
        after=after,
    )


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None or ends_at <= starts_at:
        raise AppError(ErrorCode.EXAM_TIME_INVALID)


def create_exam(session: Session, principal: Principal, data: ExamCreate, *, now: datetime) -> Exam:
    """A draft exam organised by the caller's bureau, with a snapshot of the chosen rule."""
    principal.require("exams:create")
    _check_times(data.starts_at, data.ends_at)
    rule_row = session.get(PassRuleRow, data.pass_rule_id)
    if rule_row is None or not rule_row.enabled:
        raise AppError(ErrorCode.EXAM_RULE_UNKNOWN)
    exam = Exam(
        name=data.name,
        address=data.address,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        seats=data.seats,
        org_id=principal_authority(session, principal),
        pass_rule_id=rule_row.id,
        pass_rule=rule_of(rule_row).model_dump(mode="json"),
        status=ExamStatus.draft.value,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(exam)
    session.flush()
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_CREATE,
        now=now,
        before=None,
        after=snapshot(exam),
    )
    session.commit()
    return exam


def _claim(session: Session, exam: Exam, version: int, now: datetime) -> None:
    """Take the exam at the version the clerk saw: the UPDATE waits for any other writer of
    the row and then matches nothing if it moved (STALE_VERSION)."""
    check_version(version, exam.version)
    exam.updated_at = now
    flag_modified(exam, "updated_at")
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise AppError(ErrorCode.STALE_VERSION) from None


def _editable(exam: Exam) -> None:
    if exam.status == ExamStatus.cancelled:
        raise AppError(ErrorCode.EXAM_CANCELLED)


def update_exam(
    session: Session, principal: Principal, exam_id: int, data: ExamUpdate, *, now: datetime
) -> Exam:
    """Edit or reschedule. A published exam whose time or place changes notifies again."""
    principal.require("exams:update")
    exam = get_exam(session, principal, exam_id)
    _editable(exam)
    check_version(data.version, exam.version)
    before = snapshot(exam)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    starts_at = changes.get("starts_at", exam.starts_at)
    ends_at = changes.get("ends_at", exam.ends_at)
    _check_times(starts_at, ends_at)
    for field, value in changes.items():
        setattr(exam, field, value)
    _claim(session, exam, data.version, now)
    if exam.seats < seats_taken(session, exam.id):
        session.rollback()
        raise AppError(ErrorCode.EXAM_SEATS_BELOW_CANDIDATES)
    moved = any(before[k] != getattr(exam, k) for k in ("address", "starts_at", "ends_at"))
    notified = 0
    if exam.status == ExamStatus.published and moved:
        notified = _notify(session, exam, now=now, kind="变更")
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_UPDATE,
        now=now,
        before=before,
        after={**snapshot(exam), "notified": notified},
    )
    session.commit()
    return exam


def cancel_exam(
    session: Session,
    principal: Principal,
    exam_id: int,
    *,
    version: int,
    reason: str,
    now: datetime,
) -> Exam:
    """Cancel: every seat is freed for another exam; a published exam's candidates are told."""
    principal.require("exams:delete")
    exam = get_exam(session, principal, exam_id)
    _editable(exam)
    before = snapshot(exam)
    was_published = exam.status == ExamStatus.published
    exam.status = ExamStatus.cancelled.value
    exam.cancelled_at = now
    exam.cancel_reason = reason
    _claim(session, exam, version, now)
    notified = _notify(session, exam, now=now, kind="取消", reason=reason) if was_published else 0
    for seat in _seats(session, exam.id):
        seat.is_open = False
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_CANCEL,
        now=now,
        before=before,
        after={**snapshot(exam), "reason": reason, "notified": notified},
    )
    session.commit()
    return exam


def _seats(session: Session, exam_id: int) -> list[ExamCandidate]:
    return list(
        session.scalars(
            select(ExamCandidate)
            .where(ExamCandidate.exam_id == exam_id, ExamCandidate.is_open)
            .order_by(ExamCandidate.id)
        )
    )


def add_candidates(
    session: Session,
    principal: Principal,
    exam_id: int,
    *,
    version: int,
    application_ids: list[int],
    now: datetime,
) -> Exam:
    """添加人员, all or none: each must be an enrolment the caller sees that may take a seat
    (``eligible_clause``), and the seats must hold them all."""
    principal.require("exams:update")
    exam = get_exam(session, principal, exam_id)
    if exam.status != ExamStatus.draft:
        raise AppError(ErrorCode.EXAM_NOT_DRAFT)
    _claim(session, exam, version, now)
    wanted = sorted(set(application_ids))
    found = set(
        session.scalars(
            select(Application.id).where(
                Application.id.in_(wanted), eligible_clause(), visible_clause(session, principal)
            )
        )
    )
    refused = [i for i in wanted if i not in found]
    if refused:
        session.rollback()
        raise AppError(ErrorCode.EXAM_CANDIDATE_INELIGIBLE, details={"application_ids": refused})
    if seats_taken(session, exam.id) + len(wanted) > exam.seats:
        session.rollback()
        raise AppError(ErrorCode.EXAM_SEATS_FULL, details={"seats": exam.seats})
    for application_id in wanted:
        session.add(
            ExamCandidate(
                exam_id=exam.id,
                application_id=application_id,
                is_open=True,
                absent=False,
                scores_locked=False,
                added_at=now,
                added_by_id=principal.user_id,
            )
        )
    try:
        session.flush()
    except IntegrityError:  # placed in another exam by someone else meanwhile
        session.rollback()
        raise AppError(ErrorCode.EXAM_CANDIDATE_BUSY) from None
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_CANDIDATES_ADD,
        now=now,
        before=None,
        after={"application_ids": wanted, "candidates": seats_taken(session, exam.id)},
    )
    session.commit()
    return exam


def remove_candidates(
    session: Session,
    principal: Principal,
    exam_id: int,
    *,
    version: int,
    application_ids: list[int],
    now: datetime,
) -> Exam:
    """Take people off a draft exam's list (ids not on it are ignored)."""
    principal.require("exams:update")
    exam = get_exam(session, principal, exam_id)
    if exam.status != ExamStatus.draft:
        raise AppError(ErrorCode.EXAM_NOT_DRAFT)
    _claim(session, exam, version, now)
    wanted = set(application_ids)
    removed = [s.application_id for s in _seats(session, exam.id) if s.application_id in wanted]
    for seat in _seats(session, exam.id):
        if seat.application_id in wanted:
            session.delete(seat)
    session.flush()
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_CANDIDATES_REMOVE,
        now=now,
        before=None,
        after={"application_ids": sorted(removed), "candidates": seats_taken(session, exam.id)},
    )
    session.commit()
    return exam


def admission_number(exam: Exam, serial: int) -> str:
    """准考证号: year of the exam (Beijing time), the exam id in six digits, a four-digit serial
    in the order of the list (by application id): gap-free within the exam."""
    return f"{china_time(exam.starts_at).year}{exam.id:06d}{serial:04d}"


def publish(
    session: Session, principal: Principal, exam_id: int, *, version: int, now: datetime
) -> Exam:
    """发布考试安排: freeze the list, number the seats, queue one SMS and one app notice each."""
    principal.require("exams:publish")
    exam = get_exam(session, principal, exam_id)
    if exam.status != ExamStatus.draft:
        raise AppError(ErrorCode.EXAM_NOT_DRAFT)
    _claim(session, exam, version, now)
    seats = sorted(_seats(session, exam.id), key=lambda s: s.application_id)
    if not seats:
        session.rollback()
        raise AppError(ErrorCode.EXAM_NO_CANDIDATES)
    for serial, seat in enumerate(seats, start=1):
        seat.admission_number = admission_number(exam, serial)
    exam.status = ExamStatus.published.value
    exam.published_at = now
    session.flush()
    notified = _notify(session, exam, now=now, kind="安排")
    _audit(
        session,
        principal,
        exam,
        AuditAction.EXAM_PUBLISH,
        now=now,
        before=None,
        after={**snapshot(exam), "candidates": len(seats), "notified": notified},
    )
    session.commit()
    return exam


def _when(exam: Exam) -> str:
    start, end = china_time(exam.starts_at), china_time(exam.ends_at)
    until = end.strftime("%H:%M") if start.date() == end.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M}至{until}"


def applicants(session: Session, application_ids: list[int]) -> dict[int, ApplicationPerson]:
    """The applicant (the candidate) of each enrolment, as of its current round: whom a notice
    goes to (SMS to ``mobile`` when known, the app by ``id_number``)."""
    if not application_ids:
        return {}
    return {
        p.application_id: p
        for p in session.scalars(
            select(ApplicationPerson)
            .join(Application, Application.id == ApplicationPerson.application_id)
            .where(
                ApplicationPerson.application_id.in_(application_ids),
                ApplicationPerson.role == PersonRole.applicant.value,
                ApplicationPerson.round == Application.round,
            )
        )
    }


def _notify(
    session: Session, exam: Exam, *, now: datetime, kind: str, reason: str | None = None
) -> int:
    """考试通知 to every open seat: one SMS (when a mobile is known) and one app notice each.
    Returns the number of candidates notified."""
    seats = _seats(session, exam.id)
    if not seats:
        return 0
    # 内外网同步: the same notice to the candidates who enrolled on the portal
    records_out.emit_exam_notice(session, exam, seats, kind=kind, reason=reason, now=now)
    people = applicants(session, [s.application_id for s in seats])
    subject = {"安排": "保安员资格考试通知", "变更": "保安员资格考试变更通知"}.get(
        kind, "保安员资格考试取消通知"
    )
    for seat in seats:
        person = people.get(seat.application_id)
        if person is None:
            continue
        if kind == "取消":
            body = f"{person.name}：原定{_when(exam)}在{exam.address}举行的“{exam.name}”已取消"
            body += f"（{reason}），另行安排后再通知您。" if reason else "，另行安排后再通知您。"
        else:
            lead = "考试安排已变更，" if kind == "变更" else ""
            body = (
                f"{person.name}：{lead}您参加的“{exam.name}”定于{_when(exam)}在{exam.address}"
                f"举行，准考证号 {seat.admission_number}，请携带居民身份证按时参加。"
            )
        if person.mobile:
            notifications.enqueue_sms(
                session, now=now, mobile=person.mobile, subject=subject, body=body, user_id=None
            )
        notifications.enqueue_app(
            session, now=now, recipient=person.id_number, subject=subject, body=body
        )
    return len(seats)


def candidates_of(session: Session, exam: Exam) -> list[tuple[ExamCandidate, Application]]:
    """Every seat of the exam with its enrolment, in admission-number order."""
    rows = session.execute(
        select(ExamCandidate, Application)
        .join(Application, Application.id == ExamCandidate.application_id)
        .where(ExamCandidate.exam_id == exam.id)
        .order_by(ExamCandidate.admission_number, ExamCandidate.application_id)
    )
    return [(seat, application) for seat, application in rows]


def exam_rule(exam: Exam) -> PassRule:
    return PassRule.model_validate(exam.pass_rule)


def org_name(session: Session, exam: Exam) -> str:
    org = session.get(Org, exam.org_id)
    return org.name if org else ""
