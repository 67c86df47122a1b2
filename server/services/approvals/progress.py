"""Progress (审批进度) for the intranet, and the external view an applicant may see.

Internal opinions (仅对内可见) are dropped here, at the source, for any caller without
``applications:view_internal`` and always in the external view: they never leave the intranet.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApprovalLogEntry, ApprovalTask, IssuedDocument
from server.services.approvals.routing import Candidate, candidate_standings
from server.services.approvals.tasks import DONE, PENDING, pending_task, process_of
from server.services.authz import Principal
from shared.approvals import (
    ApplicationStatus,
    ApprovalAction,
    AuthorityLevel,
    OpinionVisibility,
)
from shared.enums import ApprovalRole, BusinessType
from shared.schemas.applications import (
    ExternalRound,
    ExternalStep,
    ExternalView,
    LogEntryPublic,
    PendingApprover,
    Progress,
)


def _log(session: Session, application_id: int) -> list[ApprovalLogEntry]:
    return list(
        session.scalars(
            select(ApprovalLogEntry)
            .where(ApprovalLogEntry.application_id == application_id)
            .order_by(ApprovalLogEntry.id)
        )
    )


def entry_public(entry: ApprovalLogEntry, *, internal_allowed: bool) -> LogEntryPublic:
    hidden = entry.visibility == OpinionVisibility.internal and not internal_allowed
    action = ApprovalAction(entry.action)
    return LogEntryPublic(
        at=entry.at,
        round=entry.round,
        step_name=entry.step_name,
        actor_name=entry.actor_name,
        actor_role=entry.actor_role,
        action=action,
        action_label=action.label,
        opinion=None if hidden else entry.opinion,
        opinion_hidden=hidden and entry.opinion is not None,
        visibility=OpinionVisibility(entry.visibility),
        corrections=entry.corrections,
        assignee_name=entry.assignee_name,
    )


def pending_approvers(
    session: Session, task: ApprovalTask, *, ignore_assignee: bool = False
) -> list[PendingApprover]:
    """Who the step waits for; with ``ignore_assignee``, whom it may be handed to."""
    return approvers(task, candidate_standings(session, task, ignore_assignee=ignore_assignee))


def approvers(task: ApprovalTask, candidates: Iterable[Candidate]) -> list[PendingApprover]:
    """``routing.candidate_standings`` as the API lists them."""
    role = ApprovalRole(task.approval_role).label
    return [
        PendingApprover(
            user_id=c.standing.user_id, name=c.standing.name, role_label=role, org_name=c.org_name
        )
        for c in candidates
    ]


def progress(session: Session, principal: Principal, application: Application) -> Progress:
    internal = principal.can("applications:view_internal")
    task = pending_task(session, application.id)
    return Progress(
        entries=[entry_public(e, internal_allowed=internal) for e in _log(session, application.id)],
        pending=pending_approvers(session, task) if task is not None else [],
        finished=task is None,
    )


def external_view(session: Session, application: Application) -> ExternalView:
    """Rounds with their steps' state, the rejection reason and corrections, the final opinion."""
    process = process_of(application)
    tasks = list(
        session.scalars(
            select(ApprovalTask)
            .where(ApprovalTask.application_id == application.id)
            .order_by(ApprovalTask.id)
        )
    )
    log = _log(session, application.id)
    rounds = []
    for number in range(1, application.round + 1):
        round_log = [e for e in log if e.round == number]
        opened = next(
            (
                e.at
                for e in round_log
                if e.action in (ApprovalAction.submit, ApprovalAction.resubmit)
            ),
            application.submitted_at,
        )
        latest = {t.step_key: t for t in tasks if t.round == number}
        rejection = next(
            (
                e
                for e in round_log
                if e.action == ApprovalAction.reject and e.visibility == OpinionVisibility.external
            ),
            None,
        )
        approval = next(
            (
                e
                for e in round_log
                if e.action == ApprovalAction.approve and e.visibility == OpinionVisibility.external
            ),
            None,
        )
        steps = []
        for step in process.steps:
            task = latest.get(step.key)
            state, at = "not_reached", None
            if task is not None and task.status == PENDING:
                state = "pending"
            elif task is not None and task.status == DONE:
                state = "rejected" if task.decision == "reject" else "done"
                at = task.decided_at
            steps.append(
                ExternalStep(
                    step_name=step.name,
                    level_label=AuthorityLevel(step.level).label,
                    state=state,
                    at=at,
                )
            )
        outcome = "rejected" if rejection else "approved" if approval else "in_review"
        decided = rejection or approval
        rounds.append(
            ExternalRound(
                round=number,
                submitted_at=opened,
                outcome=outcome,
                steps=steps,
                reason=rejection.opinion if rejection else None,
                corrections=rejection.corrections if rejection else None,
                opinion=approval.opinion if approval else None,
                decided_at=decided.at if decided else None,
            )
        )
    document = session.scalar(
        select(IssuedDocument.number).where(IssuedDocument.application_id == application.id)
    )
    status = ApplicationStatus(application.status)
    return ExternalView(
        number=application.number,
        business_type=BusinessType(application.business_type),
        business_type_label=BusinessType(application.business_type).label,
        applicant_name=application.applicant_name,
        status=status,
        status_label=status.label,
        rounds=rounds,
        document_number=document,
    )
