"""The demo's applications are made by the real engine and cover what a demo needs to show:
every business type pending at every step (on time and overdue), finished, returned at each
step, and screening hits, with a full inbox for the 西湖区 county clerk."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import (
    Application,
    ApprovalTask,
    IssuedDocument,
    Material,
    ScreeningResult,
)
from server.db.certificate_models import Certificate
from server.db.exam_models import Exam, ExamCandidate, TrainingProgress
from server.demo import data as demo_data
from server.services.approvals import publishing
from server.services.audit import verify_chain
from server.services.certificates.from_review import CertificateIssuing, photo_ref
from server.services.documents.content import certificate
from server.services.documents.signing import DocumentSigner
from server.services.exams import status
from server.services.materials.store import MaterialStore
from server.services.passwords import Passwords
from shared.approvals import ApplicantKind, ApplicationStatus, Gate, PersonRole, ScreeningOutcome
from shared.documents import kind_for
from shared.enums import APPLICANT_TYPES, BusinessType
from shared.exams import EnrolmentStatus
from tests.server.conftest import login


def test_demo_applications_cover_every_type_and_step(
    app: FastAPI,
    initialised: Session,
    client: TestClient,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    session = initialised
    summary = demo_data.generate(
        session,
        now=clock.now(),
        passwords=Passwords(settings),
        signer=DocumentSigner(settings),
        size="small",
        store=MaterialStore(settings.data_dir / "materials"),
        certificates=CertificateIssuing(app.state.context.certificate_keys),
    )
    filed = Application.business_type != BusinessType.guard_certificate.value
    assert summary.applications == session.scalar(select(func.count(Application.id)).where(filed))
    # course progress for every enrolment, and one published exam with its candidates numbered
    enrolments = session.scalar(
        select(func.count(func.distinct(Application.applicant_code))).where(
            Application.business_type == BusinessType.guard_exam_enrolment.value
        )
    )
    assert session.scalar(select(func.count(TrainingProgress.id))) == enrolments
    exam = session.scalars(select(Exam).where(Exam.starts_at > clock.now())).one()
    assert exam.status == "published"
    _assert_certification(session, settings, clock)
    numbers = session.scalars(
        select(ExamCandidate.admission_number).where(ExamCandidate.exam_id == exam.id)
    ).all()
    assert numbers and all(numbers)
    # every application has its form scan; unit applicants also their business licence
    kinds = dict(
        session.execute(
            select(Material.media_type, func.count()).group_by(Material.media_type)
        ).all()
    )
    assert kinds["application/pdf"] == summary.applications
    assert 0 < kinds["image/png"] < summary.applications
    store = MaterialStore(settings.data_dir / "materials")
    for sha256 in session.scalars(select(Material.sha256).limit(5)):
        assert store.path(sha256).is_file()
    screened_types = 0
    for business_type in APPLICANT_TYPES:
        steps = publishing.process_of(publishing.latest(session, business_type)).steps  # type: ignore[arg-type]
        screened_types += Gate.screening in steps[0].gates
        pending = set(
            session.scalars(
                select(ApprovalTask.step_key)
                .join(Application)
                .where(
                    Application.business_type == business_type.value,
                    ApprovalTask.status == "pending",
                )
            )
        )
        assert pending == {s.key for s in steps}, business_type
        statuses = set(
            session.scalars(
                select(Application.status).where(Application.business_type == business_type.value)
            )
        )
        assert {ApplicationStatus.approved, ApplicationStatus.returned} <= statuses
    hits = session.scalar(
        select(func.count(func.distinct(ScreeningResult.application_id))).where(
            ScreeningResult.outcome == ScreeningOutcome.hit
        )
    )
    assert hits == screened_types > 0
    assert verify_chain(session).ok
    # every finished application of a type that issues a document has exactly its one
    approved = session.execute(
        select(Application.id, Application.business_type).where(
            Application.status == ApplicationStatus.approved
        )
    ).all()
    expected = {a.id for a in approved if kind_for(BusinessType(a.business_type))}
    issued = list(session.scalars(select(IssuedDocument.application_id)))
    assert sorted(issued) == sorted(expected) and expected

    clerk = login(client, "x330106clerk1", demo_data.DEMO_PASSWORD)
    counts = clerk.get("/inbox/counts").json()
    assert counts["total"] > 0 and counts["overdue"] > 0
    overdue = clerk.get("/inbox", params={"overdue": True}).json()
    assert overdue["total"] == counts["overdue"]
    returned = session.scalar(
        select(Application.id).where(
            Application.status == ApplicationStatus.returned, Application.region_code == "330106"
        )
    )
    external = clerk.get(f"/applications/{returned}/external").json()
    rejected = [s for r in external["rounds"] for s in r["steps"] if s["state"] == "rejected"]
    assert len(rejected) == 1
    assert external["rounds"][-1]["corrections"]
    _assert_consistent(session)


def _assert_certification(session: Session, settings: Settings, clock: FrozenClock) -> None:
    """The past exam: scores locked, one 制证审批 per passed candidate, some approved into cards
    carrying the enrolment's photo (待制证), the rest in review (待制证审批)."""
    past = session.scalars(select(Exam).where(Exam.starts_at < clock.now())).one()
    seats = session.scalars(select(ExamCandidate).where(ExamCandidate.exam_id == past.id)).all()
    assert all(s.scores_locked and not s.is_open for s in seats)
    passed = {s.application_id for s in seats if s.result == "passed"}
    reviews = session.scalars(
        select(Application).where(Application.business_type == BusinessType.guard_certificate)
    ).all()
    assert passed and {r.source_application_id for r in reviews} == passed
    assert {r.status for r in reviews} == {"approved", "in_review"}
    cards = {c.application_id: c for c in session.scalars(select(Certificate))}
    approved = {r.source_application_id for r in reviews if r.status == "approved"}
    assert set(cards) == approved
    store = MaterialStore(settings.data_dir / "materials")
    for app_id, card in cards.items():
        assert card.photo_ref == photo_ref(session, (app_id,))
        if card.photo_ref is not None:
            with Image.open(store.path(card.photo_ref)) as image:
                assert (image.format, image.size) == ("JPEG", (358, 441))
    for app_id in passed:
        enrolment = session.get(Application, app_id)
        assert enrolment is not None
        expected = (
            EnrolmentStatus.awaiting_print
            if app_id in approved
            else EnrolmentStatus.certificate_review
        )
        assert status.status_of(session, enrolment, clock.now()) == expected


def _assert_consistent(session: Session) -> None:
    """Wherever a demo application is shown — its form, its people, its certificate — it tells
    one story: the unit on the form is the applicant, the 原法定代表人 of a change is the person
    listed as 法定代表人, a change of address starts from the address on the form."""
    checked: set[BusinessType] = set()
    for application in session.scalars(select(Application)):
        business_type = BusinessType(application.business_type)
        form = application.form
        people = {PersonRole(p.role): p.name for p in application.current_persons()}
        assert len(set(people.values())) == len(people), application.id
        if application.applicant_kind == ApplicantKind.unit:
            assert form["unit_name"] == application.applicant_name, application.id
            assert form["credit_code"] == application.applicant_code, application.id
        else:
            assert people[PersonRole.applicant] == application.applicant_name, application.id
        if business_type == BusinessType.legal_rep_change:
            assert form["current_legal_rep"] == people[PersonRole.legal_rep], application.id
            assert people[PersonRole.proposed_legal_rep] != people[PersonRole.legal_rep]
        if business_type == BusinessType.licence_item_change and form["item"] == "住所":
            assert form["old_value"] == form["address"] != form["new_value"], application.id
        checked.add(business_type)
    assert checked == set(BusinessType)
    changes = session.execute(
        select(IssuedDocument, Application)
        .join(Application, IssuedDocument.application_id == Application.id)
        .where(Application.business_type == BusinessType.legal_rep_change.value)
    ).all()
    assert changes  # the demo issues certificates for finished changes of legal representative
    for document, application in changes:
        particulars = certificate(document, application).particulars
        titles = [title for title, _ in particulars]
        assert "法定代表人" not in titles  # the outgoing one is printed once, as 原法定代表人
        assert titles.count("原法定代表人") == 1 and titles.count("变更后法定代表人") == 1
        rows = dict(particulars)
        assert rows["原法定代表人"] == application.form["current_legal_rep"]
        assert rows["原法定代表人"] != rows["变更后法定代表人"]
