"""Exam scheduling and the enrolment list, through the API, on SQLite and PostgreSQL."""

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate, PassRuleRow, TrainingProgress
from server.db.models import AuditEntry, Notification, User
from server.db.session import create_session_factory
from server.services import audit
from server.services.authz import principal_for
from server.services.certificates import Holder, issue_certificate
from server.services.certificates.issue import add_event
from server.services.errors import AppError
from server.services.exams import scheduling, status
from shared.certificates import CertificateEventKind, Gender
from shared.errors import ErrorCode
from shared.exams import EnrolmentStatus
from tests.server.approval_world import World, build
from tests.server.conftest import Api
from tests.server.exam_world import approve_steps, approved, enrol


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def rule_id(session: Session, key: str = "theory_practice_60") -> int:
    found = session.scalar(select(PassRuleRow.id).where(PassRuleRow.key == key))
    assert found is not None
    return found


def new_exam(admin: Api, session: Session, clock: FrozenClock, **kw: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(days=10)
    body = {
        "name": "2026年第一期保安员资格考试",
        "address": "杭州市西湖区文三路100号考场",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "seats": 2,
        "pass_rule_id": rule_id(session),
        **kw,
    }
    result: dict[str, Any] = admin.post("/exams", 201, json=body).json()
    return result


def test_init_db_seeds_the_shipped_pass_rules(admin: Api) -> None:
    shipped = {r["key"]: r for r in admin.get("/exam-pass-rules").json()}
    assert shipped["theory_practice_60"]["description"] == (
        "理论 100 分（60 分合格）、实操 100 分（60 分合格）"
    )
    assert shipped["total_120"]["rule"]["total_pass_mark"] == 120


def test_schedule_publish_reschedule_and_cancel(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    first, second, third = (approved(world, n) for n in (1, 2, 3))
    session.add(
        TrainingProgress(
            id_number=session.get(Application, first).applicant_code,  # type: ignore[union-attr]
            person_name="考生01",
            training_unit="浙江警安保安培训中心",  # the course records' unit wins over the form's
            hours_done=30,
            hours_required=40,
            updated_at=clock.now(),
        )
    )
    session.commit()
    exam = new_exam(admin, session, clock)
    assert exam["status"] == "draft" and exam["candidates"] == 0
    picker = admin.get(f"/exams/{exam['id']}/eligible", params={"sort": "name"}).json()
    assert [line["application_id"] for line in picker["items"]] == [first, second, third]
    assert (picker["items"][0]["hours_done"], picker["items"][0]["hours_required"]) == (30, 40)

    stale = admin.post(
        f"/exams/{exam['id']}/candidates",
        409,
        json={"version": exam["version"] + 1, "application_ids": [first]},
    )
    assert stale.json()["code"] == "STALE_VERSION"
    full = admin.post(
        f"/exams/{exam['id']}/candidates",
        409,
        json={"version": exam["version"], "application_ids": [first, second, third]},
    )
    assert full.json()["code"] == "EXAM_SEATS_FULL"
    exam = admin.post(
        f"/exams/{exam['id']}/candidates",
        json={"version": exam["version"], "application_ids": [first, second]},
    ).json()
    assert exam["candidates"] == 2
    picker = admin.get(f"/exams/{exam['id']}/eligible").json()
    assert [line["application_id"] for line in picker["items"]] == [third]

    other = new_exam(admin, session, clock, name="2026年第二期保安员资格考试")
    busy = admin.post(
        f"/exams/{other['id']}/candidates",
        422,
        json={"version": other["version"], "application_ids": [first]},
    )
    assert busy.json()["code"] == "EXAM_CANDIDATE_INELIGIBLE"
    assert busy.json()["details"] == {"application_ids": [first]}

    exam = admin.post(f"/exams/{exam['id']}/publish", json={"version": exam["version"]}).json()
    assert exam["status"] == "published"
    seats = admin.get(f"/exams/{exam['id']}/candidates").json()
    year = (clock.now() + timedelta(days=10)).year
    assert [s["admission_number"] for s in seats] == [
        f"{year}{exam['id']:06d}0001",
        f"{year}{exam['id']:06d}0002",
    ]
    assert [s["training_unit"] for s in seats] == ["浙江警安保安培训中心", "杭州平安保安培训学校"]
    frozen = admin.post(
        f"/exams/{exam['id']}/candidates/remove",
        409,
        json={"version": exam["version"], "application_ids": [first]},
    )
    assert frozen.json()["code"] == "EXAM_NOT_DRAFT"
    session.expire_all()
    sent = session.scalars(select(Notification).order_by(Notification.id)).all()
    notices = [n for n in sent if "考试" in n.subject]
    assert sorted(n.channel for n in notices) == ["app", "app", "sms", "sms"]
    assert all("文三路100号考场" in n.body and "准考证号" in n.body for n in notices)

    later = clock.now() + timedelta(days=12)
    exam = admin.patch(
        f"/exams/{exam['id']}",
        json={
            "version": exam["version"],
            "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(hours=2)).isoformat(),
        },
    ).json()
    session.expire_all()
    changed = session.scalars(
        select(Notification).where(Notification.subject == "保安员资格考试变更通知")
    ).all()
    assert len(changed) == 4

    listed = admin.get("/exam-enrolments", params={"status": "scheduled"}).json()
    assert {line["application_id"] for line in listed["items"]} == {first, second}
    assert listed["counts"]["scheduled"] == 2 and listed["counts"]["awaiting_exam"] == 1

    exam = admin.post(
        f"/exams/{exam['id']}/cancel", json={"version": exam["version"], "reason": "考场检修"}
    ).json()
    assert exam["status"] == "cancelled"
    session.expire_all()
    cancelled = session.scalars(
        select(Notification).where(Notification.subject == "保安员资格考试取消通知")
    ).all()
    assert len(cancelled) == 4 and "考场检修" in cancelled[0].body
    counts = admin.get("/exam-enrolments").json()["counts"]
    assert counts == {"awaiting_exam": 3}
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "exam").order_by(AuditEntry.seq)
    ).all()
    assert actions == [
        "exam.create",
        "exam.candidates_add",
        "exam.create",
        "exam.publish",
        "exam.update",
        "exam.cancel",
    ]


def test_the_list_status_agrees_with_the_python_status(
    app: FastAPI, world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    """Every stage, read by the SQL expression of the list and by the Python twin."""
    now = clock.now()
    expected: dict[int, EnrolmentStatus] = {}
    for steps, stage in ((0, "screening"), (1, "fingerprint"), (2, "payment")):
        app_id = enrol(world, 10 + steps)
        approve_steps(world, app_id, steps)
        expected[app_id] = EnrolmentStatus(stage)
    ids = [approved(world, n) for n in range(20, 30)]
    exam = scheduling_exam(session, now, status="draft", seats=[ids[0]])
    future = scheduling_exam(session, now, status="published", seats=[ids[1]])
    past = scheduling_exam(session, now - timedelta(days=20), status="published", seats=ids[2:5])
    passed = scheduling_exam(session, now - timedelta(days=20), status="published", seats=ids[6:])
    seats = {s.application_id: s for s in session.scalars(select(ExamCandidate))}
    for app_id, result in (
        (ids[3], "failed"),
        (ids[4], "passed"),
        *((i, "passed") for i in ids[6:]),
    ):
        seat = seats[app_id]
        seat.result, seat.scores_locked, seat.is_open = result, True, False
    session.commit()
    # the certificate stage: a card not printed; printed; reprinted; revoked (still 已发证)
    cards = {app_id: _card(app, session, clock, app_id) for app_id in ids[7:]}
    for app_id, kind in (
        (ids[8], CertificateEventKind.printed),
        (ids[9], CertificateEventKind.reprint),
    ):
        add_event(session, cards[app_id], kind, now=now, actor=audit.CLI_ACTOR, reason="打印")
    cards[ids[7]].status = "revoked"
    session.commit()
    unprinted = _card(app, session, clock, approved(world, 30))
    seat = ExamCandidate(exam_id=passed.id, application_id=unprinted.application_id, added_at=now)
    seat.result, seat.scores_locked, seat.is_open = "passed", True, False
    session.add(seat)
    session.commit()
    expected |= {
        ids[0]: EnrolmentStatus.awaiting_exam,
        ids[1]: EnrolmentStatus.scheduled,
        ids[2]: EnrolmentStatus.awaiting_scores,
        ids[3]: EnrolmentStatus.failed,
        ids[4]: EnrolmentStatus.certificate_review,
        ids[5]: EnrolmentStatus.awaiting_exam,
        ids[6]: EnrolmentStatus.certificate_review,
        ids[7]: EnrolmentStatus.issued,
        ids[8]: EnrolmentStatus.issued,
        ids[9]: EnrolmentStatus.issued,
        unprinted.application_id: EnrolmentStatus.awaiting_print,  # type: ignore[dict-item]
    }
    assert exam and future and past
    lines = admin.get("/exam-enrolments", params={"page_size": 100}).json()["items"]
    from_sql = {line["application_id"]: line["status"] for line in lines}
    session.expire_all()
    from_python = {
        app_id: status.status_of(session, session.get(Application, app_id), now)  # type: ignore[arg-type]
        for app_id in from_sql
    }
    assert from_sql == from_python == expected
    for stage in {str(s) for s in expected.values()}:
        page = admin.get("/exam-enrolments", params={"status": stage}).json()
        assert {line["application_id"] for line in page["items"]} == {
            a for a, s in expected.items() if s == stage
        }
    by_status = admin.get("/exam-enrolments", params={"sort": "status"}).json()["items"]
    assert [line["status"] for line in by_status] == sorted(line["status"] for line in by_status)
    found = admin.get("/exam-enrolments", params={"q": "考生2_"}).json()  # "_" is no wildcard
    assert found["total"] == 0


def _card(app: FastAPI, session: Session, clock: FrozenClock, app_id: int) -> Certificate:
    """A card issued for the enrolment, as 制证审批 would."""
    enrolment = session.get(Application, app_id)
    assert enrolment is not None
    card = issue_certificate(
        session,
        app.state.context.certificate_keys,
        now=clock.now(),
        actor=audit.CLI_ACTOR,
        holder=Holder(
            enrolment.applicant_name, Gender.male, date(1995, 5, 5), enrolment.applicant_code
        ),
        issuing_org_id=1,
        application_id=app_id,
    )
    session.commit()
    return card


def scheduling_exam(session: Session, start: datetime, *, status: str, seats: list[int]) -> Exam:
    """An exam written straight to the tables (the stage is what matters here)."""
    rule = session.get(PassRuleRow, rule_id(session))
    assert rule is not None
    exam = Exam(
        name="考试",
        address="考场",
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=2),
        seats=10,
        org_id=1,
        pass_rule_id=rule.id,
        pass_rule=rule.content,
        status=status,
        created_at=start,
        updated_at=start,
    )
    session.add(exam)
    session.flush()
    for app_id in seats:
        session.add(ExamCandidate(exam_id=exam.id, application_id=app_id, added_at=start))
    session.commit()
    return exam


def test_the_database_holds_an_enrolment_to_one_open_seat(
    world: World, session: Session, clock: FrozenClock
) -> None:
    app_id = approved(world, 30)
    now = clock.now()
    one = scheduling_exam(session, now, status="draft", seats=[app_id])
    two = scheduling_exam(session, now, status="draft", seats=[])
    session.add(ExamCandidate(exam_id=two.id, application_id=app_id, added_at=now))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    seat = session.scalar(select(ExamCandidate).where(ExamCandidate.exam_id == one.id))
    assert seat is not None
    seat.is_open = False
    session.add(ExamCandidate(exam_id=two.id, application_id=app_id, added_at=now))
    session.commit()  # a closed seat does not count


def test_two_clerks_adding_the_last_seat_at_once_one_wins(
    world: World, app: Any, session: Session, clock: FrozenClock, admin: Api
) -> None:
    first, second = approved(world, 40), approved(world, 41)
    exam = new_exam(admin, session, clock, seats=1)
    root = session.scalar(select(User).where(User.username == "root"))
    assert root is not None
    factory = create_session_factory(app.state.engine)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add(application_id: int) -> None:
        with factory() as own:
            principal = principal_for(own, own.get(User, root.id))  # type: ignore[arg-type]
            scheduling.get_exam(own, principal, exam["id"])
            barrier.wait()
            try:
                scheduling.add_candidates(
                    own, principal, exam["id"], version=exam["version"],
                    application_ids=[application_id], now=clock.now(),
                )  # fmt: skip
                outcomes.append("added")
            except AppError as err:
                outcomes.append(err.code)

    threads = [threading.Thread(target=add, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["added", ErrorCode.STALE_VERSION]), outcomes
    assert admin.get(f"/exams/{exam['id']}").json()["candidates"] == 1


def test_exams_outside_the_callers_scope_are_not_found(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    exam = new_exam(admin, session, clock)  # organised by the province
    county = world.apis["xh_clerk"]  # own subtree: 西湖区分局 only; no exam permission
    assert county.get(f"/exams/{exam['id']}", 403).json()["code"] == "PERMISSION_DENIED"
    bad = admin.post(
        "/exams",
        422,
        json={
            "name": "时间颠倒的考试",
            "address": "考场",
            "starts_at": datetime(2026, 12, 2, tzinfo=UTC).isoformat(),
            "ends_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
            "seats": 1,
            "pass_rule_id": rule_id(session),
        },
    )
    assert bad.json()["code"] == "EXAM_TIME_INVALID"
