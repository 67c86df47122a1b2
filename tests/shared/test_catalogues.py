"""The error-code and audit catalogues are complete, and the code uses nothing outside them."""

import ast
import re
from http import HTTPStatus
from pathlib import Path

import pytest

from shared.approvals import ApprovalAction
from shared.audit_actions import AuditAction, AuditEntity, action_label, entity_label, readable
from shared.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources(package: str) -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def test_every_error_code_is_declared_once_with_a_status_and_a_chinese_message() -> None:
    assert len(ErrorCode.__members__) == len(list(ErrorCode)), "a code declared twice (alias)"
    for code in ErrorCode:
        assert code.value == code.name, code
        assert 400 <= HTTPStatus(code.status) < 600, code
        assert CJK.search(code.message), code
    assert ErrorCode.known("NOT_FOUND") is ErrorCode.NOT_FOUND
    assert ErrorCode.known("NO_SUCH_CODE") is None


def test_the_server_raises_only_catalogue_codes() -> None:
    """Every ``ErrorCode.X`` exists, every ``AppError`` gets a member (never a string), and no
    code string is spelled out where the member belongs."""
    codes = {c.value for c in ErrorCode}
    problems = []
    for path, tree in _sources("server"):
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ErrorCode"
                and node.attr not in ErrorCode.__members__
                and node.attr not in {"known"}
            ):
                problems.append(f"{where} ErrorCode.{node.attr} is not in the catalogue")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "AppError"
                and node.args
                and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            ):
                problems.append(f"{where} AppError with a literal code")
            if isinstance(node, ast.Constant) and node.value in codes:
                problems.append(f"{where} the string {node.value!r} instead of its member")
    assert not problems, "\n".join(problems)


def test_the_desk_compares_codes_as_members() -> None:
    """No ``….code == "SOME_CODE"`` in the desk: a misspelt string would never match."""
    problems = []
    for path, tree in _sources("client"):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            reads_code = any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides)
            literal = any(
                isinstance(s, ast.Constant) and isinstance(s.value, str) and s.value.isupper()
                for s in sides
            )
            if reads_code and literal:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not problems, problems


def test_every_audit_action_and_object_type_has_a_chinese_label() -> None:
    for catalogue in (AuditAction, AuditEntity):
        assert len(catalogue.__members__) == len(list(catalogue)), catalogue
        for member in catalogue:
            assert CJK.search(member.label), member
    assert action_label("application.submit") == "提交申请"
    assert action_label("from.a_newer_server") == "from.a_newer_server"
    assert entity_label("user") == "用户"


def _record_calls(tree: ast.Module) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "record"
        and any(k.arg == "action" for k in node.keywords)
    ]


def test_the_server_writes_audit_actions_only_from_the_catalogue() -> None:
    """Statically: no ``audit.record`` is given an action or object type as a literal string, so
    each one goes through the enums (``record`` also converts at run time, which refuses a
    string that is not in the catalogue)."""
    problems = []
    calls = 0
    for path, tree in _sources("server"):
        for call in _record_calls(tree):
            calls += 1
            for keyword in call.keywords:
                if keyword.arg in {"action", "entity_type"} and any(
                    isinstance(n, ast.Constant | ast.JoinedStr) for n in ast.walk(keyword.value)
                ):
                    problems.append(f"{path.relative_to(ROOT)}:{call.lineno} {keyword.arg}")
    assert calls > 30  # the scan finds the calls it is meant to check
    assert not problems, problems


def test_every_engine_action_that_reaches_the_audit_log_has_an_audit_action() -> None:
    """The approval engine writes ``application.<its action>``; each must be catalogued."""
    written = {
        ApprovalAction.submit,
        ApprovalAction.resubmit,
        ApprovalAction.approve,
        ApprovalAction.reject,
        ApprovalAction.assign,
        ApprovalAction.return_back,
        ApprovalAction.fingerprint,
        ApprovalAction.fingerprint_duplicate,
        ApprovalAction.payment,
    }
    for action in written:
        assert AuditAction.of_application(action).label
    with pytest.raises(ValueError):
        AuditAction("application.made_up")


def test_readable_before_and_after() -> None:
    assert readable(None) == ""
    assert readable({"name": "城区分局", "enabled": False}) == "名称：城区分局；启用：否"
    assert readable({"role_ids": [3, 4], "odd_key": {"step": "county"}}) == (
        "自定义角色：3、4；odd_key：（审批环节：county）"
    )
    assert readable({"reason": None}) == "原因：无"


def test_readable_names_recorded_fields_and_codes_in_chinese() -> None:
    """What the server records on a submission and a failed sign-in reads in Chinese; free
    text and unknown codes are shown as stored."""
    assert (
        readable(
            {"number": "SQ2026000001", "business_type": "company_licence", "status": "in_review"}
        )
        == "编号：SQ2026000001；业务类型：保安服务公司设立许可；状态：审批中"
    )
    assert readable({"reason": "wrong_password", "failed_attempts": 2}) == (
        "原因：密码错误；连续失败次数：2"
    )
    assert readable({"reason": "股东会决议", "status": "odd"}) == "原因：股东会决议；状态：odd"
