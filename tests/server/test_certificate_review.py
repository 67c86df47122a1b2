"""制证审批 on both engines: passed candidates enter the 通用审批 inbox when the scores are
notified, approval issues the 保安员证 record with the enrolment's photo, the enrolment moves
待制证审批 → 待制证 → 已发证, rejection issues nothing, and nobody files a 制证审批 (D14)."""

import hashlib
import io
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, Material
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate, PassRuleRow
from server.db.models import AuditEntry, User
from server.services import audit
from server.services.authz import principal_for
from server.services.certificates import Holder, issue_certificate
from server.services.certificates.issue import add_event
from server.services.exams import status
from server.services.exams.certification import open_reviews
from shared.certificates import CertificateEventKind, Gender
from shared.enums import BusinessType
from tests.server.approval_world import World, application_body, build
from tests.server.conftest import ADMIN, Api
from tests.server.world import _valid_id

ACTORS = {"330106": {"county": "xh_clerk", "city": "hz_clerk"}}
ACTORS["330203"] = {"county": "hs_clerk", "city": "nb_clerk"}


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def jpeg(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 74), (shade, 200, 240)).save(out, "JPEG")
    return out.getvalue()


def enrol(world: World, n: int, region: str = "330106") -> int:
    """An enrolment of 考生<n> worked through its three levels to 审批通过."""
    body = application_body(BusinessType.guard_exam_enrolment, region=region, name=f"考生{n:02d}")
    id_number = _valid_id(region, "19950505", f"{n:03d}")
    body["applicant_code"] = id_number
    body["persons"][0].update(id_number=id_number, name=f"考生{n:02d}", mobile="13900000000")
    app_id = int(world.apis["intake"].post("/applications", 201, json=body).json()["id"])
    for _ in range(3):
        level = world.apis["intake"].get(f"/applications/{app_id}").json()["current_task"]["level"]
        api = world.apis[ACTORS[region][level]]
        app = api.get(f"/applications/{app_id}").json()
        action = app["gate"]["action"]
        if not app["gate"]["approve_allowed"]:
            if action == "fingerprint":
                card = f"ZW{region}{app_id:010d}"
                api.post(
                    f"/applications/{app_id}/fingerprint",
                    json={"version": app["version"], "card_number": card},
                )
            elif action == "payment":
                api.post("/applications/payments", json={"application_ids": [app_id]})
            else:
                api.post(f"/applications/{app_id}/screening")
        version = api.get(f"/applications/{app_id}").json()["version"]
        api.post(f"/applications/{app_id}/approve", json={"version": version, "opinion": "同意"})
    return app_id


def upload_photo(world: World, app_id: int, content: bytes) -> str:
    world.apis["intake"].post(
        f"/applications/{app_id}/materials",
        201,
        data={"title": "证件照"},
        files={"file": ("证件照.jpg", content, "image/jpeg")},
    )
    return hashlib.sha256(content).hexdigest()


def scored_exam(admin: Api, session: Session, clock: FrozenClock, results: dict[int, Any]) -> Exam:
    """An exam published with these candidates, then its scores locked as 通知成绩 leaves them
    (the score part writes these columns; ``results``: enrolment → scores, or None if absent)."""
    rule = session.scalar(select(PassRuleRow).where(PassRuleRow.key == "theory_practice_60"))
    assert rule is not None
    start = clock.now() + timedelta(days=3)
    exam = admin.post(
        "/exams",
        201,
        json={
            "name": "2026年第九期保安员资格考试",
            "address": "杭州市西湖区文三路100号考场",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "seats": 10,
            "pass_rule_id": rule.id,
        },
    ).json()
    exam = admin.post(
        f"/exams/{exam['id']}/candidates",
        json={"version": exam["version"], "application_ids": list(results)},
    ).json()
    admin.post(f"/exams/{exam['id']}/publish", json={"version": exam["version"]})
    session.expire_all()
    for seat in session.scalars(select(ExamCandidate).where(ExamCandidate.exam_id == exam["id"])):
        scores = results[seat.application_id]
        seat.absent = scores is None
        seat.scores = scores
        passed = scores is not None and min(scores.values()) >= 60
        seat.result = "passed" if passed else ("absent" if scores is None else "failed")
        seat.scores_locked, seat.is_open = True, False
        seat.scores_notified_at = clock.now()
    session.commit()
    found = session.get(Exam, exam["id"])
    assert found is not None
    return found


def stage(admin: Api, session: Session, app_id: int, now: Any) -> tuple[str, str]:
    """The enrolment's status by the list (SQL) and by the Python twin."""
    lines = admin.get("/exam-enrolments", params={"page_size": 100}).json()["items"]
    from_sql = {line["application_id"]: line["status"] for line in lines}[app_id]
    session.expire_all()
    application = session.get(Application, app_id)
    assert application is not None
    return from_sql, str(status.status_of(session, application, now))


def reviews(session: Session) -> dict[int, Application]:
    session.expire_all()
    rows = session.scalars(
        select(Application).where(Application.business_type == BusinessType.guard_certificate)
    )
    return {row.source_application_id: row for row in rows}  # type: ignore[misc]


def test_passed_candidates_are_reviewed_and_approval_issues_the_card(
    app: FastAPI, world: World, admin: Api, session: Session, clock: FrozenClock
) -> None:
    now = clock.now()
    photo, plain, failed, absent, holder, ningbo = (
        enrol(world, 1),
        enrol(world, 2),
        enrol(world, 3),
        enrol(world, 4),
        enrol(world, 5),
        enrol(world, 6, region="330203"),
    )
    upload_photo(world, photo, jpeg(10))
    sha = upload_photo(world, photo, jpeg(20))  # the newer photo counts
    held = session.get(Application, holder)
    assert held is not None
    issue_certificate(  # this person already holds an active card
        session,
        app.state.context.certificate_keys,
        now=now,
        actor=audit.CLI_ACTOR,
        holder=Holder("考生05", Gender.male, date(1995, 5, 5), held.applicant_code),
        issuing_org_id=world.orgs["hz"].id,
        application_id=None,
    )
    session.commit()
    passing = {"theory": 85, "practice": 90}
    exam = scored_exam(
        admin,
        session,
        clock,
        {
            photo: passing,
            plain: {"theory": 60, "practice": 75},
            failed: {"theory": 59, "practice": 90},
            absent: None,
            holder: passing,
            ningbo: passing,
        },
    )
    assert stage(admin, session, photo, now) == ("certificate_review", "certificate_review")

    root = session.scalar(select(User).where(User.username == ADMIN))
    assert root is not None
    principal = principal_for(session, root)
    assert open_reviews(session, principal, exam, now) == 3
    session.commit()
    assert open_reviews(session, principal, exam, now) == 0  # idempotent
    session.commit()
    opened = reviews(session)
    assert set(opened) == {photo, plain, ningbo}
    review = opened[photo]
    assert review.status == "in_review" and review.source == "system"
    assert review.form["holder_name"] == "考生01" and review.form["gender"] == "男"
    assert review.form["birth_date"] == "1995-05-05"
    assert review.form["score_summary"] == "理论 85 分、实操 90 分，总分 175 分"
    assert review.form["enrolment_application_id"] == photo
    copied = session.scalars(select(Material).where(Material.application_id == review.id)).all()
    assert [(m.title, m.sha256) for m in copied] == [("证件照", sha)]
    summary = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "exam.certificate_reviews")
    ).all()
    assert len(summary) == 1 and summary[0].after["opened"] == 3  # type: ignore[index]
    log = world.apis["hz_clerk"].get(f"/applications/{review.id}/progress").json()
    assert "系统发起" in str(log)

    # in the city's inbox, not in the other city's
    hz = {r["id"] for r in world.apis["hz_clerk"].get("/inbox").json()["items"]}
    nb = {r["id"] for r in world.apis["nb_clerk"].get("/inbox").json()["items"]}
    assert {opened[photo].id, opened[plain].id} <= hz and opened[ningbo].id not in hz
    assert opened[ningbo].id in nb and opened[photo].id not in nb
    assert stage(admin, session, photo, now) == ("certificate_review", "certificate_review")

    # 同意: the card, with the photo, numbered; the enrolment is 待制证
    api = world.apis["hz_clerk"]
    version = api.get(f"/applications/{review.id}").json()["version"]
    done = api.post(
        f"/applications/{review.id}/approve", json={"version": version, "opinion": "同意制证"}
    ).json()
    assert done["status"] == "approved"
    session.expire_all()
    card = session.scalars(select(Certificate).where(Certificate.application_id == photo)).one()
    assert card.photo_ref == sha and card.holder_name == "考生01"
    assert card.number == "浙202600000002" and card.issuing_authority == "杭州市公安局"
    assert card.birth_date == date(1995, 5, 5) and card.gender == "male"
    assert stage(admin, session, photo, now) == ("awaiting_print", "awaiting_print")
    listed = admin.get("/certificates", params={"has_photo": True}).json()["items"]
    assert [c["number"] for c in listed] == ["浙202600000002"]

    # printed: 已发证
    add_event(
        session, card, CertificateEventKind.printed, now=now, actor=audit.CLI_ACTOR, reason="打印"
    )
    session.commit()
    assert stage(admin, session, photo, now) == ("issued", "issued")

    # no photo on the enrolment: the card is issued without one
    review = opened[plain]
    version = api.get(f"/applications/{review.id}").json()["version"]
    api.post(f"/applications/{review.id}/approve", json={"version": version, "opinion": "同意"})
    session.expire_all()
    card = session.scalars(select(Certificate).where(Certificate.application_id == plain)).one()
    assert card.photo_ref is None
    assert admin.get("/certificates", params={"has_photo": False}).json()["total"] == 2

    # 不同意: nothing issued, the decision stands (no resubmission, no second review)
    nb_api = world.apis["nb_clerk"]
    review = opened[ningbo]
    version = nb_api.get(f"/applications/{review.id}").json()["version"]
    nb_api.post(
        f"/applications/{review.id}/reject",
        json={"version": version, "reason": "照片不符合要求", "corrections": ["补交证件照"]},
    )
    session.expire_all()
    assert (
        session.scalar(
            select(func.count(Certificate.id)).where(Certificate.application_id == ningbo)
        )
        == 0
    )
    assert stage(admin, session, ningbo, now) == ("certificate_refused", "certificate_refused")
    body = {"version": review.version, "form": review.form, "persons": []}
    body["persons"] = [{"role": "applicant", "name": "考生06", "id_number": review.applicant_code}]
    refused = world.apis["intake"].post(f"/applications/{review.id}/resubmit", 422, json=body)
    assert refused.json()["code"] == "BUSINESS_TYPE_NOT_FILEABLE"
    assert open_reviews(session, principal, exam, now) == 0
    for app_id, expected in ((failed, "failed"), (absent, "failed")):
        assert stage(admin, session, app_id, now) == (expected, expected)


def test_nobody_files_a_certificate_review(world: World) -> None:
    body = application_body(BusinessType.guard_exam_enrolment)
    body["business_type"] = "guard_certificate"
    body["form"] = {
        "holder_name": "王小明",
        "gender": "男",
        "birth_date": "1995-05-05",
        "id_number": body["applicant_code"],
        "exam_id": 1,
        "exam_name": "考试",
        "result": "合格",
        "score_summary": "理论 90 分",
        "enrolment_application_id": 1,
        "enrolment_number": "SQ2026000001",
    }
    refused = world.apis["intake"].post("/applications", 422, json=body).json()
    assert refused["code"] == "BUSINESS_TYPE_NOT_FILEABLE"
    assert "系统" in refused["message"]
