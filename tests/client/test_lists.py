"""The desk's lists, driven as a clerk would: Enter in the inbox's search field searches and
Enter on a row opens its review, filters apply at once, the sort left last time comes back with
the first load (inbox and 用户管理), the pager jumps and remembers its page size, the inbox
exports what its filters match, the organisation tree finds by name and region code, and the
users page greys what the server would refuse, saying why."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from client.api import ApiClient, ApiError
from client.jobs import api_jobs
from client.jobs.api_jobs import ExportInbox
from client.jobs.job import JobCancelled
from client.jobs.runner import JobRunner
from client.models.inbox_table import InboxModel
from client.models.table import Column, PagedRows
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.inbox_page import InboxPage
from client.views.approvals.review_dialog import ReviewDialog
from client.views.org_tree_widget import OrgTreeWidget
from client.views.paged_table import PagedTable
from client.views.system import users as users_view
from client.views.system.users import UserPage
from shared.enums import BusinessType, OrgType
from shared.schemas.orgs import OrgPublic
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.conftest import STRONG, activated_user

WAIT = 15000


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    world = build_desk_world(admin_api, "ls")
    for business_type in (
        BusinessType.legal_rep_change,
        BusinessType.commendation,
        BusinessType.legal_rep_change,
    ):
        world.submit(business_type)
    return world


@pytest.fixture
def county(world: DeskWorld, prefs: Preferences, qtbot) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    api = world.signed_in("county")
    runner = JobRunner()
    yield Session(api, runner, prefs, api.me())
    runner.cancel_all()
    runner.wait(10000)


def show_active(qtbot, widget: QWidget) -> None:  # type: ignore[no-untyped-def]
    """Shown in the active window: shortcuts and Enter reach it as they do on the desk."""
    with qtbot.waitActive(widget):
        widget.show()
        widget.activateWindow()


def open_inbox(qtbot, session: Session) -> InboxPage:  # type: ignore[no-untyped-def]
    page = InboxPage(session)
    qtbot.addWidget(page)
    show_active(qtbot, page)
    qtbot.waitUntil(lambda: page.model.total >= 3, timeout=WAIT)
    return page


def reviews_open(page: InboxPage) -> list[ReviewDialog]:
    return [d for d in page.findChildren(ReviewDialog) if d.isVisible()]


def test_enter_in_the_search_field_searches_and_enter_on_a_row_opens_it(  # type: ignore[no-untyped-def]
    qtbot, county: Session
) -> None:
    page = open_inbox(qtbot, county)
    page.table.view.selectRow(0)
    page.applicant.setFocus()
    page.applicant.setText("没有这家公司")
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        qtbot.keyClick(page.applicant, Qt.Key.Key_Return)
    assert page.model.total == 0 and not reviews_open(page)
    page.applicant.clear()
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        qtbot.keyClick(page.applicant, Qt.Key.Key_Return)
    assert page.model.total >= 3 and not reviews_open(page)

    page.table.view.setFocus()
    page.table.view.selectRow(1)
    qtbot.keyClick(page.table.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(reviews_open(page)), timeout=WAIT)
    dialog = reviews_open(page)[0]
    qtbot.waitUntil(lambda: dialog.model.detail is not None, timeout=WAIT)
    assert dialog.model.detail.id == page.model.rows[1].id  # type: ignore[union-attr]
    dialog.reject()


def test_filter_choices_apply_at_once(qtbot, county: Session) -> None:  # type: ignore[no-untyped-def]
    page = open_inbox(qtbot, county)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.business_type.setCurrentIndex(page.business_type.findData("commendation"))
    assert page.model.rows
    assert all(r.business_type == BusinessType.commendation for r in page.model.rows)
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.overdue.setChecked(True)
    assert page.model.filters.overdue and page.model.total == 0  # nothing is overdue yet
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.box.setCurrentIndex(page.box.findData("done"))
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.state.setCurrentIndex(page.state.findData("approved"))
    assert page.model.params()["status"] == "approved"


def _numbers(page: InboxPage) -> list[str]:
    return [r.number for r in page.model.rows]


def test_the_inbox_sort_comes_back_with_the_first_load(qtbot, county: Session) -> None:  # type: ignore[no-untyped-def]
    orders = ((Qt.SortOrder.DescendingOrder, True), (Qt.SortOrder.AscendingOrder, False))
    for order, descending in orders:
        page = open_inbox(qtbot, county)
        with qtbot.waitSignal(page.loaded, timeout=WAIT):
            page.table.view.horizontalHeader().setSortIndicator(0, order)  # 申请编号
        assert _numbers(page) == sorted(_numbers(page), reverse=descending)
        page.close()
        again = InboxPage(county)  # signed in again: the same preferences
        qtbot.addWidget(again)
        assert again.model.sort == ("-number" if descending else "number")
        qtbot.waitUntil(lambda again=again: again.model.total >= 3, timeout=WAIT)
        assert _numbers(again) == sorted(_numbers(again), reverse=descending)
        header = again.table.view.horizontalHeader()
        assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (0, order)


def test_the_inbox_exports_every_row_its_filters_match(  # type: ignore[no-untyped-def]
    qtbot, county: Session, tmp_path: Path
) -> None:
    page = open_inbox(qtbot, county)
    target = tmp_path / "inbox.xlsx"
    with qtbot.waitSignal(page.exported, timeout=WAIT):
        page.export_to(target)
    rows = list(load_workbook(target).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == tuple(c.title for c in page.model.columns)
    assert len(rows) - 1 == page.model.total
    assert {r[0] for r in rows[1:]} == {r.number for r in page.model.rows}
    assert "已导出" in page.status.text()


def test_a_cancelled_export_writes_nothing_and_keeps_the_old_file(  # type: ignore[no-untyped-def]
    county: Session, tmp_path: Path, monkeypatch
) -> None:
    """Cancelled after its first page, the export stops: no half file, and a file it would
    have replaced is left as it was."""
    monkeypatch.setattr(api_jobs, "EXPORT_BATCH", 1)  # a page per row: room to cancel between
    target = tmp_path / "inbox.xlsx"
    target.write_bytes(b"the clerk's earlier export")
    model = InboxModel()
    job = ExportInbox(target, model.export_title, list(model.columns), model.export_query())
    pages: list[int] = []

    def report(written: int) -> None:
        pages.append(written)
        job.cancel()  # the clerk presses 取消 while the first page is being written

    job.report = report
    with pytest.raises(JobCancelled):
        job.call(county.api)
    assert pages == [1] and job.total >= 2  # there was more to fetch
    assert target.read_bytes() == b"the clerk's earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["inbox.xlsx"]  # no partial file beside it


def test_the_pager_jumps_moves_and_remembers_its_page_size(qtbot, prefs: Preferences) -> None:  # type: ignore[no-untyped-def]
    rows = PagedRows([Column("name", "姓名", "name")], page_size=20)
    table = PagedTable(rows, "pager-test", prefs)
    qtbot.addWidget(table)
    show_active(qtbot, table)
    asked: list[int] = []
    table.reload_requested.connect(lambda: asked.append(rows.page))
    rows.fill([], 95)
    assert table.info.text() == "共 95 条，第 1/5 页"
    assert not table.first.isEnabled() and table.last.isEnabled()
    table.jump.setFocus()
    qtbot.keyClicks(table.jump, "3")
    qtbot.keyClick(table.jump, Qt.Key.Key_Return)
    assert rows.page == 3 and asked == [3] and table.jump.text() == ""
    qtbot.keyClicks(table.jump, "99")
    qtbot.keyClick(table.jump, Qt.Key.Key_Return)
    assert rows.page == 5  # past the end: the last page
    qtbot.keyClick(table.jump, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert rows.page == 4
    qtbot.mouseClick(table.first, Qt.MouseButton.LeftButton)
    assert rows.page == 1 and asked == [3, 5, 4, 1]
    rows.fill([], 95)
    table.page_sizes.setCurrentIndex(table.page_sizes.findData(50))
    assert rows.page_size == 50 and asked[-1] == 1
    again = PagedRows([Column("name", "姓名", "name")], page_size=20)
    qtbot.addWidget(PagedTable(again, "pager-test", prefs))
    assert again.page_size == 50  # remembered


def _orgs() -> list[OrgPublic]:
    now = datetime(2026, 11, 2, tzinfo=UTC)

    def org(id_: int, name: str, code: str, parent: int | None, depth: int) -> OrgPublic:
        kind = OrgType.province_department if depth == 0 else OrgType.office
        return OrgPublic(id=id_, name=name, parent_id=parent, type=kind, region_code=code,
                         phone=None, address=None, depth=depth, version=1, created_at=now,
                         updated_at=now)  # fmt: skip

    return [
        org(1, "浙江省公安厅", "330000", None, 0),
        org(2, "杭州市公安局", "330100", 1, 1),
        org(3, "西湖区分局", "330106", 2, 2),
        org(4, "西湖派出所", "330106", 3, 3),
        org(5, "宁波市公安局", "330200", 1, 1),
        org(6, "海曙区分局", "330203", 5, 2),
    ]


def test_the_org_tree_finds_by_name_and_code(qtbot) -> None:  # type: ignore[no-untyped-def]
    tree = OrgTreeWidget(with_codes=True)
    panel = tree.panel()
    qtbot.addWidget(panel)
    tree.fill(_orgs())
    show_active(qtbot, panel)
    tree.search_box.setFocus()
    tree.search_box.setText("西湖")
    hidden = {i for i, item in tree.items.items() if item.isHidden()}
    assert hidden == {5, 6}
    assert tree.items[2].isExpanded() and tree.items[3].isExpanded()
    qtbot.keyClick(tree.search_box, Qt.Key.Key_Return)
    assert tree.current_org().id == 3  # type: ignore[union-attr]
    qtbot.keyClick(tree.search_box, Qt.Key.Key_Return)
    assert tree.current_org().id == 4  # type: ignore[union-attr]
    assert "找到 2 个机构" in tree.search_note.text()
    tree.search_box.setText("3302")
    assert {i for i, item in tree.items.items() if not item.isHidden()} == {1, 5, 6}
    qtbot.keyClick(tree.search_box, Qt.Key.Key_Escape)
    assert tree.search_box.text() == ""
    assert not any(item.isHidden() for item in tree.items.values())
    assert tree.search_note.isHidden()


MANAGER = ["orgs:view", "users:view", "users:create", "users:update", "users:reset_password",
           "users:unlock", "roles:view", "applications:view", "applications:approve"]  # fmt: skip


@pytest.fixture
def users_page(qtbot, context: Session, admin_api: ApiClient, request) -> UserPage:  # type: ignore[no-untyped-def]
    username = f"lm_{request.node.name[-10:].strip('_[]')}"
    activated_user(admin_api, username, MANAGER)
    context.api.login(username, STRONG)
    context.me = context.api.me()
    page = UserPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=WAIT)
    return page


def _row_of(page: UserPage, username: str) -> int:
    return next(i for i, u in enumerate(page.model.rows) if u.username == username)


def test_users_page_greys_what_the_server_would_refuse(  # type: ignore[no-untyped-def]
    qtbot, users_page: UserPage, admin_api: ApiClient, monkeypatch
) -> None:
    page = users_page
    me = page.session.me.username  # type: ignore[union-attr]
    assert not page.buttons["edit"].isEnabled()  # nothing selected yet
    page.table.view.selectRow(_row_of(page, me))
    reset, toggle, unlock = page.buttons["reset"], page.buttons["toggle"], page.buttons["unlock"]
    assert page.buttons["edit"].isEnabled()
    assert not reset.isEnabled() and "不能重置自己的密码" in reset.toolTip()
    assert not toggle.isEnabled() and toggle.text() == "停用" and "停用自己" in toggle.toolTip()
    assert not unlock.isEnabled() and "未被锁定" in unlock.toolTip()
    assert "重置密码不可用" in page.status.text() and "解锁不可用" in page.status.text()

    def no_confirmation(*_args, **_kw):  # type: ignore[no-untyped-def]
        raise AssertionError("an action the server refuses was put to the clerk")

    monkeypatch.setattr(users_view, "confirm", no_confirmation)
    page.reset_password()  # e.g. the key of a greyed button: refused here, nothing asked
    assert "不能重置自己的密码" in page.status.text()

    activated_user(admin_api, "lm_locked", ["applications:view"])
    for _ in range(5):
        with contextlib.suppress(ApiError):
            ApiClient(admin_api.base_url).login("lm_locked", "wrong")
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.search()
    page.table.view.selectRow(_row_of(page, "lm_locked"))
    assert unlock.isEnabled() and reset.isEnabled() and toggle.isEnabled()
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.unlock()
    # the reload selects the same user again, now with nothing to unlock
    assert page.table.selected().username == "lm_locked"  # type: ignore[union-attr]
    assert not unlock.isEnabled() and "未被锁定" in page.status.text()


def test_users_sort_comes_back_with_the_first_load(qtbot, users_page: UserPage) -> None:  # type: ignore[no-untyped-def]
    page = users_page
    with qtbot.waitSignal(page.loaded, timeout=WAIT):
        page.table.view.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    page.close()
    again = UserPage(page.session)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.loaded, timeout=WAIT):
        pass
    names = [u.username for u in again.model.rows]
    assert len(names) > 1 and names == sorted(names, reverse=True)
    assert again.table.view.horizontalHeader().sortIndicatorSection() == 1


def test_tab_leaves_a_list_for_the_pager_and_back(qtbot, prefs: Preferences) -> None:  # type: ignore[no-untyped-def]
    """Tab from a list goes on to the controls after it, however many cells it has; the arrow
    keys move between the rows (Qt's default walked the cells with Tab and never left)."""
    rows = PagedRows([Column("name", "姓名", "name"), Column("code", "编号", "code")], page_size=20)
    table = PagedTable(rows, "tab-test", prefs)
    qtbot.addWidget(table)
    show_active(qtbot, table)
    rows.fill([SimpleNamespace(name=f"人员{i}", code=str(i)) for i in range(20)], 45)
    table.view.setFocus()
    table.view.setCurrentIndex(table.adapter.index(0, 0))
    qtbot.keyClick(table.view, Qt.Key.Key_Down)
    assert table.view.currentIndex().row() == 1 and table.view.hasFocus()
    qtbot.keyClick(table.view, Qt.Key.Key_Tab)
    assert not table.view.hasFocus()
    assert table.focusWidget() is table.next  # 首页/上一页 are greyed on page one
    qtbot.keyClick(table.next, Qt.Key.Key_Backtab)
    assert table.view.hasFocus()


def test_an_empty_answer_says_so_and_a_list_not_yet_loaded_does_not(
    qtbot, prefs: Preferences
) -> None:  # type: ignore[no-untyped-def]
    rows = PagedRows([Column("name", "姓名", "name")], page_size=20)
    table = PagedTable(rows, "empty-test", prefs)
    qtbot.addWidget(table)
    assert table.info.text() == "共 0 条，第 1/1 页"  # still on its way: not "nothing found"
    rows.fill([], 0)
    assert table.info.text() == "没有符合条件的记录"
    rows.fill([SimpleNamespace(name="张三")], 1)
    assert table.info.text() == "共 1 条，第 1/1 页"
    rows.set_columns([Column("name", "姓名", "name")])  # another box: not fetched yet
    assert not rows.filled
