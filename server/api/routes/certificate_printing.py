"""Routes: a 保安员证 to print — its face, photo and PDF — and what a print came to (打印, 补打,
打印未完成). docs/certificates.md "Printing"."""

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response

from server.api.deps import ContextDep, NowDep, SessionDep, SignedIn, permission, read_only
from server.api.openapi import raises
from server.api.responses import ModelRoute
from server.services.authz import Principal
from server.services.certificates import lifecycle, printing, queries
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from shared.certificates import CertificateStatus
from shared.errors import ErrorCode
from shared.masking import mask_id_number
from shared.schemas.certificates import (
    CardFacePublic,
    CertificatePrinted,
    CertificatePrintFailed,
    CertificatePublic,
    CertificateReprint,
)
from shared.schemas.common import Id

router = APIRouter(prefix="/certificates", tags=["certificates"], route_class=ModelRoute)

Viewer = Annotated[Principal, permission("certificates:view")]
Printer = Annotated[Principal, permission("certificates:print")]
Reprinter = Annotated[Principal, permission("certificates:reprint")]
_PRINTS = raises(ErrorCode.CERTIFICATE_NOT_ACTIVE, ErrorCode.CERTIFICATE_NO_PHOTO)
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "PDF（CR80 两页：正面、背面）"}
}
_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "照片"}
}


def store_of(context: ContextDep) -> MaterialStore:
    return MaterialStore(context.settings.data_dir / "materials")


def _image_type(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


@read_only(router, "/{certificate_id}/face", response_model=CardFacePublic)
def face(
    certificate_id: Id, principal: Viewer, session: SessionDep, context: ContextDep
) -> CardFacePublic:
    """What the card shows, for the preview. The full ID number is on the card, so a clerk who
    may print it (or see full numbers) gets it; others see it masked."""
    card = lifecycle.card_in_scope(session, principal, certificate_id)
    shown = printing.face_of(card, None)
    has_photo = printing.photo_bytes(store_of(context), card.photo_ref) is not None
    full = principal.can("certificates:print") or principal.can(queries.SENSITIVE)
    if card.status != CertificateStatus.active.value:
        why = f"该证书{CertificateStatus(card.status).label}，不能打印"
    elif not has_photo:
        why = ErrorCode.CERTIFICATE_NO_PHOTO.message
    else:
        why = ""
    return CardFacePublic(
        certificate_id=card.id,
        name=card.holder_name,
        gender_label=shown.gender,
        birth_date=card.birth_date,
        id_number=card.id_number if full else mask_id_number(card.id_number) or "",
        certificate_number=card.number,
        issuing_authority=card.issuing_authority,
        issue_date=shown.issue_date,
        qr_text=card.payload,
        has_photo=has_photo,
        printable=not why,
        not_printable=why,
    )


@read_only(
    router,
    "/{certificate_id}/photo",
    response_class=Response,
    responses=_IMAGE,
    openapi_extra=raises(ErrorCode.CERTIFICATE_NO_PHOTO),
)
def photo(
    certificate_id: Id, principal: Viewer, session: SessionDep, context: ContextDep
) -> Response:
    card = lifecycle.card_in_scope(session, principal, certificate_id)
    data = printing.photo_bytes(store_of(context), card.photo_ref)
    if data is None:
        raise AppError(
            ErrorCode.CERTIFICATE_NO_PHOTO, "该证书没有照片", {"certificate_id": card.id}
        )
    return Response(
        data, media_type=_image_type(data), headers={"Cache-Control": "private, no-store"}
    )


@read_only(
    router,
    "/{certificate_id}/card.pdf",
    response_class=Response,
    responses=_PDF,
    openapi_extra=_PRINTS,
)
def card_pdf(
    certificate_id: Id, principal: Printer, session: SessionDep, context: ContextDep
) -> Response:
    """The card as a PDF for 打印到PDF: only an active card with its photo."""
    card, data = printing.pdf_of(session, principal, store_of(context), certificate_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="certificate-{card.id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/{certificate_id}/printed",
    response_model=CertificatePublic,
    openapi_extra=raises(
        ErrorCode.CERTIFICATE_NOT_ACTIVE,
        ErrorCode.CERTIFICATE_NO_PHOTO,
        ErrorCode.CERTIFICATE_ALREADY_PRINTED,
    ),
)
def printed(
    certificate_id: Id,
    body: CertificatePrinted,
    principal: Printer,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> CertificatePublic:
    """The first print went through: 已打印, once; printing again is 补打."""
    card = printing.record_printed(
        session, principal, store_of(context), certificate_id, now=now, channel=body.channel
    )
    session.commit()
    return queries.to_public(card, principal)


@router.post(
    "/{certificate_id}/reprint",
    response_model=CertificatePublic,
    openapi_extra=raises(
        ErrorCode.CERTIFICATE_NOT_ACTIVE,
        ErrorCode.CERTIFICATE_NO_PHOTO,
        ErrorCode.CERTIFICATE_NOT_PRINTED,
    ),
)
def reprint(
    certificate_id: Id,
    body: CertificateReprint,
    principal: Reprinter,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> CertificatePublic:
    """补打, with its reason (audited)."""
    card = printing.record_reprinted(
        session,
        principal,
        store_of(context),
        certificate_id,
        now=now,
        channel=body.channel,
        reason=body.reason,
    )
    session.commit()
    return queries.to_public(card, principal)


@router.post("/{certificate_id}/print-failed", response_model=CertificatePublic)
def print_failed(
    certificate_id: Id,
    body: CertificatePrintFailed,
    principal: SignedIn,
    session: SessionDep,
    now: NowDep,
) -> CertificatePublic:
    """A print (or 补打) did not complete: the reason goes into the history; a card not yet
    printed is 打印未完成. Whoever may print or reprint reports it."""
    if not (principal.can("certificates:print") or principal.can("certificates:reprint")):
        principal.require("certificates:print")
    card = printing.record_print_failed(
        session, principal, certificate_id, now=now, channel=body.channel, reason=body.reason
    )
    session.commit()
    return queries.to_public(card, principal)
