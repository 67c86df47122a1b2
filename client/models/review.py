"""One application under review: what the server says about it, and the actions on it.

A plain model. The review dialog listens to its signals and calls its methods; every call is a
named job run through ``run`` (the session's re-authenticating runner), and every action sends
the version the clerk is looking at, so a colleague's earlier action comes back as a clear 409
instead of being overwritten. What the buttons say and allow comes from the server's gate view,
never from rules repeated here.
"""

from collections.abc import Callable

from psygnal import Signal

from client.api import ApiError
from client.jobs import api_jobs as jobs
from client.jobs.job import ApiJob, Job, Runs
from shared.approvals import ApprovalAction, OpinionVisibility
from shared.schemas.applications import (
    ApplicationDetail,
    ApproveBody,
    AssignBody,
    ExternalView,
    FingerprintBody,
    Progress,
    ReassignBody,
    RejectBody,
    ReturnBody,
)
from shared.schemas.common import ActionState
from shared.schemas.materials import MaterialPublic
from shared.schemas.screening import ScreeningSummaryPublic

NOT_LOADED = ActionState(allowed=False, reason="正在读取申请…")

# the buttons of the review, each with the actions whose state it shows
RELEASE_OR_REASSIGN = (ApprovalAction.release, ApprovalAction.reassign)


def status_line(detail: ApplicationDetail) -> str:
    """申请编号 · 第 n 轮 · 状态 · 当前环节 · 办理期限 · 已指派给: only the parts there are, so a
    finished application's line ends with its state, not a separator."""
    parts = [f"申请编号 {detail.number}", f"第 {detail.round} 轮", f"状态：{detail.status_label}"]
    task = detail.current_task
    if task is not None:
        parts.append(f"当前环节：{task.step_name}（{task.level_label}，{task.acting_org_name}）")
        late = "（已超期）" if detail.overdue else ""
        parts.append(f"办理期限 {task.due_date:%Y-%m-%d}{late}")
        if task.assignee_name:
            parts.append(f"已指派给 {task.assignee_name}")
    return " · ".join(parts)


def view_only_note(detail: ApplicationDetail) -> str:
    """Why the clerk only looks: the review is over, or the server's reason for not approving."""
    if detail.finished:
        return f"本申请审批已结束（{detail.status_label}），仅可查看"
    approve = detail.allowed_actions.get(ApprovalAction.approve)
    reason = approve.reason if approve is not None and approve.reason else "本环节不由您办理"
    return f"{reason}，仅可查看"


class ReviewModel:
    detail_changed = Signal()
    progress_changed = Signal()
    screening_changed = Signal()
    materials_changed = Signal()
    external_changed = Signal()
    acted = Signal(str)  # what was done, for the status line
    failed = Signal(object)  # ApiError
    acting_changed = Signal(bool)  # an action is on its way to the server, or has come back

    def __init__(self, run: Runs, application_id: int, can_screen: bool) -> None:
        self.run = run
        self.application_id = application_id
        self.can_screen = can_screen
        self.detail: ApplicationDetail | None = None
        self.progress: Progress | None = None
        self.screening: ScreeningSummaryPublic | None = None
        self.materials: list[MaterialPublic] = []
        self.external: ExternalView | None = None
        self._sending: Job | None = None  # the action on its way

    # -- what the dialog shows --------------------------------------------------------------
    @property
    def opinion_external(self) -> bool:
        """Whether the applicant reads the opinion given with 同意 (the final step's does;
        earlier ones stay inside): the server says so for the step."""
        step = self.detail.step if self.detail else None
        return bool(step and step.approve_opinion_visibility == OpinionVisibility.external)

    @property
    def opinion_required(self) -> bool:
        d = self.detail
        return bool(d and d.step and d.step.approve_opinion_required)

    @property
    def can_act(self) -> bool:
        return bool(self.detail and self.detail.can_act)

    def action(self, action: ApprovalAction) -> ActionState:
        """What the server says of ``action`` for this clerk now (refused until it has said)."""
        if self.detail is None:
            return NOT_LOADED
        return self.detail.allowed_actions.get(action, NOT_LOADED)

    def any_of(self, actions: tuple[ApprovalAction, ...]) -> ActionState:
        """One button for several actions (收回/改派): allowed when one of them is, else every
        distinct reason why not."""
        states = [self.action(a) for a in actions]
        if any(s.allowed for s in states):
            return ActionState(allowed=True)
        reasons = list(dict.fromkeys(s.reason for s in states if s.reason))
        codes = [s.reason_code for s in states if s.reason_code]
        return ActionState(
            allowed=False, reason_code=codes[0] if codes else None, reason="；".join(reasons)
        )

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        app = self.application_id
        self.run(jobs.LoadApplication(app), self._got_detail, self._fail)
        self.load_progress()
        self.run(jobs.LoadMaterials(app), self._got_materials, self._fail)
        if self.can_screen:
            self.run(jobs.LoadScreening(app), self._got_screening, self._fail)

    def load_progress(self) -> None:
        """The log, and with it what the applicant sees: both change with every action."""
        self.run(jobs.LoadProgress(self.application_id), self._got_progress, self._fail)
        self.run(jobs.LoadExternalView(self.application_id), self._got_external, self._fail)

    def _got_external(self, view: ExternalView) -> None:
        self.external = view
        self.external_changed.emit()

    def _got_detail(self, detail: ApplicationDetail) -> None:
        self.detail = detail
        self.detail_changed.emit()

    def _got_progress(self, progress: Progress) -> None:
        self.progress = progress
        self.progress_changed.emit()

    def _got_materials(self, materials: list[MaterialPublic]) -> None:
        self.materials = materials
        self.materials_changed.emit()

    def _got_screening(self, screening: ScreeningSummaryPublic) -> None:
        self.screening = screening
        self.screening_changed.emit()

    def _fail(self, err: ApiError) -> None:
        self.failed.emit(err)

    # -- actions ----------------------------------------------------------------------------
    @property
    def version(self) -> int:
        assert self.detail is not None
        return self.detail.version

    def _act(self, job: ApiJob, done: str) -> None:
        self._send(job, lambda detail: self.adopt(detail, done))

    def _send(self, job: ApiJob, then: Callable[[ApplicationDetail], None]) -> None:
        """One action at a time: a second click (a double-click on 同意, Space pressed twice)
        while the first is on its way is dropped here. Sent, it would carry the version the
        first one changes and come back as 该记录已被他人修改, telling the clerk their own
        approval failed when it went through."""
        if self.acting:
            return

        def ok(detail: ApplicationDetail) -> None:
            try:
                then(detail)  # the new detail first: the buttons come back as it says
            finally:
                self._set_sending(None)

        def failed(err: ApiError) -> None:
            try:
                self._fail(err)
            finally:
                self._set_sending(None)

        self._set_sending(job)  # before run: a runner may answer at once
        self.run(job, ok, failed)

    @property
    def acting(self) -> bool:
        """An action sent and not yet answered (one cancelled is never answered: not acting)."""
        return self._sending is not None and not self._sending.cancelled

    def _set_sending(self, job: Job | None) -> None:
        self._sending = job
        self.acting_changed.emit(job is not None)

    def adopt(self, detail: ApplicationDetail, done: str) -> None:
        """Show what an action returned (here or in a device dialog) and reload what it changed."""
        self._got_detail(detail)
        self.load_progress()
        if self.can_screen:
            self.run(jobs.LoadScreening(self.application_id), self._got_screening, self._fail)
        self.acted.emit(done)

    def approve(self, opinion: str) -> None:
        body = ApproveBody(version=self.version, opinion=opinion)
        self._send(jobs.Approve(self.application_id, body), self._approved)

    def _approved(self, detail: ApplicationDetail) -> None:
        done = "已同意，审批通过，申请已办结" if detail.finished else "已同意，申请已转入下一环节"
        self.adopt(detail, done)

    def reject(self, reason: str, corrections: list[str], opinion: str = "") -> None:
        """不同意: ``reason`` and ``corrections`` for the applicant, ``opinion`` internal."""
        body = RejectBody(
            version=self.version, reason=reason, corrections=corrections, opinion=opinion
        )
        self._act(jobs.Reject(self.application_id, body), "已退回申请人，本轮审批结束")

    def assign(self, user_id: int, opinion: str) -> None:
        body = AssignBody(version=self.version, assignee_id=user_id, opinion=opinion)
        self._act(jobs.Assign(self.application_id, body), "已指派")

    def reassign(self, user_id: int | None, opinion: str) -> None:
        """收回 (``user_id`` None), 认领 or 改派: what the server offered in ``reassign_to``."""
        body = ReassignBody(version=self.version, assignee_id=user_id, opinion=opinion)
        done = "已收回，该环节退回本单位待办" if user_id is None else "已改派"
        self._act(jobs.Reassign(self.application_id, body), done)

    def return_back(self, reason: str) -> None:
        body = ReturnBody(version=self.version, reason=reason)
        self._act(jobs.ReturnBack(self.application_id, body), "已退回上一级")

    def record_fingerprint(self, card_number: str) -> None:
        body = FingerprintBody(version=self.version, card_number=card_number)
        self._act(jobs.RecordFingerprintCard(self.application_id, body), "指纹卡号已登记")

    def confirm_payment(self) -> None:
        self._act(jobs.ConfirmApplicationPayment(self.application_id), "已确认缴费")

    def run_screening(self) -> None:
        def ok(screening: ScreeningSummaryPublic) -> None:
            self._got_screening(screening)
            # the gate and the log change with the screening: ask again
            self.run(jobs.LoadApplication(self.application_id), self._got_detail, self._fail)
            self.load_progress()
            self.acted.emit(f"背景审查完成：{screening.state_label}")

        self.run(jobs.RunScreening(self.application_id), ok, self._fail)
