"""Applications turned into what the API returns: inbox rows and the review dialog's detail."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApprovalTask
from server.db.models import Org
from server.services.approvals.access import principal_authority, sees_full_identity
from server.services.approvals.facts import caller_facts
from server.services.approvals.tasks import (
    PENDING,
    PendingStep,
    is_overdue,
    overdue_on,
    pending_step,
    process_of,
)
from server.services.authz import Principal
from shared.approvals import (
    ApplicantKind,
    ApplicationStatus,
    AuthorityLevel,
    PersonRole,
    source_label,
)
from shared.china_time import china_day
from shared.enums import ApprovalRole, BusinessType
from shared.masking import mask_id_number, mask_mobile
from shared.regions import region_table
from shared.schemas.applications import ApplicationDetail, ApplicationRow, PersonPublic, TaskPublic


def _org_name(session: Session, org_id: int) -> str:
    return session.scalar(select(Org.name).where(Org.id == org_id)) or ""


def row(
    application: Application,
    task: ApprovalTask | None,
    *,
    now: datetime,
    org_name: str | None = None,
    decided_at: datetime | None = None,
) -> ApplicationRow:
    business_type = BusinessType(application.business_type)
    status = ApplicationStatus(application.status)
    return ApplicationRow(
        id=application.id,
        number=application.number,
        business_type=business_type,
        business_type_label=business_type.label,
        applicant_name=application.applicant_name,
        status=status,
        status_label=status.label,
        round=application.round,
        submitted_at=application.submitted_at,
        version=application.version,
        task_id=task.id if task else None,
        step_name=task.step_name if task else None,
        acting_org_name=org_name,
        due_date=task.due_date if task else None,
        overdue=is_overdue(task, now) if task else False,
        decided_at=decided_at,
    )


_TYPE_LABELS = {b.value: b.label for b in BusinessType}
_STATUS_LABELS = {s.value: s.label for s in ApplicationStatus}


def pending_rows(lines: Sequence[Any], *, now: datetime, org_name: str) -> list[dict[str, Any]]:
    """Inbox lines (``inbox.PENDING_LINE`` rows, unpacked in that order) as the fields of
    ``ApplicationRow``, the same fields ``row`` fills, for the page's model to validate all at
    once: one validation in pydantic's core instead of a Python constructor call per line."""
    today = china_day(now)
    return [
        {
            "id": application_id,
            "number": number,
            "business_type": business_type,
            "business_type_label": _TYPE_LABELS[business_type],
            "applicant_name": applicant_name,
            "status": status,
            "status_label": _STATUS_LABELS[status],
            "round": round_,
            "submitted_at": submitted_at,
            "version": version,
            "task_id": task_id,
            "step_name": step_name,
            "acting_org_name": org_name,
            "due_date": due_date,
            "overdue": overdue_on(task_status, due_date, today),
            "decided_at": None,
        }
        for (
            task_id,
            step_name,
            due_date,
            task_status,
            application_id,
            number,
            business_type,
            applicant_name,
            status,
            round_,
            submitted_at,
            version,
            *_,
        ) in lines
    ]


def task_public(pending: PendingStep, *, now: datetime) -> TaskPublic:
    task = pending.task
    return TaskPublic(
        id=task.id,
        round=task.round,
        step_key=task.step_key,
        step_name=task.step_name,
        level=task.level,
        level_label=AuthorityLevel(task.level).label,
        approval_role=task.approval_role,
        approval_role_label=ApprovalRole(task.approval_role).label,
        acting_org_id=task.acting_org_id,
        acting_org_name=pending.acting_org_name,
        assignee_name=pending.assignee_name,
        status=task.status,
        started_at=task.started_at,
        due_date=task.due_date,
        overdue=is_overdue(task, now),
        decided_at=task.decided_at,
    )


def detail(
    session: Session, principal: Principal, application: Application, *, now: datetime
) -> ApplicationDetail:
    pending = pending_step(session, application)
    task = pending.task if pending else None
    process = process_of(application)
    facts = caller_facts(session, principal, application, pending, process)
    full = sees_full_identity(principal)
    acting = pending.acting_org_name if pending else None
    base = row(application, task, now=now, org_name=acting, decided_at=application.decided_at)
    return ApplicationDetail(
        **base.model_dump(),
        applicant_kind=ApplicantKind(application.applicant_kind),
        applicant_code=application.applicant_code,
        region_code=application.region_code,
        region_name=region_table().full_name(application.region_code),
        form=application.form,
        persons=[
            PersonPublic(
                id=p.id,
                role=PersonRole(p.role),
                role_label=PersonRole(p.role).label,
                name=p.name,
                id_number=p.id_number if full else mask_id_number(p.id_number),
                mobile=p.mobile if full else mask_mobile(p.mobile),
            )
            for p in application.current_persons()
        ],
        definition_version=process.version or 0,
        steps=[s.name for s in process.steps],
        current_task=task_public(pending, now=now) if pending else None,
        can_act=facts.can_act,
        can_reassign=facts.can_reassign,
        assign_to=facts.assign_to,
        reassign_to=facts.reassign_to,
        gate=facts.gate,
        fingerprint_card_no=application.fingerprint_card_no,
        paid_at=application.paid_at,
        source=application.source,
        source_label=source_label(application.source),
        external_ref=application.external_ref,
        finished=application.status != ApplicationStatus.in_review,
        step=facts.step,
        allowed_actions=facts.allowed_actions,
    )


def authority_name(session: Session, principal: Principal) -> str:
    if principal.authority_org_name is not None:
        return principal.authority_org_name
    return _org_name(session, principal_authority(session, principal))


def done_rows(session: Session, done: Sequence[Any], *, now: datetime) -> list[ApplicationRow]:
    """Rows for applications I acted on, each with its current step (if still in review)."""
    ids = [application.id for application, _ in done]
    pending = {
        t.application_id: t
        for t in session.scalars(
            select(ApprovalTask).where(
                ApprovalTask.application_id.in_(ids), ApprovalTask.status == PENDING
            )
        )
    }
    names = dict(session.execute(select(Org.id, Org.name)).all()) if pending else {}
    return [
        row(
            application,
            pending.get(application.id),
            now=now,
            org_name=names.get(pending[application.id].acting_org_id)
            if application.id in pending
            else None,
            decided_at=last_at,
        )
        for application, last_at in done
    ]
