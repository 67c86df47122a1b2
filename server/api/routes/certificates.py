"""Routes: the 保安员证 list, a card, its history, the lifecycle actions, verification, the
public lookup, and the exports for offline verifiers (docs/certificates.md)."""

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from server.api.deps import ContextDep, NowDep, SessionDep, client_ip, permission, read_only
from server.api.openapi import raises
from server.api.params import Code, Search, Sort
from server.api.responses import ModelRoute
from server.services.authz import Principal
from server.services.certificates import lifecycle, queries, verification
from server.services.certificates.public import public_lookup
from server.services.errors import AppError
from server.services.paging import PageNumber, PageRequest
from shared.certificate_payload import IntegrityResult
from shared.certificates import CertificateStatus, PrintState
from shared.errors import ErrorCode
from shared.schemas.certificates import (
    CertificateCancellation,
    CertificateCorrection,
    CertificateHistory,
    CertificatePublic,
    CertificateReissue,
    CertificateRevocation,
    Finding,
    LookupResult,
    PublicKeysFile,
    StatusListFile,
    VerificationPublic,
    VerifiedClaims,
    VerifyRequest,
)
from shared.schemas.common import INT32_MAX, Id, Page
from shared.schemas.users import id_number_field

router = APIRouter(prefix="/certificates", tags=["certificates"], route_class=ModelRoute)

_KEY_MISSING = raises(ErrorCode.CERTIFICATE_KEY_MISSING)


@router.post("/verify", response_model=VerificationPublic)
def verify(body: VerifyRequest, session: SessionDep, now: NowDep) -> VerificationPublic:
    """Public: anyone holding a card's QR text may check it. The answer restates what the code
    itself says (masked ID number) and the card's status now."""
    result = verification.verify_payload(session, body.payload, now=now)
    claims = result.claims
    shown = (
        VerifiedClaims(
            number=claims.number,
            name=claims.name,
            id_number_masked=claims.id_masked,
            issued_on=claims.issued_on,
            expires_on=claims.expires_on,
            key_id=claims.key_id,
        )
        if claims is not None and result.integrity == IntegrityResult.intact
        else None
    )
    return VerificationPublic(
        valid=result.valid,
        summary=result.summary,
        integrity=Finding(result=result.integrity.value, label=result.integrity.label),
        key=Finding(result=result.key.value, label=result.key.label),
        status=Finding(result=result.status.value, label=result.status.label),
        expiry=Finding(result=result.expiry.value, label=result.expiry.label),
        status_note=result.status_note,
        certificate=shown,
    )


@router.get(
    "/lookup",
    response_model=LookupResult,
    openapi_extra=raises(ErrorCode.CERTIFICATE_LOOKUP_TOO_MANY),
)
def lookup(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
    name: Annotated[str, Query(min_length=1, max_length=50, description="持证人姓名")],
    id_number: Annotated[str | None, Query(max_length=32, description="身份证号")] = None,
    number: Annotated[str | None, Query(max_length=40, description="证书编号")] = None,
) -> LookupResult:
    """Public (seed 003 电子证照查询): name with ID number, or name with certificate number."""
    if (id_number is None) == (number is None):
        raise AppError(ErrorCode.VALIDATION_ERROR, "请输入姓名和身份证号，或姓名和证书编号")
    try:
        normalised = id_number_field(id_number)
    except ValueError as err:
        raise AppError(ErrorCode.VALIDATION_ERROR, str(err)) from err
    if id_number is not None and normalised is None:
        raise AppError(ErrorCode.VALIDATION_ERROR, "请输入身份证号")
    items = public_lookup(
        session,
        context.certificate_lookups,
        now=now,
        ip=client_ip(request),
        name=name,
        id_number=normalised,
        number=number,
    )
    return LookupResult(items=items)


@read_only(router, "/status-list", response_model=StatusListFile, openapi_extra=_KEY_MISSING)
def status_list(
    principal: Annotated[Principal, permission("certificates:export")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> StatusListFile:
    """The signed status list for the portal and offline verifiers."""
    text = verification.status_list(
        session,
        context.certificate_keys,
        now=now,
        ttl_seconds=context.settings.certificate_status_list_ttl_seconds,
    )
    return StatusListFile(**json.loads(text))


@read_only(router, "/public-keys", response_model=PublicKeysFile)
def public_keys(
    principal: Annotated[Principal, permission("certificates:export")], session: SessionDep
) -> PublicKeysFile:
    """Every signing key's public half with its period: the offline verifier's trust file."""
    return PublicKeysFile(**json.loads(verification.public_key_file(session)))


@read_only(router, "", response_model=Page[CertificatePublic])
def list_certificates(
    principal: Annotated[Principal, permission("certificates:view")],
    session: SessionDep,
    status: CertificateStatus | None = None,
    region_code: Annotated[Code, Query(pattern=r"^\d{6}$")] = None,
    issued_from: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 1, 1))] = None,
    issued_to: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 1, 1))] = None,
    has_photo: bool | None = None,
    print_state: PrintState | None = None,
    exam_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    q: Search = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    sort: Sort = None,
) -> Page[CertificatePublic]:
    request = PageRequest(page, page_size, sort)
    items, total = queries.list_certificates(
        session,
        principal,
        status=status,
        region_code=region_code,
        issued_from=issued_from,
        issued_to=issued_to,
        has_photo=has_photo,
        print_state=print_state,
        exam_id=exam_id,
        q=q,
        page=request,
    )
    return Page[CertificatePublic](
        items=[queries.to_public(card, principal) for card in items],
        total=total,
        page=page,
        page_size=request.limit,
    )


@read_only(router, "/{certificate_id}", response_model=CertificatePublic)
def get_certificate(
    certificate_id: Id,
    principal: Annotated[Principal, permission("certificates:view")],
    session: SessionDep,
) -> CertificatePublic:
    card = lifecycle.card_in_scope(session, principal, certificate_id)
    return queries.to_public(card, principal)


@read_only(router, "/{certificate_id}/history", response_model=CertificateHistory)
def history(
    certificate_id: Id,
    principal: Annotated[Principal, permission("certificates:view")],
    session: SessionDep,
) -> CertificateHistory:
    return queries.history(session, principal, certificate_id)


_ACTIVE_ONLY = (ErrorCode.CERTIFICATE_NOT_ACTIVE, ErrorCode.STALE_VERSION)
_SIGNS = (ErrorCode.CERTIFICATE_KEY_MISSING, ErrorCode.CERTIFICATE_PARTICULARS_INVALID)
_LIFECYCLE = raises(*_ACTIVE_ONLY)
_NEW_CARD = raises(*_ACTIVE_ONLY, *_SIGNS)


@router.post(
    "/{certificate_id}/reissue",
    response_model=CertificatePublic,
    status_code=201,
    openapi_extra=_NEW_CARD,
)
def reissue(
    certificate_id: Id,
    body: CertificateReissue,
    principal: Annotated[Principal, permission("certificates:reissue")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> CertificatePublic:
    """补发: the new card (same number, next edition); the old one is 已作废."""
    card = lifecycle.reissue(
        session,
        context.certificate_keys,
        principal,
        certificate_id,
        now=now,
        version=body.version,
        reason=body.reason,
        note=body.note,
    )
    session.commit()
    return queries.to_public(card, principal)


@router.post(
    "/{certificate_id}/correct",
    response_model=CertificatePublic,
    status_code=201,
    openapi_extra=raises(ErrorCode.CERTIFICATE_NO_CHANGE, *_ACTIVE_ONLY, *_SIGNS),
)
def correct(
    certificate_id: Id,
    body: CertificateCorrection,
    principal: Annotated[Principal, permission("certificates:reissue")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> CertificatePublic:
    """更正换发: a new card with the corrected particulars."""
    card = lifecycle.correct(
        session,
        context.certificate_keys,
        principal,
        certificate_id,
        now=now,
        version=body.version,
        reason=body.reason,
        changes=body.model_dump(include=set(lifecycle.CORRECTABLE)),
    )
    session.commit()
    return queries.to_public(card, principal)


@router.post("/{certificate_id}/revoke", response_model=CertificatePublic, openapi_extra=_LIFECYCLE)
def revoke(
    certificate_id: Id,
    body: CertificateRevocation,
    principal: Annotated[Principal, permission("certificates:revoke")],
    session: SessionDep,
    now: NowDep,
) -> CertificatePublic:
    """吊销, with the reason and its legal basis."""
    card = lifecycle.revoke(
        session,
        principal,
        certificate_id,
        now=now,
        version=body.version,
        reason=body.reason,
        basis=body.basis,
    )
    session.commit()
    return queries.to_public(card, principal)


@router.post("/{certificate_id}/cancel", response_model=CertificatePublic, openapi_extra=_LIFECYCLE)
def cancel(
    certificate_id: Id,
    body: CertificateCancellation,
    principal: Annotated[Principal, permission("certificates:cancel")],
    session: SessionDep,
    now: NowDep,
) -> CertificatePublic:
    """注销 (death, the holder's request, or another stated reason)."""
    card = lifecycle.cancel(
        session,
        principal,
        certificate_id,
        now=now,
        version=body.version,
        reason=body.reason,
        note=body.note,
    )
    session.commit()
    return queries.to_public(card, principal)
