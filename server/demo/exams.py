"""Demo exams: course progress (课程学习进度) for every demo enrolment, and one published exam
with some of the approved enrolments, made through the scheduling service as a clerk would."""

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application
from server.db.exam_models import TrainingProgress
from server.db.models import User
from server.services.authz import principal_for
from server.services.exams import rules, scheduling
from server.services.exams.enrolments import eligible_clause
from shared.enums import BusinessType
from shared.schemas.exams import ExamCreate

UNITS = ("浙江警安保安培训学校", "杭州平安保安培训中心", "宁波甬安保安培训学校")
HOURS_REQUIRED = 40


def generate_exams(session: Session, *, now: datetime, seed: int, clerk: User) -> int:
    """Progress for each enrolment, then one exam published with up to ten candidates. Returns
    the number of candidates placed."""
    rng = random.Random(seed + 16)
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
    ready = session.scalars(
        select(Application.id).where(eligible_clause()).order_by(Application.id).limit(10)
    ).all()
    stored = rules.list_rules(session)
    if not ready or not stored:
        return 0
    principal = principal_for(session, clerk)
    start = (now + timedelta(days=14)).replace(hour=1, minute=0, second=0, microsecond=0)
    exam = scheduling.create_exam(
        session,
        principal,
        ExamCreate(
            name=f"{start.year}年第一期保安员资格考试",
            address="杭州市西湖区文三路199号保安员考试中心",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=max(20, len(ready)),
            pass_rule_id=stored[0].id,
        ),
        now=now,
    )
    exam = scheduling.add_candidates(
        session, principal, exam.id, version=exam.version, application_ids=list(ready), now=now
    )
    scheduling.publish(session, principal, exam.id, version=exam.version, now=now)
    return len(ready)
