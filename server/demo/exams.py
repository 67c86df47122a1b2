"""Demo exams: course progress (课程学习进度) for every demo enrolment; a past exam whose scores
were notified, whose passed candidates went through 制证审批 (some approved into the 制证名单,
awaiting print, some still in the city clerks' inbox); and one published upcoming exam. All
made through the services as a clerk would, but the scores: until the score part's service
is merged they are written to the seats as 通知成绩 leaves them (graded by the exam's rule).
"""

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApprovalTask
from server.db.exam_models import Exam, PassRuleRow, TrainingProgress
from server.db.models import User
from server.services.approvals import actions, routing
from server.services.approvals.tasks import pending_task
from server.services.authz import Principal, principal_for
from server.services.certificates.from_review import CertificateIssuing, photo_ref
from server.services.documents.signing import DocumentSigner
from server.services.exams import rules, scheduling, scores
from server.services.exams.enrolments import eligible_clause
from shared.enums import BusinessType
from shared.schemas.exams import ExamCreate, ScoresEntry

UNITS = ("浙江警安保安培训学校", "杭州平安保安培训中心", "宁波甬安保安培训学校")
HOURS_REQUIRED = 40
ADDRESS = "杭州市西湖区文三路199号保安员考试中心"
APPROVED_SHARE = 0.6
"""Of the past exam's 制证审批, this share is approved (待制证); the rest wait in the inbox."""


def generate_exams(
    session: Session,
    *,
    now: datetime,
    seed: int,
    clerk: User,
    signer: DocumentSigner | None = None,
    certificates: CertificateIssuing | None = None,
) -> int:
    """Progress for each enrolment, the past exam with its reviews (approved only when
    ``certificates`` and ``signer`` are given), then one exam published with up to ten
    candidates. Returns the number of candidates placed in both."""
    rng = random.Random(seed + 16)
    _progress(session, rng, now)
    stored = rules.list_rules(session)
    if not stored:
        return 0
    principal = principal_for(session, clerk)
    placed = _past_exam(session, principal, rng, now, stored[0], signer, certificates)
    ready = session.scalars(
        select(Application.id).where(eligible_clause()).order_by(Application.id).limit(10)
    ).all()
    if not ready:
        return placed
    start = (now + timedelta(days=14)).replace(hour=1, minute=0, second=0, microsecond=0)
    exam = _scheduled(session, principal, start, len(ready), ready, stored[0], now, "第二期")
    scheduling.publish(session, principal, exam.id, version=exam.version, now=now)
    return placed + len(ready)


def _progress(session: Session, rng: random.Random, now: datetime) -> None:
    enrolments = session.scalars(
        select(Application)
        .where(Application.business_type == BusinessType.guard_exam_enrolment.value)
        .order_by(Application.id)
    ).all()
    seen: set[str] = set()
    for application in enrolments:
        if application.applicant_code in seen:  # one record per person
            continue
        seen.add(application.applicant_code)
        unit = (application.form or {}).get("training_unit") or rng.choice(UNITS)
        session.add(
            TrainingProgress(
                id_number=application.applicant_code,
                person_name=application.applicant_name,
                training_unit=unit,
                hours_done=rng.choice([HOURS_REQUIRED, HOURS_REQUIRED, rng.randrange(12, 40)]),
                hours_required=HOURS_REQUIRED,
                updated_at=now,
            )
        )
    session.commit()


def _scheduled(
    session: Session,
    principal: Principal,
    start: datetime,
    seats: int,
    candidates: Sequence[int],
    rule: PassRuleRow,
    now: datetime,
    term: str,
) -> Exam:
    exam = scheduling.create_exam(
        session,
        principal,
        ExamCreate(
            name=f"{start.year}年{term}保安员资格考试",
            address=ADDRESS,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=max(20, seats),
            pass_rule_id=rule.id,
        ),
        now=now,
    )
    return scheduling.add_candidates(
        session,
        principal,
        exam.id,
        version=exam.version,
        application_ids=list(candidates),
        now=now,
    )


def _past_exam(
    session: Session,
    principal: Principal,
    rng: random.Random,
    now: datetime,
    rule: PassRuleRow,
    signer: DocumentSigner | None,
    certificates: CertificateIssuing | None,
) -> int:
    """The enrolments approved more than six weeks ago sat an exam four weeks ago; its scores
    were notified three weeks ago, which opened their 制证审批."""
    planned = now - timedelta(days=38)
    cohort = session.scalars(
        select(Application.id)
        .where(eligible_clause(), Application.decided_at < planned)
        .order_by(Application.decided_at, Application.id)
        .limit(40)
    ).all()
    if len(cohort) < 3:
        return 0
    start = (now - timedelta(days=28)).replace(hour=1, minute=0, second=0, microsecond=0)
    exam = _scheduled(session, principal, start, len(cohort), cohort, rule, planned, "第一期")
    exam = scheduling.publish(
        session, principal, exam.id, version=exam.version, now=planned + timedelta(hours=2)
    )
    notified = now - timedelta(days=21)
    _enter_scores(session, principal, rng, exam, notified - timedelta(days=1))
    exam = scores.notify(session, principal, exam.id, version=exam.version, now=notified)
    if certificates is not None and signer is not None:
        _approve_some(session, exam, now, signer, certificates)
    return len(cohort)


def _enter_scores(
    session: Session, principal: Principal, rng: random.Random, exam: Exam, entered: datetime
) -> None:
    """录入成绩 through the score service, one candidate at a time as in the desk's grid."""
    rule = scheduling.exam_rule(exam)
    for seat, _ in scheduling.candidates_of(session, exam):
        absent = rng.random() < 0.08
        marks = {} if absent else {s.key: rng.randrange(55, 100) for s in rule.subjects}
        entry = ScoresEntry(absent=absent, scores=marks)
        scores.set_scores(session, principal, exam.id, seat.id, entry, now=entered)


def _approve_some(
    session: Session,
    exam: Exam,
    now: datetime,
    signer: DocumentSigner,
    certificates: CertificateIssuing,
) -> None:
    seats = [seat.application_id for seat, _ in scheduling.candidates_of(session, exam)]
    reviews = session.scalars(
        select(Application)
        .where(
            Application.business_type == BusinessType.guard_certificate.value,
            Application.source_application_id.in_(seats),
        )
        .order_by(Application.id)
    ).all()
    # a card without a photo among the approved ones, if any (the list's 是否有照片 shows it)
    ordered = sorted(reviews, key=lambda r: (photo_ref(session, (r.id,)) is not None, r.id))
    approve = ordered[: round(len(ordered) * APPROVED_SHARE)]
    for n, review in enumerate(approve):
        task = pending_task(session, review.id)
        assert task is not None
        actions.approve(
            session,
            _approver(session, task),
            review.id,
            version=review.version,
            opinion="经审核，考试合格，同意制证。",
            now=now - timedelta(days=14 - n % 12, hours=n % 7),
            signer=signer,
            certificates=certificates,
        )


def _approver(session: Session, task: ApprovalTask) -> Principal:
    users = routing.candidates(session, task)
    if not users:
        raise RuntimeError(f"演示数据：制证审批在机构 {task.acting_org_id} 无审批人")
    return principal_for(session, users[0])
