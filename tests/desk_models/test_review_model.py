"""The review model reads the server's facts as they are: the status line has only the parts
there are, the buttons' states are the server's ``allowed_actions`` (refused until loaded), and a
view-only clerk is told why (issue 15)."""

from datetime import UTC, date, datetime
from typing import Any

from client.models.review import RELEASE_OR_REASSIGN, ReviewModel, status_line, view_only_note
from shared.approvals import ApplicantKind, ApplicationStatus, ApprovalAction
from shared.enums import BusinessType
from shared.schemas.applications import ApplicationDetail, TaskPublic
from shared.schemas.common import ActionState


def _task(assignee: str | None) -> TaskPublic:
    return TaskPublic(
        id=3,
        round=1,
        step_key="city",
        step_name="市级审核",
        level="city",
        level_label="市级",
        approval_role="city_clerk",
        approval_role_label="市经办民警",
        acting_org_id=2,
        acting_org_name="杭州市公安局",
        assignee_name=assignee,
        status="pending",
        started_at=datetime(2026, 3, 2, tzinfo=UTC),
        due_date=date(2026, 3, 9),
        overdue=False,
        decided_at=None,
    )


def _detail(**kw: Any) -> ApplicationDetail:
    fields: dict[str, Any] = {
        "id": 7,
        "number": "SQ2026000007",
        "business_type": BusinessType.legal_rep_change,
        "business_type_label": "法定代表人变更",
        "applicant_name": "某保安公司",
        "status": ApplicationStatus.in_review,
        "status_label": "审批中",
        "round": 1,
        "submitted_at": datetime(2026, 3, 1, tzinfo=UTC),
        "version": 3,
        "applicant_kind": ApplicantKind.unit,
        "applicant_code": "91330100MA2XXXXX0X",
        "region_code": "330106",
        "region_name": "浙江省杭州市西湖区",
        "form": {},
        "persons": [],
        "definition_version": 1,
        "steps": ["县级初审", "市级审核", "省级审批"],
        "current_task": _task(None),
        "can_act": False,
        "gate": None,
        "fingerprint_card_no": None,
        "paid_at": None,
    }
    return ApplicationDetail(**{**fields, **kw})


def _refused(code: str, reason: str) -> ActionState:
    return ActionState(allowed=False, reason_code=code, reason=reason)


def test_status_line_has_no_dangling_separator() -> None:
    pending = status_line(_detail(current_task=_task("王芳")))
    assert pending == (
        "申请编号 SQ2026000007 · 第 1 轮 · 状态：审批中 · 当前环节：市级审核（市级，杭州市公安局）"
        " · 办理期限 2026-03-09 · 已指派给 王芳"
    )
    done = status_line(
        _detail(current_task=None, status=ApplicationStatus.approved, status_label="审批通过")
    )
    assert done == "申请编号 SQ2026000007 · 第 1 轮 · 状态：审批通过"
    assert not done.rstrip().endswith("·")


def test_actions_come_from_the_server_and_are_refused_until_it_has_spoken() -> None:
    model = ReviewModel(lambda *a, **k: None, 7, can_screen=False)
    before = model.action(ApprovalAction.approve)
    assert not before.allowed and before.reason
    model.detail = _detail(
        allowed_actions={
            ApprovalAction.release: _refused(
                "STEP_NOT_ASSIGNED", "该审批环节未指派给个人，无需收回"
            ),
            ApprovalAction.reassign: _refused(
                "NO_OTHER_APPROVER", "本单位没有其他能办理该审批环节的人员"
            ),
            ApprovalAction.assign: ActionState(allowed=True),
        }
    )
    assert model.action(ApprovalAction.assign).allowed
    # an action the server did not mention is not offered
    assert not model.action(ApprovalAction.return_back).allowed
    both = model.any_of(RELEASE_OR_REASSIGN)
    assert not both.allowed and both.reason_code == "STEP_NOT_ASSIGNED"
    assert both.reason == "该审批环节未指派给个人，无需收回；本单位没有其他能办理该审批环节的人员"
    model.detail.allowed_actions[ApprovalAction.reassign] = ActionState(allowed=True)
    assert model.any_of(RELEASE_OR_REASSIGN).allowed


def test_view_only_note_says_why() -> None:
    theirs = _detail(
        allowed_actions={
            ApprovalAction.approve: _refused("NOT_YOUR_STEP", "该审批环节已指派给王芳办理")
        }
    )
    assert view_only_note(theirs) == "该审批环节已指派给王芳办理，仅可查看"
    over = _detail(
        current_task=None,
        finished=True,
        status=ApplicationStatus.approved,
        status_label="审批通过",
    )
    assert view_only_note(over) == "本申请审批已结束（审批通过），仅可查看"
