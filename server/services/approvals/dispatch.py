"""Whom an assigned step waits for, and how a stuck one moves on: 收回, 认领, 改派.

A step assigned (指派) to one person waits for that person alone. When the person can no longer
act on it — disabled, roles or approval roles changed, moved to another organisation, or a role
lost the permission to approve — the step goes back to its bureau, in the transaction of that
change: ``release_unreachable`` is called by every path that changes who may act (users through
the API and the CLI, roles' permissions, organisations' types), so no step is left waiting for
someone who cannot come.

The bureau's leader and an administrator (``applications:reassign``, for a step of their own
bureau or of one inside their data scope) may also move any pending step themselves
(``reassign``): back to the bureau, to themselves, or to a colleague who can act on it.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from server.db.approval_models import Application, ApprovalTask
from server.db.models import User
from server.services import audit
from server.services.approvals import routing
from server.services.approvals.access import principal_authority
from server.services.approvals.actions import claim
from server.services.approvals.intake import snapshot
from server.services.approvals.tasks import PENDING, write_log
from server.services.authz import Principal
from server.services.errors import AppError
from shared.approvals import ApprovalAction
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.permissions import REASSIGN

RELEASED_BECAUSE = "被指派人已不能办理该环节（账号停用、角色或机构变更），环节已退回本单位待办"


def may_reassign(session: Session, principal: Principal, task: ApprovalTask) -> bool:
    """The leader of the step's bureau, or anyone whose data scope holds it (an administrator),
    with the permission to take back and hand on steps."""
    if not principal.can(REASSIGN):
        return False
    return principal_authority(session, principal) == task.acting_org_id or (
        principal.scope.contains(task.acting_org_id)
    )


def _actor_name(session: Session, actor: audit.Actor) -> str:
    user = session.get(User, actor.id) if actor.id is not None else None
    return user.name if user is not None else actor.name


def _move(
    session: Session,
    task: ApprovalTask,
    assignee: User | None,
    *,
    action: ApprovalAction,
    audit_action: AuditAction,
    opinion: str,
    now: datetime,
    actor: audit.Actor,
) -> None:
    """Set the step's assignee, with its log line and audit record."""
    application = session.get(Application, task.application_id)
    assert application is not None
    before = task.assignee_id
    before_name = (
        None if before is None else session.scalar(select(User.name).where(User.id == before))
    )
    task.assignee_id = assignee.id if assignee is not None else None
    application.updated_at = now
    flag_modified(application, "updated_at")  # desks holding the old version must reload
    write_log(
        session,
        application,
        action=action,
        now=now,
        actor_id=actor.id,
        actor_name=_actor_name(session, actor),
        task=task,
        opinion=opinion,
        assignee_name=assignee.name if assignee is not None else None,
    )
    audit.record(
        session,
        now=now,
        actor=actor,
        action=audit_action,
        entity_type=AuditEntity.APPLICATION,
        entity_id=application.id,
        org_id=application.org_id,
        # the step and the people by name, as the audit page shows them; the ids for machines
        before={"step": task.step_name, "assignee": before_name, "assignee_id": before},
        after={
            **snapshot(application),
            "step": task.step_name,
            "assignee": assignee.name if assignee is not None else None,
            "assignee_id": task.assignee_id,
        },
    )


def release_unreachable(
    session: Session,
    *,
    now: datetime,
    actor: audit.Actor,
    user_ids: Collection[int] | None = None,
) -> int:
    """Give back to their bureau the pending steps assigned to someone (of ``user_ids``, or
    anyone) who can no longer act on them. Runs inside the caller's transaction, after its
    change; returns how many steps went back."""
    if user_ids is not None and not user_ids:
        return 0
    session.flush()
    stmt = select(ApprovalTask).where(
        ApprovalTask.status == PENDING, ApprovalTask.assignee_id.is_not(None)
    )
    if user_ids is not None:
        stmt = stmt.where(ApprovalTask.assignee_id.in_(sorted(user_ids)))
    released = 0
    for task in session.scalars(stmt.order_by(ApprovalTask.id)).all():
        assignee = session.get(User, task.assignee_id)
        if assignee is not None and routing.may_act(session, assignee, task):
            continue
        _move(
            session,
            task,
            None,
            action=ApprovalAction.release,
            audit_action=AuditAction.APPLICATION_RELEASE,
            opinion=RELEASED_BECAUSE,
            now=now,
            actor=actor,
        )
        released += 1
    return released


def reassign(
    session: Session,
    principal: Principal,
    application_id: int,
    *,
    version: int,
    assignee_id: int | None,
    opinion: str,
    now: datetime,
) -> Application:
    """收回 (``assignee_id`` None: back to the bureau), 认领 (oneself) or 改派 (a colleague who
    can act on the step), whoever holds it now."""
    claimed = claim(session, principal, application_id, version, now)
    application, task = claimed.application, claimed.task
    if task is None:
        raise AppError(ErrorCode.APPLICATION_NOT_PENDING)
    if not may_reassign(session, principal, task):
        raise AppError(ErrorCode.NOT_YOUR_STEP)
    assignee = session.get(User, assignee_id) if assignee_id is not None else None
    if assignee_id is None:
        if task.assignee_id is None:
            raise AppError(ErrorCode.STEP_NOT_ASSIGNED)
        action = ApprovalAction.release
    elif assignee is None or not routing.may_act(session, assignee, task, ignore_assignee=True):
        raise AppError(ErrorCode.ASSIGNEE_INVALID)
    elif assignee.id == task.assignee_id:
        raise AppError(ErrorCode.ASSIGNEE_INVALID, "该审批环节已指派给此人，无需改派")
    else:
        action = (
            ApprovalAction.take if assignee.id == principal.user_id else ApprovalAction.reassign
        )
    _move(
        session,
        task,
        assignee,
        action=action,
        audit_action=AuditAction.APPLICATION_REASSIGN,
        opinion=opinion,
        now=now,
        actor=principal.actor,
    )
    session.commit()
    return application
