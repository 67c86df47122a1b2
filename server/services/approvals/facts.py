"""What the review dialog is told about the pending step and the caller's actions on it.

Every answer comes from the rule that decides the action itself — ``routing.allowed`` (who acts
on a step), ``gates`` (同意 / 不同意), ``tasks.previous_step`` (退回上一级, read with the step as
``PendingStep.has_previous``), ``dispatch``
(收回 / 认领 / 改派) — and says, for an action the caller may not take, the code the server would
refuse it with and why, so the desk greys the button and says why instead of inferring a rule
from a step's name or position (ARCHITECTURE.md habit 11).
"""

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApprovalTask
from server.services.approvals import dispatch, gates, routing
from server.services.approvals.definition import ProcessDef
from server.services.approvals.progress import approvers
from server.services.approvals.tasks import PendingStep, approval_visibility
from server.services.authz import Principal
from server.services.errors import AppError, action_state
from shared.approvals import ApprovalAction
from shared.errors import ErrorCode
from shared.permissions import APPROVE, REASSIGN
from shared.schemas.applications import GateView, PendingApprover, StepFacts
from shared.schemas.common import ActionState

STEP_ACTIONS = (
    ApprovalAction.approve,
    ApprovalAction.reject,
    ApprovalAction.assign,
    ApprovalAction.return_back,
)
DISPATCH_ACTIONS = (ApprovalAction.release, ApprovalAction.reassign)


@dataclass
class CallerFacts:
    step: StepFacts | None = None
    can_act: bool = False
    can_reassign: bool = False
    gate: GateView | None = None
    assign_to: list[PendingApprover] = field(default_factory=list)
    reassign_to: list[PendingApprover] = field(default_factory=list)
    allowed_actions: dict[ApprovalAction, ActionState] = field(default_factory=dict)
    _candidates: list[routing.Candidate] | None = None

    def candidates(self, session: Session, task: ApprovalTask) -> list[routing.Candidate]:
        """Everyone who may act on the step, were it theirs (``routing.allowed`` with
        ``ignore_assignee``), read once: the caller's own standing is among them or the caller
        may not act, and the others are whom the step may be handed to."""
        if self._candidates is None:
            self._candidates = routing.candidate_standings(session, task, ignore_assignee=True)
        return self._candidates

    def eligible(self, session: Session, task: ApprovalTask) -> list[PendingApprover]:
        """Everyone the step may be handed to (assigned or reassigned)."""
        return approvers(task, self.candidates(session, task))


def step_facts(pending: PendingStep, process: ProcessDef) -> StepFacts:
    final = process.after(pending.task.step_key) is None
    return StepFacts(
        is_final=final,
        can_return=pending.has_previous,
        approve_opinion_visibility=approval_visibility(final),
        approve_opinion_required=final,
    )


def _not_yours(standing: routing.Standing | None, pending: PendingStep) -> AppError:
    """NOT_YOUR_STEP, naming the colleague when the step is assigned to one."""
    assignee = pending.assignee_name
    if (
        assignee is not None
        and standing is not None
        and routing.allowed(standing, pending.task, ignore_assignee=True)
    ):
        return AppError(ErrorCode.NOT_YOUR_STEP, f"该审批环节已指派给{assignee}办理")
    return AppError(ErrorCode.NOT_YOUR_STEP)


def _step_refusals(
    session: Session,
    principal: Principal,
    application: Application,
    pending: PendingStep,
    process: ProcessDef,
    facts: CallerFacts,
) -> dict[ApprovalAction, AppError | None]:
    """approve, reject, assign, return_back: the checks of ``actions.acting_on`` first (the
    permission, then ``routing.allowed``), then each action's own."""
    if not principal.can(APPROVE):
        denied = AppError(ErrorCode.PERMISSION_DENIED, details={"permission": APPROVE})
        return dict.fromkeys(STEP_ACTIONS, denied)
    task = pending.task
    standing = next(
        (
            c.standing
            for c in facts.candidates(session, task)
            if c.standing.user_id == principal.user_id
        ),
        None,  # not one of them: may not act on it, assigned to him or not
    )
    if standing is None or not routing.allowed(standing, task):
        return dict.fromkeys(STEP_ACTIONS, _not_yours(standing, pending))
    facts.can_act = True
    step = process.step(task.step_key)
    facts.gate = gates.evaluate(session, application, step)
    facts.assign_to = [p for p in facts.eligible(session, task) if p.user_id != principal.user_id]
    return {
        ApprovalAction.approve: gates.approve_refusal(session, application, step),
        ApprovalAction.reject: gates.reject_refusal(session, application, step),
        ApprovalAction.assign: None if facts.assign_to else AppError(ErrorCode.NO_OTHER_APPROVER),
        ApprovalAction.return_back: None
        if facts.step is not None and facts.step.can_return
        else AppError(ErrorCode.NO_PREVIOUS_STEP),
    }


def _dispatch_refusals(
    session: Session, principal: Principal, task: ApprovalTask, facts: CallerFacts
) -> dict[ApprovalAction, AppError | None]:
    """release (收回) and reassign (认领/改派), as ``dispatch.reassign`` decides them."""
    if not principal.can(REASSIGN):
        denied = AppError(ErrorCode.PERMISSION_DENIED, details={"permission": REASSIGN})
        return dict.fromkeys(DISPATCH_ACTIONS, denied)
    if not dispatch.may_reassign(session, principal, task):
        return dict.fromkeys(DISPATCH_ACTIONS, AppError(ErrorCode.NOT_YOUR_STEP))
    facts.can_reassign = True
    facts.reassign_to = [p for p in facts.eligible(session, task) if p.user_id != task.assignee_id]
    return {
        ApprovalAction.release: None
        if task.assignee_id is not None
        else AppError(ErrorCode.STEP_NOT_ASSIGNED),
        ApprovalAction.reassign: None
        if facts.reassign_to
        else AppError(ErrorCode.NO_OTHER_APPROVER),
    }


def caller_facts(
    session: Session,
    principal: Principal,
    application: Application,
    pending: PendingStep | None,
    process: ProcessDef,
) -> CallerFacts:
    """The pending step's facts and what ``principal`` may do to it now (every action of
    ``STEP_ACTIONS`` and ``DISPATCH_ACTIONS``, each allowed or with its refusal)."""
    facts = CallerFacts()
    if pending is None:
        over = AppError(ErrorCode.APPLICATION_NOT_PENDING)
        facts.allowed_actions = {a: action_state(over) for a in STEP_ACTIONS + DISPATCH_ACTIONS}
        return facts
    facts.step = step_facts(pending, process)
    refusals = _step_refusals(session, principal, application, pending, process, facts)
    refusals.update(_dispatch_refusals(session, principal, pending.task, facts))
    facts.allowed_actions = {action: action_state(refusals[action]) for action in refusals}
    return facts
