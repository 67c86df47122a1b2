"""The sync record types (docs/sync.md, Record catalogue) on SQLite and PostgreSQL: each inbound
handler applied as the applier does (a savepoint, then commit), its effects and every refusal;
each outbound record in the outbox exactly when its business change commits; and the allowlist
walked over every outbound type and every demo application."""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import (
    Application,
    ApplicationPerson,
    ApprovalLogEntry,
    ApprovalTask,
    ScreeningResult,
)
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate
from server.db.models import User
from server.db.sync_models import SyncOutboxRecord
from server.demo import data as demo_data
from server.services.approvals import gates, intake
from server.services.approvals.tasks import pending_task, process_of
from server.services.authz import principal_for
from server.services.certificates import lifecycle
from server.services.certificates.from_review import CertificateIssuing
from server.services.documents.signing import DocumentSigner
from server.services.exams import scheduling
from server.services.materials.records import list_materials
from server.services.materials.store import MaterialStore
from server.services.passwords import Passwords
from server.services.sync import records_out
from server.services.sync.incoming import Incoming, RecordRejectedError
from server.services.sync.records_in import HANDLERS
from shared.certificates import CancelReason
from shared.enums import BusinessType
from shared.schemas.applications import ApplicationCreate
from shared.sync.bundle import Record
from tests.server.approval_world import World, application_body, build
from tests.server.conftest import Api
from tests.server.exam_world import approve_steps
from tests.server.test_exams import new_exam
from tests.server.world import _valid_id


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def incoming(
    world: World, type_: str, data: Mapping[str, Any], files: Mapping[str, bytes] | None = None
) -> Incoming:
    files = dict(files or {})
    record = Record(
        seq=1,
        id=uuid.uuid4(),
        type=type_,
        at=world.now,
        data=data,
        files=tuple(sorted(files)),
    )
    return Incoming(
        session=world.session,
        record=record,
        files=files,
        now=world.now,
        data_dir=world.settings.data_dir,
    )


def apply(
    world: World, type_: str, data: Mapping[str, Any], files: Mapping[str, bytes] | None = None
) -> None:
    """As the applier does: the handler inside a savepoint, then the commit."""
    session = world.session
    with session.begin_nested():
        HANDLERS[type_](incoming(world, type_, data, files))
    session.commit()


def refused(
    world: World, type_: str, data: Mapping[str, Any], files: Mapping[str, bytes] | None = None
) -> RecordRejectedError:
    """The handler's refusal; its savepoint rolled back, nothing of it left behind."""
    session = world.session
    before = outbox(session)
    applications = session.scalar(select(func.count(Application.id)))
    with pytest.raises(RecordRejectedError) as caught, session.begin_nested():
        HANDLERS[type_](incoming(world, type_, data, files))
    session.commit()
    assert outbox(session) == before
    assert session.scalar(select(func.count(Application.id))) == applications
    message = caught.value.message
    assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    return caught.value


def outbox(session: Session, type_: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    session.expire_all()
    stmt = select(SyncOutboxRecord).order_by(SyncOutboxRecord.id)
    if type_ is not None:
        stmt = stmt.where(SyncOutboxRecord.type == type_)
    return [(r.type, r.data) for r in session.scalars(stmt)]


def submitted(
    business_type: BusinessType = BusinessType.company_licence,
    *,
    ref: str = "WW2026000001",
    materials: list[dict[str, str]] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    body = application_body(business_type)
    return {**body, "external_ref": ref, "materials": materials or [], **changes}


def by_ref(session: Session, ref: str) -> Application:
    session.expire_all()
    application = session.scalars(select(Application).where(Application.external_ref == ref)).one()
    return application


# --- application.submitted ------------------------------------------------------------------


def test_submitted_goes_through_intake_to_the_county_clerks_inbox_with_its_materials(
    world: World,
) -> None:
    scan, licence = pdf("申请书"), pdf("营业执照")
    materials = [
        {"title": "申请书", "filename": "申请书.pdf", "sha256": sha(scan)},
        {"title": "营业执照", "filename": "营业执照.pdf", "sha256": sha(licence)},
    ]
    files = {sha(scan): scan, sha(licence): licence}
    apply(world, "application.submitted", submitted(materials=materials), files)

    application = by_ref(world.session, "WW2026000001")
    assert application.source == "extranet"
    assert application.status == "in_review" and application.round == 1
    task = pending_task(world.session, application.id)
    assert task is not None and task.acting_org_id == world.orgs["xh"].id
    inbox = world.apis["xh_clerk"].get("/inbox").json()
    assert application.id in [row["id"] for row in inbox["items"]]
    stored = list_materials(world.session, application)
    assert [(m.title, m.round, m.uploaded_by) for m in stored] == [
        ("申请书", 1, "外网门户"),
        ("营业执照", 1, "外网门户"),
    ]
    store = MaterialStore(world.settings.data_dir / "materials")
    with store.open(stored[0].sha256) as blob:
        assert blob.read() == scan
    # the API shows it like any other, with its material
    detail = world.apis["xh_clerk"].get(f"/applications/{application.id}").json()
    assert detail["number"] == application.number
    # and the portal hears it was accepted, then where it waits
    assert outbox(world.session) == [
        ("application.accepted", {"external_ref": "WW2026000001", "number": application.number}),
        (
            "application.progress",
            {"external_ref": "WW2026000001", "status": "in_review", "step_label": task.step_name},
        ),
    ]


def test_submitted_refusals_leave_nothing_behind(world: World) -> None:
    apply(world, "application.submitted", submitted())
    taken = refused(world, "application.submitted", submitted())
    assert taken.code == "SYNC_EXTERNAL_REF_TAKEN"

    missing = submitted(ref="WW2")
    del missing["region_code"]
    error = refused(world, "application.submitted", missing)
    assert error.code == "SYNC_RECORD_INVALID" and "region_code" in error.message
    assert refused(world, "application.submitted", {**submitted(ref="WW3"), "x": 1}).code == (
        "SYNC_RECORD_INVALID"
    )
    no_ref = submitted(ref="WW4")
    del no_ref["external_ref"]
    assert refused(world, "application.submitted", no_ref).code == "SYNC_RECORD_INVALID"
    no_materials = submitted(ref="WW5")
    del no_materials["materials"]
    assert refused(world, "application.submitted", no_materials).code == "SYNC_RECORD_INVALID"
    person_extra = submitted(ref="WW6")
    person_extra["persons"] = [{**p, "age": 30} for p in person_extra["persons"]]
    assert refused(world, "application.submitted", person_extra).code == "SYNC_RECORD_INVALID"
    assert refused(world, "application.submitted", submitted(ref="WW7", form=[])).code == (
        "SYNC_RECORD_INVALID"
    )

    bad_form = submitted(ref="WW8", form={"unit_name": "某公司"})
    assert refused(world, "application.submitted", bad_form).code == "VALIDATION_ERROR"
    not_county = submitted(ref="WW9", region_code="330100")
    error = refused(world, "application.submitted", not_county)
    assert error.code == "VALIDATION_ERROR" and "县（区）" in error.message
    elsewhere = submitted(ref="WW10", region_code="110101")  # 北京东城: no bureau here
    assert refused(world, "application.submitted", elsewhere).code == "ROUTING_NO_ORG"
    system_opened = {**submitted(ref="WW11"), "business_type": "guard_certificate"}
    assert refused(world, "application.submitted", system_opened).code == (
        "BUSINESS_TYPE_NOT_FILEABLE"
    )

    content = pdf("材料")
    listed = [{"title": "申请书", "filename": "申请书.pdf", "sha256": sha(content)}]
    error = refused(world, "application.submitted", submitted(ref="WW12", materials=listed))
    assert error.code == "SYNC_FILE_MISSING"
    text = b"just text, not a scan"
    wrong = [{"title": "申请书", "filename": "申请书.pdf", "sha256": sha(text)}]
    error = refused(
        world, "application.submitted", submitted(ref="WW13", materials=wrong), {sha(text): text}
    )
    assert error.code == "MATERIAL_TYPE_REFUSED"
    assert world.session.scalar(select(func.count(Application.id))) == 1


# --- application.resubmitted and application.decided --------------------------------------


def test_a_rejection_goes_out_with_its_reason_and_a_resubmission_opens_the_next_round(
    world: World,
) -> None:
    apply(world, "application.submitted", submitted())
    application = by_ref(world.session, "WW2026000001")
    api = world.apis["xh_clerk"]
    api.post(f"/applications/{application.id}/screening")
    version = api.get(f"/applications/{application.id}").json()["version"]
    api.post(
        f"/applications/{application.id}/reject",
        json={
            "version": version,
            "reason": "营业执照已过期",
            "corrections": ["提供有效的营业执照", "补充法定代表人身份证"],
            "opinion": "内部：法定代表人与在查案件当事人同名",
        },
    )
    # the internal opinion is logged on an internal line of its own; the record, the applicant's
    # view and the progress the applicant reads carry the external line only
    lines = world.session.scalars(
        select(ApprovalLogEntry)
        .where(ApprovalLogEntry.application_id == application.id)
        .where(ApprovalLogEntry.action == "reject")
        .order_by(ApprovalLogEntry.id)
    ).all()
    assert [(e.visibility, e.opinion, e.corrections) for e in lines] == [
        ("internal", "内部：法定代表人与在查案件当事人同名", None),
        ("external", "营业执照已过期", ["提供有效的营业执照", "补充法定代表人身份证"]),
    ]
    external = api.get(f"/applications/{application.id}/external").json()
    assert external["rounds"][-1]["reason"] == "营业执照已过期"
    assert "同名" not in str(external)
    assert outbox(world.session, "application.decided") == [
        (
            "application.decided",
            {
                "external_ref": "WW2026000001",
                "outcome": "rejected",
                "opinion": "营业执照已过期",
                "corrections": ["提供有效的营业执照", "补充法定代表人身份证"],
                "document_number": None,
                "document_sha256": None,
            },
        )
    ]

    scan = pdf("新营业执照")
    body = submitted()
    data = {
        "external_ref": "WW2026000001",
        "form": {**body["form"], "phone": "0571-88000001"},
        "persons": body["persons"],
        "materials": [{"title": "营业执照", "filename": "执照.pdf", "sha256": sha(scan)}],
    }
    apply(world, "application.resubmitted", data, {sha(scan): scan})
    application = by_ref(world.session, "WW2026000001")
    assert (application.round, application.status) == (2, "in_review")
    assert application.form["phone"] == "0571-88000001"
    assert [(m.title, m.round) for m in list_materials(world.session, application, round=2)] == [
        ("营业执照", 2)
    ]
    last = outbox(world.session)[-1]
    assert last[0] == "application.progress" and last[1]["status"] == "in_review"

    # now in review: a second resubmission is refused; so is an unknown reference
    assert refused(world, "application.resubmitted", data, {sha(scan): scan}).code == (
        "APPLICATION_NOT_RETURNED"
    )
    unknown = {**data, "external_ref": "WW-NONE", "materials": []}
    assert refused(world, "application.resubmitted", unknown).code == "SYNC_APPLICATION_UNKNOWN"
    assert refused(world, "application.resubmitted", {**unknown, "version": 3}).code == (
        "SYNC_RECORD_INVALID"
    )


def test_final_approval_sends_the_external_opinion_and_the_document_pdf_only(
    world: World,
) -> None:
    apply(world, "application.submitted", submitted(BusinessType.self_recruit_filing))
    application = by_ref(world.session, "WW2026000001")
    internal = ("县级内部意见：法人曾有投诉记录", "市级内部意见：建议重点关注")
    for name, opinion in (("xh_clerk", internal[0]), ("hz_clerk", internal[1])):
        api = world.apis[name]
        detail = api.get(f"/applications/{application.id}").json()
        if not detail["gate"]["approve_allowed"]:
            api.post(f"/applications/{application.id}/screening")
            detail = api.get(f"/applications/{application.id}").json()
        last = detail["current_task"]
        final = process_of(by_ref(world.session, "WW2026000001")).after(last["step_key"]) is None
        api.post(
            f"/applications/{application.id}/approve",
            json={"version": detail["version"], "opinion": "准予备案" if final else opinion},
        )
        if final:
            break
    application = by_ref(world.session, "WW2026000001")
    if application.status != "approved":  # a three-level process: the province decides
        api = world.apis["prov_clerk"]
        detail = api.get(f"/applications/{application.id}").json()
        api.post(
            f"/applications/{application.id}/approve",
            json={"version": detail["version"], "opinion": "准予备案"},
        )
    records = outbox(world.session)
    (decision,) = [d for t, d in records if t == "application.decided"]
    assert decision["outcome"] == "approved" and decision["opinion"] == "准予备案"
    assert decision["corrections"] == [] and decision["document_number"]
    stored = world.session.scalars(
        select(SyncOutboxRecord).where(SyncOutboxRecord.type == "application.decided")
    ).one()
    assert stored.files == [decision["document_sha256"]]
    store = MaterialStore(world.settings.data_dir / "materials")
    with store.open(decision["document_sha256"]) as blob:
        assert blob.read().startswith(b"%PDF-")
    text = repr(records)
    assert not any(opinion in text for opinion in internal)
    assert not any(u.name in text or u.username in text for u in world.users.values())
    steps = [d["step_label"] for t, d in records if t == "application.progress"]
    assert len(steps) == len(process_of(application).steps)


def test_intranet_applications_send_nothing(world: World) -> None:
    body = application_body(BusinessType.company_licence)
    created = world.apis["intake"].post("/applications", 201, json=body).json()
    world.apis["xh_clerk"].post(f"/applications/{created['id']}/screening")
    assert outbox(world.session) == []


# --- payment.confirmed ------------------------------------------------------------------


def enrolment(n: int, ref: str) -> dict[str, Any]:
    body = application_body(BusinessType.guard_exam_enrolment, name=f"考生{n:02d}")
    id_number = _valid_id("330106", "19950505", f"{n:03d}")
    body["applicant_code"] = id_number
    body["persons"][0].update(id_number=id_number, name=f"考生{n:02d}", mobile="13900000000")
    body["form"] = {**body["form"], "training_unit": "杭州平安保安培训学校"}
    return {**body, "external_ref": ref, "materials": []}


def payment(ref: str, **changes: Any) -> dict[str, Any]:
    return {
        "external_ref": ref,
        "paid_at": "2026-11-30T07:59:12Z",
        "amount_fen": 12000,
        "receipt_no": "SF20261130001",
        **changes,
    }


def test_payment_confirmed_opens_the_payment_gate(world: World) -> None:
    apply(world, "application.submitted", enrolment(1, "BM1"))
    application = by_ref(world.session, "BM1")
    approve_steps(world, application.id, 2)  # screening, fingerprint: waits at 缴费确认
    application = by_ref(world.session, "BM1")
    task = pending_task(world.session, application.id)
    assert task is not None
    step = process_of(application).step(task.step_key)
    assert gates.evaluate(world.session, application, step).action == "payment"

    apply(world, "payment.confirmed", payment("BM1"))
    application = by_ref(world.session, "BM1")
    assert application.paid_at == datetime(2026, 11, 30, 7, 59, 12, tzinfo=UTC)
    assert gates.evaluate(world.session, application, step).approve_allowed
    line = world.session.scalars(
        select(ApprovalLogEntry)
        .where(ApprovalLogEntry.application_id == application.id)
        .order_by(ApprovalLogEntry.id.desc())
    ).first()
    assert line is not None and line.action == "payment" and line.visibility == "internal"
    assert "SF20261130001" in (line.opinion or "") and "120.00" in (line.opinion or "")
    apply(world, "payment.confirmed", payment("BM1", paid_at="2026-12-01T00:00:00Z"))  # no-op
    assert by_ref(world.session, "BM1").paid_at == datetime(2026, 11, 30, 7, 59, 12, tzinfo=UTC)


def test_payment_refusals(world: World) -> None:
    apply(world, "application.submitted", submitted())
    apply(world, "application.submitted", enrolment(1, "BM1"))
    assert refused(world, "payment.confirmed", payment("WW2026000001")).code == (
        "SYNC_PAYMENT_REFUSED"
    )
    assert refused(world, "payment.confirmed", payment("BM-NONE")).code == (
        "SYNC_APPLICATION_UNKNOWN"
    )
    for bad in (
        {"paid_at": "2026-11-30 07:59:12"},
        {"paid_at": "2026-11-30T07:59:12+08:00"},
        {"amount_fen": "12000"},
        {"amount_fen": 120.5},
        {"amount_fen": 0},
        {"receipt_no": ""},
        {"extra": True},
    ):
        assert refused(world, "payment.confirmed", payment("BM1", **bad)).code == (
            "SYNC_RECORD_INVALID"
        ), bad
    assert by_ref(world.session, "BM1").paid_at is None


# --- exams: arrangement, scores entered on the extranet, score notice, certificate ---------


def portal_exam(
    world: World, admin: Api, session: Session, clock: FrozenClock, refs: list[str]
) -> dict[str, Any]:
    ids = []
    for n, ref in enumerate(refs, start=1):
        apply(world, "application.submitted", enrolment(n, ref))
        app_id = by_ref(session, ref).id
        approve_steps(world, app_id, 3)
        ids.append(app_id)
    start = clock.now() - timedelta(hours=3)
    exam = new_exam(
        admin,
        session,
        clock,
        seats=len(ids),
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    exam = admin.post(
        f"/exams/{exam['id']}/candidates", json={"version": exam["version"], "application_ids": ids}
    ).json()
    result: dict[str, Any] = admin.post(
        f"/exams/{exam['id']}/publish", json={"version": exam["version"]}
    ).json()
    return result


def seats_by_ref(session: Session, exam_id: int) -> dict[str, ExamCandidate]:
    session.expire_all()
    rows = session.execute(
        select(Application.external_ref, ExamCandidate)
        .join(Application, Application.id == ExamCandidate.application_id)
        .where(ExamCandidate.exam_id == exam_id)
    )
    return {ref: seat for ref, seat in rows}


def test_exam_arranged_scores_entered_on_the_extranet_notified_and_certified(
    world: World, admin: Api, session: Session, clock: FrozenClock, app: FastAPI
) -> None:
    exam = portal_exam(world, admin, session, clock, ["BM1", "BM2", "BM3"])
    seats = seats_by_ref(session, exam["id"])
    [(_, arranged)] = outbox(session, "exam.arranged")
    assert arranged["exam_id"] == exam["id"] and arranged["changed"] is False
    assert arranged["candidates"] == [
        {"external_ref": ref, "admission_number": seats[ref].admission_number}
        for ref in sorted(seats, key=lambda r: seats[r].admission_number or "")
    ]
    number = {ref: seat.admission_number for ref, seat in seats.items()}

    def entered(rows: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
        return {"exam_id": exam["id"], "scores": rows, **changes}

    good = [
        {
            "admission_number": number["BM1"],
            "absent": False,
            "scores": {"theory": 85, "practice": 70},
        },
        {
            "admission_number": number["BM2"],
            "absent": False,
            "scores": {"theory": 59, "practice": 90},
        },
        {"admission_number": number["BM3"], "absent": True, "scores": {}},
    ]
    # refused: all or nothing, by the desk's rules
    out_of_range = [{**good[0], "scores": {"theory": 101, "practice": 70}}, good[1]]
    error = refused(world, "exam.scores_entered", entered(out_of_range))
    assert error.code == "SCORE_INVALID" and "超出范围" in error.message
    assert refused(world, "exam.scores_entered", entered([good[0], good[0]])).code == (
        "SCORE_INVALID"
    )
    stranger = [{**good[0], "admission_number": "2099000000001"}]
    assert refused(world, "exam.scores_entered", entered(stranger)).code == "SCORE_INVALID"
    missing = [{**good[0], "scores": {"theory": 85}}]
    assert refused(world, "exam.scores_entered", entered(missing)).code == "SCORE_INVALID"
    assert refused(world, "exam.scores_entered", entered(good, exam_id=999999)).code == (
        "SYNC_EXAM_UNKNOWN"
    )
    no_absent = [{"admission_number": number["BM1"], "scores": {"theory": 1, "practice": 1}}]
    assert refused(world, "exam.scores_entered", entered(no_absent)).code == "SYNC_RECORD_INVALID"
    assert all(s.result is None for s in seats_by_ref(session, exam["id"]).values())

    apply(world, "exam.scores_entered", entered(good))
    seats = seats_by_ref(session, exam["id"])
    assert {ref: (s.result, s.scores) for ref, s in seats.items()} == {
        "BM1": ("passed", {"theory": 85, "practice": 70}),
        "BM2": ("failed", {"theory": 59, "practice": 90}),
        "BM3": ("absent", {}),
    }
    apply(world, "exam.scores_entered", entered(good))  # the same again: nothing changes

    exam_row = session.get(Exam, exam["id"])
    assert exam_row is not None
    admin.post(f"/exams/{exam['id']}/scores/notify", json={"version": exam_row.version})
    [(_, notice)] = outbox(session, "exam.scores_notified")
    assert notice["amended"] is False
    assert [s["key"] for s in notice["subjects"]] == ["theory", "practice"]
    assert {c["external_ref"]: c["result"] for c in notice["candidates"]} == {
        "BM1": "passed",
        "BM2": "failed",
        "BM3": "absent",
    }
    # scores are locked now: the extranet is refused as the desk would be
    assert refused(world, "exam.scores_entered", entered(good)).code == "SCORES_LOCKED"

    # the passed candidate's 制证审批 (system-opened, nothing of it goes out) issues the card
    review = session.scalars(
        select(Application).where(Application.business_type == BusinessType.guard_certificate)
    ).one()
    for _ in range(len(process_of(review).steps)):
        session.expire_all()
        task = pending_task(session, review.id)
        if task is None:
            break
        name = {"county": "xh_clerk", "city": "hz_clerk", "province": "prov_clerk"}[task.level]
        api = world.apis[name]
        detail = api.get(f"/applications/{review.id}").json()
        if not detail["gate"]["approve_allowed"]:
            api.post(f"/applications/{review.id}/screening")
            detail = api.get(f"/applications/{review.id}").json()
        api.post(
            f"/applications/{review.id}/approve",
            json={"version": detail["version"], "opinion": "同意制证"},
        )
    [(_, issued)] = outbox(session, "certificate.issued")
    card = session.scalars(select(Certificate)).one()
    assert issued == {
        "external_ref": "BM1",
        "number": card.number,
        "edition": 1,
        "holder_name": "考生01",
        "issuing_authority": card.issuing_authority,
        "issued_at": card.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_on": None,
        "qr_payload": card.payload,
    }
    # the enrolments' decisions went out; the review is the server's own: nothing of it
    decided = [d["external_ref"] for _, d in outbox(session, "application.decided")]
    assert decided == ["BM1", "BM2", "BM3"]
    id_number = _valid_id("330106", "19950505", "001")
    assert id_number not in repr(outbox(session))


# --- the outbox is the business change's transaction ------------------------------------


def test_an_emit_commits_and_rolls_back_with_its_business_change(world: World) -> None:
    session = world.session
    principal = principal_for(session, world.users["intake"])
    body = ApplicationCreate.model_validate(
        {k: v for k, v in submitted().items() if k != "materials"}
    )
    intake.create_application(
        session, principal, body, now=world.now, source="extranet", commit=False
    )
    # seen inside the transaction, gone with it
    assert [t for t, _ in outbox(session)] == ["application.accepted", "application.progress"]
    session.rollback()
    assert outbox(session) == []
    assert session.scalar(select(func.count(Application.id))) == 0

    intake.create_application(session, principal, body, now=world.now, source="extranet")
    assert [t for t, _ in outbox(session)] == ["application.accepted", "application.progress"]


# --- the allowlist ----------------------------------------------------------------------


def test_the_allowlist_refuses_any_key_it_does_not_name() -> None:
    good = {"external_ref": "WW1", "number": "SQ1"}
    records_out.check_allowed("application.accepted", good)
    for bad in (
        {**good, "actor_name": "张三"},
        {**good, "opinion": "内部意见"},
    ):
        with pytest.raises(records_out.OutboundFieldError):
            records_out.check_allowed("application.accepted", bad)
    with pytest.raises(records_out.OutboundFieldError):
        records_out.check_allowed("application.internal", good)
    nested = {
        "exam_id": 1,
        "name": "考试",
        "address": "考场",
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2026-01-01T02:00:00Z",
        "changed": False,
        "candidates": [{"external_ref": "BM1", "admission_number": "1", "id_number": "x"}],
    }
    with pytest.raises(records_out.OutboundFieldError):
        records_out.check_allowed("exam.arranged", nested)
    scored = {
        "exam_id": 1,
        "name": "考试",
        "amended": False,
        "subjects": [],
        "candidates": [
            {
                "external_ref": "BM1",
                "admission_number": "1",
                "absent": False,
                "result": "passed",
                "scores": {"theory": {"by": "张三"}},
            }
        ],
    }
    with pytest.raises(records_out.OutboundFieldError):
        records_out.check_allowed("exam.scores_notified", scored)


def test_no_internal_data_in_any_outbound_record_of_the_demo(
    app: FastAPI,
    initialised: Session,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """The demo files every application on the extranet and drives them to every step and
    decision (internal opinions at every intermediate step, screening hits, exams, scores,
    certificates); then the kinds of record the demo does not make are made too: an exam
    cancelled, a certificate revoked and another cancelled, the status list, a rejection."""
    session = initialised
    now = clock.now()
    keys = app.state.context.certificate_keys
    demo_data.generate(
        session,
        now=now,
        passwords=Passwords(settings),
        signer=DocumentSigner(settings),
        size="small",
        store=MaterialStore(settings.data_dir / "materials"),
        certificates=CertificateIssuing(keys),
    )
    root = session.scalars(select(User).where(User.username == "root")).one()
    principal = principal_for(session, root)
    exam = session.scalars(
        select(Exam).where(Exam.status == "published", Exam.starts_at > now)
    ).one()
    scheduling.cancel_exam(
        session, principal, exam.id, version=exam.version, reason="考场调整", now=now
    )
    cards = session.scalars(select(Certificate).where(Certificate.status == "active")).all()
    assert len(cards) >= 2
    lifecycle.revoke(
        session,
        principal,
        cards[0].id,
        now=now,
        version=None,
        reason="违法从业",
        basis="保安服务管理条例第四十三条",
    )
    lifecycle.cancel(
        session, principal, cards[1].id, now=now, version=None, reason=CancelReason.holder_request,
        note="内部备注：本人来电",
    )  # fmt: skip
    assert records_out.emit_status_list_if_due(session, keys, now=now, ttl_seconds=86400)
    records_out.emit_record_rejected(
        session, seq=7, record_id=str(uuid.uuid4()), code="SYNC_RECORD_INVALID",
        message="同步记录的数据不符合约定", now=now,
    )  # fmt: skip
    session.commit()
    assert not records_out.emit_status_list_if_due(session, keys, now=now, ttl_seconds=86400)

    records = session.scalars(select(SyncOutboxRecord).order_by(SyncOutboxRecord.id)).all()
    assert {r.type for r in records} == records_out.OUTBOUND_TYPES
    filed = session.scalar(
        select(func.count(Application.id)).where(Application.source == "extranet")
    )
    accepted = [r for r in records if r.type == "application.accepted"]
    assert len(accepted) == filed and filed > 0
    decided = {r.data["outcome"] for r in records if r.type == "application.decided"}
    assert decided == {"approved", "rejected"}
    for record in records:
        records_out.check_allowed(record.type, record.data)

    internal = set(
        session.scalars(
            select(ApprovalLogEntry.opinion).where(
                ApprovalLogEntry.visibility == "internal", ApprovalLogEntry.opinion.is_not(None)
            )
        )
    )
    assert "材料齐全，符合条件，同意。" in internal
    forbidden = internal | {"内部备注：本人来电"}
    forbidden |= {u for row in session.execute(select(User.name, User.username)) for u in row}
    forbidden |= set(session.scalars(select(ApprovalLogEntry.actor_name)))
    forbidden |= set(
        session.scalars(select(ScreeningResult.detail).where(ScreeningResult.detail.is_not(None)))
    )
    forbidden |= set(session.scalars(select(ScreeningResult.operator_name)))
    forbidden |= set(session.scalars(select(ApplicationPerson.id_number)))
    forbidden -= {"申请人", None, ""}  # the log's name for an applicant's own submission
    forbidden -= {name for (name,) in session.execute(select(Application.applicant_name))}
    assert session.scalar(select(func.count(ScreeningResult.id)))
    for record in records:
        blobs = ("qr_payload", "status_list")  # signed encodings, checked by their own tests
        text = repr({k: v for k, v in record.data.items() if k not in blobs})
        leaked = [f for f in forbidden if f and f in text]
        assert not leaked, (record.type, leaked)
    # nothing names a user, a role or an audit entry
    keys_seen = {k for r in records for k in _keys(r.data)}
    assert not keys_seen & {"actor", "actor_name", "user", "username", "role", "audit", "screening"}
    assert session.scalar(select(func.count(ApprovalTask.id)))


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()
