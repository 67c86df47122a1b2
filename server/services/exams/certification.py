"""制证审批 opened for the candidates who passed (issue 16 §4, D14).

When an exam's scores are notified (通知成绩 locks each seat's scores), every candidate whose
locked result is 合格 gets one ``guard_certificate`` application in the 通用审批 inbox, opened by
the server (``intake.open_by_system``) and linked to the enrolment (``source_application_id``,
and the form's 报名申请编号). Its approval issues the 保安员证 record
(``certificates.from_review``).

Idempotent: an enrolment that already has a review (in review, approved or not) gets no second
one (a unique index holds it on both engines), nor does a person who already holds an active
certificate. The enrolment's 证件照 is copied to the review as a material row (same stored bytes),
so the approver sees the photo the card will carry.

A review that said 不同意 leaves the enrolment 不予制证 until a clerk, once the cause is fixed (a
new 证件照, corrected particulars), asks for it again with a reason (``reopen_review``,
重新提交制证): the same review opens a new round, its form and photo taken afresh from the
enrolment. The one-review-per-enrolment index stays true, and the history of both rounds is
that review's progress.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from server.db.approval_models import Application, ApplicationPerson, Material
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate
from server.services import audit
from server.services.approvals import intake
from server.services.approvals.access import get_application
from server.services.authz import Principal
from server.services.certificates.from_review import is_photo
from server.services.errors import AppError, not_found
from server.services.exams import status as pipeline
from server.services.exams.scheduling import exam_rule
from server.services.materials.records import snapshot as material_snapshot
from shared.approvals import ApplicantKind, ApplicationStatus, PersonRole
from shared.audit_actions import AuditAction, AuditEntity
from shared.certificates import PHOTO_TITLE, CertificateStatus
from shared.enums import BusinessType
from shared.errors import ErrorCode
from shared.exams import EnrolmentStatus, ExamResult, PassRule
from shared.idnumber import IdNumberError, parse_id_number
from shared.schemas.applications import ApplicationCreate, PersonIn
from shared.schemas.exams import CertificateReviewReopened

REVIEW = BusinessType.guard_certificate


def _mark(value: Any) -> str:
    return f"{float(value):g}"


def score_summary(rule: PassRule, scores: dict[str, Any] | None) -> str:
    """``理论 85 分、实操 90 分，总分 175 分`` in the rule's subject order."""
    given = scores or {}
    parts = [
        f"{s.name} {_mark(given[s.key])} 分" for s in rule.subjects if given.get(s.key) is not None
    ]
    marks = [float(given[s.key]) for s in rule.subjects if given.get(s.key) is not None]
    if len(marks) > 1:
        return "、".join(parts) + f"，总分 {_mark(sum(marks))} 分"
    return "、".join(parts) or ExamResult.passed.label


def _birth_and_gender(id_number: str, stated_gender: str | None) -> tuple[date, str]:
    try:
        parsed = parse_id_number(id_number)
    except IdNumberError:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        return born, stated_gender or "男"
    return parsed.birth_date, stated_gender or parsed.gender_label


def _applicant(session: Session, enrolment: Application) -> ApplicationPerson | None:
    return session.scalar(
        select(ApplicationPerson)
        .where(
            ApplicationPerson.application_id == enrolment.id,
            ApplicationPerson.round == enrolment.round,
            ApplicationPerson.role == PersonRole.applicant.value,
        )
        .limit(1)
    )


def review_body(
    session: Session, exam: Exam, seat: ExamCandidate, enrolment: Application
) -> ApplicationCreate:
    """The 制证审批 application of one passed candidate, from the enrolment and the seat."""
    person = _applicant(session, enrolment)
    name = person.name if person is not None else enrolment.applicant_name
    id_number = person.id_number if person is not None else enrolment.applicant_code
    born, gender = _birth_and_gender(id_number, (enrolment.form or {}).get("gender"))
    form = {
        "holder_name": name,
        "gender": gender,
        "birth_date": born.isoformat(),
        "id_number": id_number,
        "exam_id": exam.id,
        "exam_name": exam.name,
        "admission_number": seat.admission_number,
        "result": ExamResult.passed.label,
        "score_summary": score_summary(exam_rule(exam), seat.scores),
        "enrolment_application_id": enrolment.id,
        "enrolment_number": enrolment.number,
    }
    return ApplicationCreate(
        business_type=REVIEW,
        applicant_kind=ApplicantKind.person,
        applicant_name=enrolment.applicant_name,
        applicant_code=id_number,
        region_code=enrolment.region_code,
        form=form,
        persons=[
            PersonIn(
                role=PersonRole.applicant,
                name=name,
                id_number=id_number,
                mobile=person.mobile if person is not None else None,
            )
        ],
    )


def _due(exam_id: int) -> Any:
    """Passed, locked seats of the exam whose enrolment has no review yet and whose person
    holds no active certificate, each with its enrolment."""
    enrolment = aliased(Application, name="enrolment")
    has_review = exists().where(
        Application.source_application_id == enrolment.id,
        Application.business_type == REVIEW.value,
    )
    holds = exists().where(
        Certificate.status == CertificateStatus.active.value,
        or_(
            Certificate.application_id == enrolment.id,
            Certificate.id_number == enrolment.applicant_code,
        ),
    )
    return (
        select(ExamCandidate, enrolment)
        .join(enrolment, enrolment.id == ExamCandidate.application_id)
        .where(
            ExamCandidate.exam_id == exam_id,
            ExamCandidate.scores_locked.is_(True),
            ExamCandidate.result == ExamResult.passed.value,
            ~has_review,
            ~holds,
        )
        .order_by(ExamCandidate.admission_number, ExamCandidate.application_id)
    )


def _newest_photo(session: Session, application_ids: tuple[int, ...]) -> Material | None:
    """The newest 证件照 among these applications' materials (by upload order), if any."""
    return session.scalar(
        select(Material)
        .where(Material.application_id.in_(application_ids), is_photo())
        .order_by(Material.id.desc())
        .limit(1)
    )


def _copy_photo(
    session: Session,
    principal: Principal,
    sources: tuple[int, ...],
    review: Application,
    now: datetime,
) -> None:
    """The newest 证件照 of ``sources`` (the enrolment; on 重新提交制证 the review too), as a
    material of the review's current round (the bytes stay where they are: the store is
    addressed by content). Issuing takes the review's newest photo, so this is the card's."""
    source = _newest_photo(session, sources)
    if source is None:
        return
    copy = Material(
        application_id=review.id,
        round=review.round,
        title=PHOTO_TITLE,
        filename=source.filename,
        media_type=source.media_type,
        size=source.size,
        sha256=source.sha256,
        uploaded_at=now,
        uploaded_by=principal.name[:64],
    )
    session.add(copy)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.MATERIAL_UPLOAD,
        entity_type=AuditEntity.MATERIAL,
        entity_id=copy.id,
        org_id=review.org_id,
        after={**material_snapshot(copy), "copied_from": source.id},
    )


def open_reviews(session: Session, principal: Principal, exam: Exam, now: datetime) -> int:
    """Open one 制证审批 per passed candidate of ``exam`` whose scores are locked and who has
    none yet (nor an active certificate); returns how many were opened. Audited (each
    application's submission, and one ``exam.certificate_reviews`` record when any opened).

    The caller (【通知成绩】) has found the exam in its scope and checked its permission, and
    commits: the reviews open in its transaction, together with the locked scores."""
    due = session.execute(_due(exam.id)).all()
    opened: list[int] = []
    for seat, enrolment in due:
        review = intake.open_by_system(
            session,
            principal.actor,
            review_body(session, exam, seat, enrolment),
            now=now,
            source_application_id=enrolment.id,
        )
        _copy_photo(session, principal, (enrolment.id,), review, now)
        opened.append(review.id)
    if opened:
        audit.record(
            session,
            now=now,
            actor=principal.actor,
            action=AuditAction.EXAM_CERTIFICATE_REVIEWS,
            entity_type=AuditEntity.EXAM,
            entity_id=exam.id,
            org_id=exam.org_id,
            after={"exam": exam.name, "opened": len(opened), "application_ids": opened},
        )
    session.flush()
    return len(opened)


def live_review(session: Session, enrolment_id: int) -> Application | None:
    """The enrolment's 制证审批 that still stands: in review, or approved with the card it issued
    still active. A returned (不同意) or withdrawn one does not, nor one whose card was revoked or
    cancelled; 更正成绩 looks here before it takes a pass away, so that no pending review or
    valid card outlives the result it rests on."""
    card_active = exists().where(
        Certificate.application_id == enrolment_id,
        Certificate.status == CertificateStatus.active.value,
    )
    return session.scalar(
        select(Application)
        .where(
            Application.source_application_id == enrolment_id,
            Application.business_type == REVIEW.value,
            or_(
                Application.status == ApplicationStatus.in_review.value,
                (Application.status == ApplicationStatus.approved.value) & card_active,
            ),
        )
        .limit(1)
    )


REOPEN_ROLE = "重新提交制证"
"""The role the log names for the clerk who opens a refused 制证审批 again."""


def _passed_seat(session: Session, enrolment_id: int) -> tuple[Exam, ExamCandidate]:
    """The seat the enrolment passed on (locked, 合格) and its exam: the newest such one."""
    row = session.execute(
        select(Exam, ExamCandidate)
        .join(Exam, Exam.id == ExamCandidate.exam_id)
        .where(
            ExamCandidate.application_id == enrolment_id,
            ExamCandidate.scores_locked.is_(True),
            ExamCandidate.result == ExamResult.passed.value,
        )
        .order_by(ExamCandidate.id.desc())
        .limit(1)
    ).first()
    assert row is not None, "a 不予制证 enrolment passed an exam"
    return row[0], row[1]


def _refused_review(session: Session, enrolment_id: int) -> Application:
    review = session.scalar(
        select(Application).where(
            Application.source_application_id == enrolment_id,
            Application.business_type == REVIEW.value,
        )
    )
    assert review is not None, "a 不予制证 enrolment has its review"
    return review


def _holds_active_card(session: Session, id_number: str) -> bool:
    return (
        session.scalar(
            select(Certificate.id)
            .where(
                Certificate.id_number == id_number.upper(),
                Certificate.status == CertificateStatus.active.value,
            )
            .limit(1)
        )
        is not None
    )


def reopen_review(
    session: Session, principal: Principal, enrolment_id: int, reason: str, *, now: datetime
) -> CertificateReviewReopened:
    """重新提交制证: the 制证审批 of a 不予制证 enrolment opens again, for a new round from its
    first step, with its form and photo taken afresh from the enrolment and ``reason`` in its
    log; audited on the enrolment with the reason. Committed; answers the review and the
    enrolment's status as the status function now reads it.

    Only from 不予制证: a review still in the inbox (a second click, a concurrent call) answers
    CERTIFICATE_REVIEW_IN_PROGRESS, any other stage ENROLMENT_NOT_CERTIFICATE_REFUSED, and a
    person who meanwhile holds an active card CERTIFICATE_HOLDER_ACTIVE."""
    principal.require("exam_enrolments:resubmit")
    enrolment = get_application(session, principal, enrolment_id)
    if enrolment.business_type != BusinessType.guard_exam_enrolment:
        raise not_found("application")
    stage = pipeline.status_of(session, enrolment, now)
    if stage == EnrolmentStatus.certificate_review:
        raise AppError(ErrorCode.CERTIFICATE_REVIEW_IN_PROGRESS)
    if stage != EnrolmentStatus.certificate_refused:
        raise AppError(
            ErrorCode.ENROLMENT_NOT_CERTIFICATE_REFUSED,
            details={"status": stage.value, "status_label": stage.label},
        )
    if _holds_active_card(session, enrolment.applicant_code):
        raise AppError(ErrorCode.CERTIFICATE_HOLDER_ACTIVE)
    exam, seat = _passed_seat(session, enrolment.id)
    review = _refused_review(session, enrolment.id)
    intake.reopen_by_system(
        session,
        principal.actor,
        review,
        review_body(session, exam, seat, enrolment),
        now=now,
        submitter=intake.Submitter(principal.user_id, principal.name[:100], REOPEN_ROLE),
        opinion=reason,
        taken=ErrorCode.CERTIFICATE_REVIEW_IN_PROGRESS,
    )
    _copy_photo(session, principal, (review.id, enrolment.id), review, now)
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.EXAM_CERTIFICATE_REVIEW_REOPEN,
        entity_type=AuditEntity.APPLICATION,
        entity_id=enrolment.id,
        org_id=enrolment.org_id,
        before={"status": EnrolmentStatus.certificate_refused.value},
        after={
            "status": EnrolmentStatus.certificate_review.value,
            "review_id": review.id,
            "review_number": review.number,
            "round": review.round,
            "reason": reason,
        },
    )
    session.commit()
    stage = pipeline.status_of(session, enrolment, now)
    return CertificateReviewReopened(
        enrolment_id=enrolment.id,
        review_id=review.id,
        review_number=review.number,
        round=review.round,
        status=stage,
        status_label=stage.label,
    )
