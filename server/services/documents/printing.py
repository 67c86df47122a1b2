"""Printing: the PDF of an issued document and the application sheet, each with an audit record.

Printing is recorded like a state change: a licence or an application with people's details that
leaves the intranet on paper must be traceable to who printed it and when.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from server.db.approval_models import Application
from server.services import audit
from server.services.authz import Principal
from server.services.documents import content, render
from server.services.documents.issue import document_of
from shared.audit_actions import AuditAction, AuditEntity


def print_document(
    session: Session, principal: Principal, application: Application, *, now: datetime
) -> bytes:
    """The issued document of a visible application as PDF; DOCUMENT_NOT_ISSUED if none."""
    document = document_of(session, application)
    pdf = render.certificate_pdf(content.certificate(document, application))
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.DOCUMENT_PRINT,
        entity_type=AuditEntity.DOCUMENT,
        entity_id=document.id,
        org_id=application.org_id,
        after={"number": document.number, "application_number": application.number},
    )
    session.commit()
    return pdf


def print_application(
    session: Session, principal: Principal, application: Application, *, now: datetime
) -> bytes:
    """申请材料及审批进度 of a visible application, as the caller may see it."""
    sheet = content.application_sheet(session, principal, application, now=now)
    pdf = render.application_pdf(sheet)
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.APPLICATION_PRINT,
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        after={
            "number": application.number,
            "status": application.status,
            "log_entries": len(sheet.log),
            "internal_opinions": principal.can("applications:view_internal"),
            "full_id_numbers": principal.can("users:view_sensitive"),
        },
    )
    session.commit()
    return pdf
