"""Issuing the document of a final approval, finding it, and verifying a scanned one.

``issue`` runs inside ``approve``'s transaction: the approval, the number, the document and its
audit record commit together or not at all. The number comes from a row-locked counter per
(province, kind, year), so numbers are gap-free and two approvals never share one.
"""

import hmac
import re
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, IssuedDocument
from server.services import audit
from server.services.approvals.numbering import next_value
from server.services.documents.signing import DocumentSigner, signed_persons
from server.services.errors import AppError
from shared.audit_actions import AuditAction, AuditEntity
from shared.china_time import china_day
from shared.documents import (
    CODE_LENGTH,
    DocumentKind,
    document_number,
    kind_for,
    qr_payload,
    verification_code,
)
from shared.enums import BusinessType
from shared.errors import ErrorCode
from shared.schemas.applications import DocumentPublic, DocumentVerification

_HEX = re.compile(r"^[0-9a-f]+$")
_DOCUMENTS = cast(Table, IssuedDocument.__table__)
_INSERT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id)
"""Core: the document is written once and nothing in its transaction reads it back."""


def issue(
    session: Session,
    application: Application,
    *,
    issuer: str,
    signer: DocumentSigner,
    now: datetime,
    actor: audit.Actor,
) -> IssuedDocument | None:
    """Number, sign and store the document ``application``'s business type issues (see
    ``shared.documents``); None for a type that issues none. The issuing authority (发证机关),
    ``issuer``, is the name of the organisation that acted on the final step (read by the
    caller with the step); the approving officer is in the log."""
    kind = kind_for(BusinessType(application.business_type))
    if kind is None:
        return None
    year = china_day(now).year
    province = application.region_code[:2]
    serial = next_value(session, f"document:{kind.value}:{province}:{year}")
    document = IssuedDocument(
        application_id=application.id,
        kind=kind.value,
        number=document_number(application.region_code, kind, year, serial),
        holder_name=application.applicant_name,
        issued_at=now,
        issued_by=issuer,
        digest="",
    )
    document.digest = signer.digest(document, application, signed_persons(session, application))
    values = {c.key: getattr(document, c.key) for c in _DOCUMENTS.columns if c.key != "id"}
    document.id = session.connection().execute(_INSERT, values).scalar_one()
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.DOCUMENT_ISSUE,
        entity_type=AuditEntity.DOCUMENT,
        entity_id=document.id,
        org_id=application.org_id,
        after={
            "application_id": application.id,
            "application_number": application.number,
            "kind": kind.value,
            "number": document.number,
            "holder_name": document.holder_name,
            "issued_by": document.issued_by,
        },
    )
    return document


def document_of(session: Session, application: Application) -> IssuedDocument:
    """The document issued for ``application`` (already checked visible), or DOCUMENT_NOT_ISSUED."""
    document = session.scalar(
        select(IssuedDocument).where(IssuedDocument.application_id == application.id)
    )
    if document is None:
        raise AppError(ErrorCode.DOCUMENT_NOT_ISSUED)
    return document


def to_public(document: IssuedDocument, application: Application) -> DocumentPublic:
    kind = DocumentKind(document.kind)
    return DocumentPublic(
        id=document.id,
        application_id=application.id,
        application_number=application.number,
        kind=kind,
        kind_label=kind.label,
        number=document.number,
        holder_name=document.holder_name,
        issued_at=document.issued_at,
        issued_by=document.issued_by,
        verification_code=verification_code(document.digest),
        qr_payload=qr_payload(document.number, document.digest),
    )


def verify(
    session: Session, signer: DocumentSigner, number: str, code: str
) -> DocumentVerification:
    """What a clerk learns from a scanned QR code (or a number and code typed from the paper).

    Valid only when the number exists, the code is the start of its digest (at least the 16
    digits printed), and the stored document still matches its digest. An invalid answer never
    names the holder, so guessing numbers reveals nothing."""
    number, code = number.strip(), code.strip().lower()
    refused = DocumentVerification(
        valid=False, number=number, message="核验未通过：编号或核验码不符"
    )
    document = session.scalar(select(IssuedDocument).where(IssuedDocument.number == number))
    if document is None or len(code) < CODE_LENGTH or not _HEX.match(code):
        return refused
    if not hmac.compare_digest(document.digest[: len(code)], code):
        return refused
    application = session.get(Application, document.application_id)
    if application is None or not signer.intact(
        document, application, signed_persons(session, application)
    ):
        return refused.model_copy(
            update={"message": "核验未通过：证照数据与签发时不一致，请联系发证机关"}
        )
    return DocumentVerification(
        valid=True,
        message="核验通过：该证照由本系统签发，内容未被改动",
        number=document.number,
        kind_label=DocumentKind(document.kind).label,
        holder_name=document.holder_name,
        issued_at=document.issued_at,
        issued_by=document.issued_by,
    )
