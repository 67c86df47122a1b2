"""The guard-exam enrolment's own gates (docs/glossary.md: Guard exam enrolment): the
fingerprint card number that opens level two, and payment confirmation (缴费确认, one by one or in
bulk) that opens level three."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application
from server.services import audit
from server.services.approvals.access import get_application, visible_clause
from server.services.approvals.actions import bump
from server.services.approvals.intake import snapshot
from server.services.approvals.tasks import pending_task, write_log
from server.services.authz import Principal
from server.services.errors import AppError, check_version
from shared.approvals import ApplicationStatus, ApprovalAction
from shared.audit_actions import AuditAction, AuditEntity
from shared.enums import BusinessType
from shared.errors import ErrorCode


def _open_enrolment(application: Application) -> bool:
    return (
        application.business_type == BusinessType.guard_exam_enrolment
        and application.status == ApplicationStatus.in_review
    )


def record_fingerprint(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    card_number: str,
    now: datetime,
) -> Application:
    """A card number typed in by a station that enrols on another system."""
    application = open_for_fingerprint(session, principal, application_id, version)
    attach_card(
        session, principal, application, card_number, now=now, opinion=f"指纹卡号 {card_number}"
    )
    session.commit()
    return application


def open_for_fingerprint(
    session: Session, principal: Principal, application_id: int, version: int | None
) -> Application:
    """The application a fingerprint may be recorded on, at the version the clerk saw (None:
    a read that changes nothing on the application)."""
    principal.require("exam_enrolments:fingerprint")
    application = get_application(session, principal, application_id)
    if version is not None:
        check_version(version, application.version)
    if not _open_enrolment(application):
        raise AppError(ErrorCode.APPLICATION_NOT_PENDING)
    return application


def record_desk_action(
    session: Session,
    principal: Principal,
    application: Application,
    action: ApprovalAction,
    *,
    now: datetime,
    opinion: str,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> None:
    """An enrolment desk's action beside the approval steps (card number, refused duplicate
    finger, payment): an internal line in the progress log at the step the application waits
    at, and its audit record ``application.<the action's enum name>`` (no commit)."""
    write_log(
        session,
        application,
        action=action,
        now=now,
        actor_id=principal.user_id,
        actor_name=principal.name,
        task=pending_task(session, application.id),
        opinion=opinion,
    )
    audit.record(
        session,
        now=now,
        actor=principal.actor,
        action=AuditAction.of_application(action),
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        before=before,
        after=after,
    )


def attach_card(
    session: Session,
    principal: Principal,
    application: Application,
    card_number: str,
    *,
    now: datetime,
    opinion: str,
) -> None:
    """Put the card number on the application, with its log line and audit record (no commit)."""
    taken = session.scalar(
        select(Application.number).where(
            Application.fingerprint_card_no == card_number, Application.id != application.id
        )
    )
    if taken is not None:
        raise AppError(
            ErrorCode.CONFLICT, message="该指纹卡号已登记在其他报名上", details={"number": taken}
        )
    before = snapshot(application)
    application.fingerprint_card_no = card_number
    bump(session, application, now)
    record_desk_action(
        session,
        principal,
        application,
        ApprovalAction.fingerprint,
        now=now,
        opinion=opinion,
        before=before,
        after={**snapshot(application), "fingerprint_card_no": card_number},
    )


def confirm_payment(
    session: Session, principal: Principal, application_ids: list[int], *, now: datetime
) -> list[int]:
    """Mark enrolments paid, all or none: any id that is not an open enrolment the caller can
    see refuses the whole batch. Ids already paid are left as they are. Returns those changed."""
    principal.require("exam_enrolments:confirm_payment")
    wanted = sorted(set(application_ids))
    found = {
        a.id: a
        for a in session.scalars(
            select(Application).where(
                Application.id.in_(wanted), visible_clause(session, principal)
            )
        )
    }
    problems = [
        {"application_id": i, "message": "不存在或不在您的数据范围内"}
        for i in wanted
        if i not in found
    ] + [
        {"application_id": a.id, "number": a.number, "message": "不是审批中的保安员考试报名"}
        for a in found.values()
        if not _open_enrolment(a)
    ]
    if problems:
        raise AppError(
            ErrorCode.VALIDATION_ERROR, message="所选报名中有不能缴费确认的记录", details=problems
        )
    changed = []
    for application in (found[i] for i in wanted):
        if application.paid_at is not None:
            continue
        application.paid_at = now
        bump(session, application, now)
        record_desk_action(
            session,
            principal,
            application,
            ApprovalAction.payment,
            now=now,
            opinion="已缴费",
            after=snapshot(application),
        )
        changed.append(application.id)
    session.commit()
    return changed
