"""重新提交制证 on both engines: a 不予制证 enrolment's 制证审批 opens again, once, for a new round
with a reason, the fresh photo and the inbox; the approval then issues the card. Refusals have
their own codes, and of concurrent calls exactly one opens the round."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, ApprovalLogEntry, Material
from server.db.certificate_models import Certificate
from server.db.models import AuditEntry, User
from server.db.session import create_db_engine, create_session_factory
from server.services import audit
from server.services.audit import verify_chain
from server.services.authz import principal_for
from server.services.certificates import Holder, issue_certificate
from server.services.errors import AppError
from server.services.exams import certification
from server.services.exams.certification import open_reviews
from shared.certificates import Gender
from tests.server.approval_world import World, build
from tests.server.conftest import ADMIN, Api
from tests.server.test_certificate_review import (
    enrol,
    jpeg,
    reviews,
    scored_exam,
    stage,
    upload_photo,
)

PASSING = {"theory": 85, "practice": 90}
REOPEN = "/exam-enrolments/{}/certificate-review"


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    world = build(initialised, client, settings, clock.now())
    clerk = world.role(
        "制证经办",
        world.orgs["hz"],
        ["exam_enrolments:view", "exam_enrolments:resubmit", "applications:view"],
        "own_subtree",
    )
    world.user("hz_desk", world.orgs["hz"], clerk)
    viewer = world.role("报名查看", world.orgs["hz"], ["exam_enrolments:view"], "own_subtree")
    world.user("hz_viewer", world.orgs["hz"], viewer)
    return world


def refused(world: World, admin: Api, session: Session, clock: FrozenClock, *apps: int) -> None:
    """These enrolments pass an exam, enter 制证审批 and are refused (不同意) by their city."""
    exam = scored_exam(admin, session, clock, dict.fromkeys(apps, PASSING))
    root = session.scalar(select(User).where(User.username == ADMIN))
    assert root is not None
    assert open_reviews(session, principal_for(session, root), exam, clock.now()) == len(apps)
    session.commit()
    for app_id in apps:
        reject(world, reviews(session)[app_id].id)


def reject(world: World, review_id: int) -> None:
    api = city_of(world, review_id)
    version = api.get(f"/applications/{review_id}").json()["version"]
    api.post(
        f"/applications/{review_id}/reject",
        json={"version": version, "reason": "照片模糊", "corrections": ["更换证件照"]},
    )


def city_of(world: World, review_id: int) -> Api:
    hz = {r["id"] for r in world.apis["hz_clerk"].get("/inbox").json()["items"]}
    return world.apis["hz_clerk" if review_id in hz else "nb_clerk"]


def log_of(session: Session, review_id: int) -> list[ApprovalLogEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(ApprovalLogEntry)
            .where(ApprovalLogEntry.application_id == review_id)
            .order_by(ApprovalLogEntry.id)
        )
    )


def test_a_refused_review_opens_again_once_with_the_new_photo(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    now = clock.now()
    app_id = enrol(world, 1)
    upload_photo(world, app_id, jpeg(10))
    refused(world, admin, session, clock, app_id)
    assert stage(admin, session, app_id, now) == ("certificate_refused", "certificate_refused")
    review = reviews(session)[app_id]
    assert (review.status, review.round) == ("returned", 1)
    desk = world.apis["hz_desk"]

    # the permission, a reason of at least two characters
    denied = world.apis["hz_viewer"].post(REOPEN.format(app_id), 403, json={"reason": "照片已更换"})
    assert denied.json()["code"] == "PERMISSION_DENIED"
    for reason in ("", "  ", "换"):
        desk.post(REOPEN.format(app_id), 422, json={"reason": reason})
    assert reviews(session)[app_id].status == "returned"

    # the cause fixed: a new photo on the enrolment; the review opens again for round 2
    sha = upload_photo(world, app_id, jpeg(200))
    answer = desk.post(REOPEN.format(app_id), json={"reason": "已更换合格证件照"}).json()
    assert answer == {
        "enrolment_id": app_id,
        "review_id": review.id,
        "review_number": review.number,
        "round": 2,
        "status": "certificate_review",
        "status_label": "待制证审批",
    }
    assert stage(admin, session, app_id, now) == ("certificate_review", "certificate_review")
    again = desk.post(REOPEN.format(app_id), 409, json={"reason": "已更换合格证件照"}).json()
    assert again["code"] == "CERTIFICATE_REVIEW_IN_PROGRESS"
    assert again["message"] == "该报名的制证审批正在办理中，不能重复提交"
    session.expire_all()
    assert (
        session.scalar(
            select(func.count(Application.id)).where(Application.source_application_id == app_id)
        )
        == 1
    )  # the same review, not a second one

    # the log says who, in which role, why; the audit names the enrolment and the reason
    last = log_of(session, review.id)[-1]
    assert (last.round, last.action, last.actor_role) == (2, "resubmit", "重新提交制证")
    assert last.opinion == "已更换合格证件照" and last.actor_name == world.users["hz_desk"].name
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exam.certificate_review_reopen")
    ).one()
    assert (entry.entity_type, entry.entity_id) == ("application", str(app_id))
    assert entry.after == {
        "status": "certificate_review",
        "review_id": review.id,
        "review_number": review.number,
        "round": 2,
        "reason": "已更换合格证件照",
    }
    photos = session.scalars(
        select(Material).where(Material.application_id == review.id, Material.round == 2)
    ).all()
    assert [(m.title, m.sha256) for m in photos] == [("证件照", sha)]

    # back in the city's inbox; its 同意 issues the card with the new photo
    api = world.apis["hz_clerk"]
    assert review.id in {r["id"] for r in api.get("/inbox").json()["items"]}
    version = api.get(f"/applications/{review.id}").json()["version"]
    api.post(f"/applications/{review.id}/approve", json={"version": version, "opinion": "同意"})
    session.expire_all()
    card = session.scalars(select(Certificate).where(Certificate.application_id == app_id)).one()
    assert card.photo_ref == sha
    assert stage(admin, session, app_id, now) == ("awaiting_print", "awaiting_print")
    late = desk.post(REOPEN.format(app_id), 409, json={"reason": "再次提交"}).json()
    assert late["code"] == "ENROLMENT_NOT_CERTIFICATE_REFUSED"
    assert late["details"] == {"status": "awaiting_print", "status_label": "待制证"}


def test_refused_again_it_opens_again_and_each_round_keeps_its_history(
    world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    app_id = enrol(world, 2)
    refused(world, admin, session, clock, app_id)
    review_id = reviews(session)[app_id].id
    desk = world.apis["hz_desk"]
    desk.post(REOPEN.format(app_id), json={"reason": "第一次重新提交"})
    reject(world, review_id)
    assert stage(admin, session, app_id, clock.now())[0] == "certificate_refused"
    assert desk.post(REOPEN.format(app_id), json={"reason": "第二次重新提交"}).json()["round"] == 3
    actions = [(e.round, e.action) for e in log_of(session, review_id) if e.task_id is None]
    assert actions == [(1, "submit"), (2, "resubmit"), (3, "resubmit")]
    progress = world.apis["hz_clerk"].get(f"/applications/{review_id}/progress").json()
    assert "第一次重新提交" in str(progress) and "第二次重新提交" in str(progress)


def test_what_cannot_be_reopened_says_why(
    app: FastAPI, world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    waiting, holder, ningbo = enrol(world, 3), enrol(world, 4), enrol(world, 5, region="330203")
    desk = world.apis["hz_desk"]
    body = {"reason": "重新提交制证"}
    early = desk.post(REOPEN.format(waiting), 409, json=body).json()
    assert early["code"] == "ENROLMENT_NOT_CERTIFICATE_REFUSED"
    assert early["details"]["status_label"] == "待安排考试"
    refused(world, admin, session, clock, holder, ningbo)
    # outside the clerk's scope: not found, as any record there
    assert desk.post(REOPEN.format(ningbo), 404, json=body).json()["code"] == "NOT_FOUND"
    # not an enrolment
    review_id = reviews(session)[holder].id
    assert desk.post(REOPEN.format(review_id), 404, json=body).json()["code"] == "NOT_FOUND"
    # the person has meanwhile been given an active card (e.g. through another enrolment)
    enrolment = session.get(Application, holder)
    assert enrolment is not None
    issue_certificate(
        session,
        app.state.context.certificate_keys,
        now=clock.now(),
        actor=audit.CLI_ACTOR,
        holder=Holder("考生04", Gender.male, date(1995, 5, 5), enrolment.applicant_code),
        issuing_org_id=world.orgs["hz"].id,
        application_id=None,
    )
    session.commit()
    held = desk.post(REOPEN.format(holder), 409, json=body).json()
    assert held["code"] == "CERTIFICATE_HOLDER_ACTIVE"
    assert reviews(session)[holder].status == "returned"


WORKERS = 8


def test_concurrent_reopens_open_one_round(
    world: World, admin: Api, session: Session, settings: Settings, clock: FrozenClock
) -> None:
    app_id = enrol(world, 6)
    refused(world, admin, session, clock, app_id)
    review_id = reviews(session)[app_id].id
    engine = create_db_engine(settings.database_url, pool_size=WORKERS)
    factory = create_session_factory(engine)
    clerk_id = world.users["hz_desk"].id
    barrier = threading.Barrier(WORKERS)

    def attempt(n: int) -> str:
        with factory() as own:
            user = own.get(User, clerk_id)
            assert user is not None
            principal = principal_for(own, user)
            barrier.wait(timeout=60)
            try:
                certification.reopen_review(own, principal, app_id, f"并发{n}", now=clock.now())
            except AppError as err:
                return str(err.code)
            return "ok"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes: list[Any] = list(pool.map(attempt, range(WORKERS)))
    engine.dispose()
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "CERTIFICATE_REVIEW_IN_PROGRESS"}
    review = reviews(session)[app_id]
    assert (review.status, review.round) == ("in_review", 2)
    resubmits = [e for e in log_of(session, review_id) if e.action == "resubmit"]
    assert len(resubmits) == 1
    audited = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "exam.certificate_review_reopen")
    )
    assert audited == 1
    assert verify_chain(session).ok
