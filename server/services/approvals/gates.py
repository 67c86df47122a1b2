"""The gates of a step, in one place (docs/glossary.md: The approval flow; Guard exam enrolment).

The server refuses what they forbid, and the client draws its main button from the same
answer: 【同意】, 【获取指纹卡号】 or 【缴费确认】.
"""

from sqlalchemy.orm import Session

from server.db.approval_models import Application
from server.services.approvals.definition import StepDef
from server.services.errors import AppError
from server.services.screening.summary import approve_allowed, reject_allowed
from server.services.screening.summary import state as screening_state
from shared.approvals import Gate
from shared.errors import ErrorCode
from shared.schemas.applications import GateView


def evaluate(session: Session, application: Application, step: StepDef) -> GateView:
    approve, reject = True, True
    action, label, reasons = "approve", "同意", []
    for gate in step.gates:
        if gate == Gate.screening:
            state = screening_state(session, application)
            if not approve_allowed(state):
                approve = False
                reasons.append(_screening_reason(state))
            if not reject_allowed(state):
                reject = False
        elif gate == Gate.fingerprint_card and not application.fingerprint_card_no:
            approve, action, label = False, "fingerprint", "获取指纹卡号"
            reasons.append("尚未录入指纹，无法进入下一级审批")
        elif gate == Gate.payment and application.paid_at is None:
            approve, action, label = False, "payment", "缴费确认"
            reasons.append("缴费状态为未缴费")
    return GateView(
        action=action, label=label, approve_allowed=approve, reject_allowed=reject, reasons=reasons
    )


def _screening_reason(state: str) -> str:
    return {
        "missing": "尚未完成全部人员的背景审查",
        "hit": "背景审查命中，只能不同意",
        "error": "背景审查查询失败，须重新审查",
    }.get(state, "背景审查未通过")


def _screening_code(state: str) -> ErrorCode:
    return {"hit": ErrorCode.SCREENING_HIT, "error": ErrorCode.SCREENING_ERROR}.get(
        state, ErrorCode.GATE_CLOSED
    )


def approve_refusal(session: Session, application: Application, step: StepDef) -> AppError | None:
    """Why the gates forbid 同意 now (None: they allow it): what ``ensure_approvable`` raises and
    the review dialog shows before anyone tries."""
    if not step.gates:  # most steps: nothing to evaluate, nothing to refuse
        return None
    view = evaluate(session, application, step)
    if view.approve_allowed:
        return None
    code = ErrorCode.GATE_CLOSED
    if Gate.screening in step.gates:
        state = screening_state(session, application)
        if state in ("hit", "error"):
            code = _screening_code(state)
    return AppError(code, details={"reasons": view.reasons, "action": view.action})


def reject_refusal(session: Session, application: Application, step: StepDef) -> AppError | None:
    if not step.gates:
        return None
    view = evaluate(session, application, step)
    if view.reject_allowed:
        return None
    return AppError(ErrorCode.SCREENING_ERROR, details={"reasons": view.reasons})


def ensure_approvable(session: Session, application: Application, step: StepDef) -> None:
    refusal = approve_refusal(session, application, step)
    if refusal is not None:
        raise refusal


def ensure_rejectable(session: Session, application: Application, step: StepDef) -> None:
    refusal = reject_refusal(session, application, step)
    if refusal is not None:
        raise refusal
