"""The desk's list state, headless: the pager's page size and the sort remembered from an
earlier session, the inbox's filters and export job, the organisation tree's search, and the
actions the server allows on a user."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from openpyxl import load_workbook

from client.jobs.api_jobs import ExportInbox
from client.models.inbox_table import DONE_COLUMNS, PENDING_COLUMNS, InboxModel
from client.models.org_tree import OrgSearch, OrgTree
from client.models.table import Column, PagedRows
from client.models.user_actions import NO_SELECTION, action_label, availability, unavailable_note
from shared.enums import OrgType
from shared.schemas.common import ActionState
from shared.schemas.orgs import OrgPublic
from shared.schemas.users import UserAction, UserPublic
from tests.inbox_rows import inbox_row

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def test_a_remembered_sort_applies_only_where_a_column_sorts_by_it() -> None:
    rows = PagedRows([Column("name", "姓名", "name"), Column("age", "年龄")])
    assert rows.restore_sort("-name") and rows.request()["sort"] == "-name"
    assert rows.sort_column() == (0, True)
    assert not rows.restore_sort("age") and rows.sort == "-name"  # 年龄 is not sortable
    assert not rows.restore_sort(None) and not rows.restore_sort("")


def test_a_new_page_size_keeps_the_first_row_shown_in_view() -> None:
    rows = PagedRows([Column("name", "姓名")], page_size=20)
    rows.fill([object()] * 20, 250)
    assert rows.go_to(4) and rows.first_row == 61
    assert rows.set_page_size(50) and rows.page == 2  # rows 51-100 hold row 61
    assert rows.request() == {"page": 2, "page_size": 50, "sort": None}
    assert not rows.set_page_size(50) and not rows.set_page_size(0)
    assert rows.pages == 5


def test_inbox_box_change_keeps_a_sort_both_boxes_have() -> None:
    model = InboxModel()
    assert model.set_sort(0, descending=True)  # 申请编号
    model.set_filters(box="done")
    assert model.columns == DONE_COLUMNS and model.sort == "-number"
    model.set_sort(6)  # 我的办理时间: only the done box has it
    model.set_filters(box="pending")
    assert model.columns == PENDING_COLUMNS and model.sort is None


def test_inbox_filters_say_whether_they_changed() -> None:
    model = InboxModel(page_size=20)
    model.fill([inbox_row(1)], 100)
    assert model.go_to(3)
    assert not model.set_filters(business_type=None, overdue=False)  # as they were
    assert model.page == 3  # nothing changed: the page the clerk is on stays
    assert model.set_filters(business_type="commendation") and model.page == 1
    assert model.export_query() == {"box": "pending", "business_type": "commendation"}
    assert model.export_title == "待我审批"


class _FakeInboxApi:
    """Answers ``inbox(page=, page_size=)`` from ``total`` numbered rows, recording the calls."""

    def __init__(self, total: int) -> None:
        self.total, self.calls = total, []  # type: ignore[var-annotated]

    def inbox(self, **params: Any) -> Any:
        self.calls.append(params)
        start = (params["page"] - 1) * params["page_size"]
        stop = min(start + params["page_size"], self.total)
        items = [inbox_row(i + 1, overdue=i == 0) for i in range(start, stop)]
        return SimpleNamespace(items=items, total=self.total)


def test_inbox_export_pages_through_the_list_and_stops_at_the_cap(tmp_path: Path) -> None:
    api = _FakeInboxApi(1200)
    job = ExportInbox(
        tmp_path / "a.xlsx", "待我审批", PENDING_COLUMNS, {"box": "pending", "sort": "-number"}
    )
    reported: list[int] = []
    job.report = reported.append
    assert job.call(api) == (1200, 1200)  # type: ignore[arg-type]
    assert [c["page"] for c in api.calls] == [1, 2, 3]
    assert all(c["sort"] == "-number" and c["box"] == "pending" for c in api.calls)
    assert reported == [500, 1000, 1200]
    sheet = load_workbook(tmp_path / "a.xlsx").active
    assert sheet is not None and sheet.title == "待我审批"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(c.title for c in PENDING_COLUMNS)
    assert len(rows) == 1201 and rows[1][5] == "2026-11-09（超期）"  # as on screen

    capped = ExportInbox(tmp_path / "b.xlsx", "待我审批", PENDING_COLUMNS, {}, limit=700)
    assert capped.call(_FakeInboxApi(1200)) == (700, 1200)  # type: ignore[arg-type]
    assert load_workbook(tmp_path / "b.xlsx").active.max_row == 701  # type: ignore[union-attr]


def _org(id_: int, name: str, code: str, parent: int | None, depth: int) -> OrgPublic:
    return OrgPublic(
        id=id_,
        name=name,
        parent_id=parent,
        type=OrgType.office if depth > 2 else OrgType.city_bureau,
        region_code=code,
        phone=None,
        address=None,
        depth=depth,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


ORGS = [
    _org(1, "浙江省公安厅", "330000", None, 0),
    _org(2, "杭州市公安局", "330100", 1, 1),
    _org(3, "西湖区分局", "330106", 2, 2),
    _org(4, "西湖派出所", "330106", 3, 3),
    _org(5, "宁波市公安局", "330200", 1, 1),
    _org(6, "海曙区分局", "330203", 5, 2),
]


def test_org_search_shows_matches_with_their_ancestors_and_steps_through_them() -> None:
    search = OrgSearch(OrgTree.build(ORGS))
    search.set_query("西湖")
    assert search.matches == [3, 4]  # in the tree's order
    assert search.shown == {1, 2, 3, 4}
    assert search.summary() == "找到 2 个机构（回车：下一个）"
    assert [search.next_match(), search.next_match(), search.next_match()] == [3, 4, 3]
    search.set_query("3302")  # a region code: a prefix finds the city and what is in it
    assert search.matches == [5, 6] and search.shown == {1, 5, 6}
    search.set_query("上海")
    assert search.matches == [] and search.shown == set() and search.next_match() is None
    assert search.summary() == "没有匹配的机构"
    search.set_query("  ")
    assert search.shown is None and search.summary() == ""


def _user(**actions: ActionState) -> UserPublic:
    return UserPublic(
        id=7,
        username="wang",
        name="王五",
        org_id=1,
        is_police=True,
        police_number=None,
        id_number=None,
        mobile=None,
        roles=[],
        approval_roles={},
        enabled=True,
        locked_until=None,
        must_change_password=False,
        login_count=0,
        last_login_at=None,
        version=1,
        created_at=NOW,
        allowed_actions=actions,
    )


def test_user_actions_follow_the_server_answer_with_its_reason() -> None:
    user = _user(
        edit=ActionState(allowed=True),
        reset_password=ActionState(allowed=False, reason_code="X", reason="不能重置自己的密码"),
        unlock=ActionState(allowed=False, reason_code="USER_NOT_LOCKED", reason="该账号未被锁定"),
    )
    assert availability(user, UserAction.edit).allowed
    assert availability(user, UserAction.set_enabled).allowed  # not said: the server decides
    assert availability(user, UserAction.unlock).reason == "该账号未被锁定"
    assert availability(None, UserAction.edit).reason == NO_SELECTION
    note = unavailable_note(user, list(UserAction))
    assert note == "王五（wang）— 重置密码不可用：不能重置自己的密码；解锁不可用：该账号未被锁定"
    assert unavailable_note(user, [UserAction.edit]) == ""
    assert action_label(UserAction.set_enabled, user) == "停用"
    disabled = user.model_copy(update={"enabled": False})
    assert action_label(UserAction.set_enabled, disabled) == "启用"


def test_the_list_models_load_without_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, client.models.user_actions, client.models.org_tree, client.models.table;"
        " assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_enrolment_chips_show_an_occasional_status_when_counted_or_chosen() -> None:
    from client.models.exams import EnrolmentListModel

    model = EnrolmentListModel()
    page = SimpleNamespace(items=[], total=1, counts={"certificate_refused": 1, "issued": 0})
    model.fill_page(page)
    labels = dict(model.chips())
    assert labels["certificate_refused"] == "不予制证（1）"
    assert labels["issued"] == "已发证（0）"  # the pipeline's, always
    assert "withdrawn" not in labels
    model.set_filters(status="certificate_refused")
    model.fill_page(SimpleNamespace(items=[], total=0, counts={"certificate_review": 1}))
    assert dict(model.chips())["certificate_refused"] == "不予制证（0）"  # chosen: it stays
    model.set_filters(status=None)
    assert "certificate_refused" not in dict(model.chips())
