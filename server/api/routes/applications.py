"""Routes: applications (intake, detail, progress, external view, documents and printing) and
the approval actions."""

from typing import Annotated, Any

from fastapi import APIRouter, Response

from server.api.deps import ContextDep, NowDep, SessionDep, permission, read_only
from server.api.openapi import raises
from server.api.responses import ModelRoute
from server.services.approvals import (
    actions,
    dispatch,
    enrolment,
    fingerprints,
    intake,
    progress,
    views,
)
from server.services.approvals.access import get_application
from server.services.authz import Principal
from server.services.certificates.from_review import CertificateIssuing
from server.services.documents import issue, printing
from shared.errors import ErrorCode
from shared.schemas.applications import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationResubmit,
    ApproveBody,
    AssignBody,
    DocumentPublic,
    ExternalView,
    FingerprintBody,
    FingerprintEnrolBody,
    FingerprintMatch,
    FingerprintMatchBody,
    PaymentConfirm,
    PaymentResult,
    Progress,
    ReassignBody,
    RejectBody,
    ReturnBody,
)
from shared.schemas.common import Id

router = APIRouter(prefix="/applications", tags=["applications"], route_class=ModelRoute)
Approver = Annotated[Principal, permission("applications:approve")]
Printer = Annotated[Principal, permission("applications:print")]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "PDF"}
}


def _pdf(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post(
    "",
    response_model=ApplicationDetail,
    status_code=201,
    openapi_extra=raises(ErrorCode.BUSINESS_TYPE_NOT_FILEABLE),
)
def submit(
    body: ApplicationCreate,
    principal: Annotated[Principal, permission("applications:intake")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    application = intake.create_application(session, principal, body, now=now)
    return views.detail(session, principal, application, now=now)


@router.post("/payments", response_model=PaymentResult)
def confirm_payment(
    body: PaymentConfirm,
    principal: Annotated[Principal, permission("exam_enrolments:confirm_payment")],
    session: SessionDep,
    now: NowDep,
) -> PaymentResult:
    changed = enrolment.confirm_payment(session, principal, body.application_ids, now=now)
    return PaymentResult(confirmed=changed)


@read_only(router, "/{application_id}", response_model=ApplicationDetail)
def get_detail(
    application_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    application = get_application(session, principal, application_id)
    return views.detail(session, principal, application, now=now)


@read_only(router, "/{application_id}/progress", response_model=Progress)
def get_progress(
    application_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
) -> Progress:
    application = get_application(session, principal, application_id)
    return progress.progress(session, principal, application)


@read_only(router, "/{application_id}/external", response_model=ExternalView)
def get_external(
    application_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
) -> ExternalView:
    application = get_application(session, principal, application_id)
    return progress.external_view(session, application)


@router.get("/{application_id}/document", response_model=DocumentPublic)
def get_document(
    application_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
) -> DocumentPublic:
    application = get_application(session, principal, application_id)
    return issue.to_public(issue.document_of(session, application), application)


@router.get("/{application_id}/document.pdf", response_class=Response, responses=PDF)
def get_document_pdf(
    application_id: Id, principal: Printer, session: SessionDep, now: NowDep
) -> Response:
    application = get_application(session, principal, application_id)
    pdf = printing.print_document(session, principal, application, now=now)
    return _pdf(pdf, f"{application.number}-document.pdf")


@router.get("/{application_id}/print.pdf", response_class=Response, responses=PDF)
def get_print_pdf(
    application_id: Id, principal: Printer, session: SessionDep, now: NowDep
) -> Response:
    application = get_application(session, principal, application_id)
    pdf = printing.print_application(session, principal, application, now=now)
    return _pdf(pdf, f"{application.number}-print.pdf")


@router.post(
    "/{application_id}/resubmit",
    response_model=ApplicationDetail,
    openapi_extra=raises(ErrorCode.BUSINESS_TYPE_NOT_FILEABLE),
)
def resubmit(
    application_id: Id,
    body: ApplicationResubmit,
    principal: Annotated[Principal, permission("applications:intake")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    application = get_application(session, principal, application_id)
    application = intake.resubmit(session, principal, application, body, now=now)
    return views.detail(session, principal, application, now=now)


@router.post(
    "/{application_id}/approve",
    response_model=ApplicationDetail,
    openapi_extra=raises(
        ErrorCode.CERTIFICATE_KEY_MISSING,
        ErrorCode.CERTIFICATE_ALREADY_ISSUED,
        ErrorCode.CERTIFICATE_PARTICULARS_INVALID,
    ),
)
def approve(
    application_id: Id,
    body: ApproveBody,
    principal: Approver,
    session: SessionDep,
    now: NowDep,
    context: ContextDep,
) -> ApplicationDetail:
    application = actions.approve(
        session,
        principal,
        application_id,
        version=body.version,
        opinion=body.opinion,
        now=now,
        signer=context.signer,
        certificates=CertificateIssuing(
            context.certificate_keys, context.settings.certificate_number_format
        ),
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/reject", response_model=ApplicationDetail)
def reject(
    application_id: Id, body: RejectBody, principal: Approver, session: SessionDep, now: NowDep
) -> ApplicationDetail:
    application = actions.reject(
        session,
        principal,
        application_id,
        version=body.version,
        reason=body.reason,
        corrections=body.corrections,
        opinion=body.opinion,
        now=now,
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/assign", response_model=ApplicationDetail)
def assign(
    application_id: Id, body: AssignBody, principal: Approver, session: SessionDep, now: NowDep
) -> ApplicationDetail:
    application = actions.assign(
        session,
        principal,
        application_id,
        version=body.version,
        assignee_id=body.assignee_id,
        opinion=body.opinion,
        now=now,
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/reassign", response_model=ApplicationDetail)
def reassign(
    application_id: Id,
    body: ReassignBody,
    principal: Annotated[Principal, permission("applications:reassign")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    """收回（``assignee_id`` 为空，退回本单位待办）、认领（本人）或改派（能办理该环节的同事）
    待办环节，无论其当前指派给谁：本单位领导或数据范围包含该单位者（系统管理员）可用。"""
    application = dispatch.reassign(
        session,
        principal,
        application_id,
        version=body.version,
        assignee_id=body.assignee_id,
        opinion=body.opinion,
        now=now,
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/return", response_model=ApplicationDetail)
def return_back(
    application_id: Id, body: ReturnBody, principal: Approver, session: SessionDep, now: NowDep
) -> ApplicationDetail:
    application = actions.return_back(
        session, principal, application_id, version=body.version, reason=body.reason, now=now
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/fingerprint/match", response_model=FingerprintMatch)
def check_fingerprint_match(
    application_id: Id,
    body: FingerprintMatchBody,
    principal: Annotated[Principal, permission("exam_enrolments:fingerprint")],
    session: SessionDep,
    now: NowDep,
) -> FingerprintMatch:
    return fingerprints.check_match(
        session,
        principal,
        application_id,
        device_id=body.device_id,
        slot=body.slot,
        score=body.score,
        now=now,
    )


@router.post("/{application_id}/fingerprint/enrolment", response_model=ApplicationDetail)
def enrol_fingerprint(
    application_id: Id,
    body: FingerprintEnrolBody,
    principal: Annotated[Principal, permission("exam_enrolments:fingerprint")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    application = fingerprints.enrol(
        session,
        principal,
        application_id,
        version=body.version,
        device_id=body.device_id,
        slot=body.slot,
        now=now,
    )
    return views.detail(session, principal, application, now=now)


@router.post("/{application_id}/fingerprint", response_model=ApplicationDetail)
def record_fingerprint(
    application_id: Id,
    body: FingerprintBody,
    principal: Annotated[Principal, permission("exam_enrolments:fingerprint")],
    session: SessionDep,
    now: NowDep,
) -> ApplicationDetail:
    application = enrolment.record_fingerprint(
        session,
        principal,
        application_id,
        version=body.version,
        card_number=body.card_number,
        now=now,
    )
    return views.detail(session, principal, application, now=now)
