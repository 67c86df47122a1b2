import contextlib

import pytest
from PySide6.QtCore import Qt

from client.api import ApiClient, ApiError
from client.jobs.api_jobs import LoadOrgs
from client.session import Session
from client.views.system.user_dialog import OneTimePasswordDialog, UserDialog
from client.views.system.users import UserPage
from shared.enums import ApprovalRole, BusinessType
from tests.client.conftest import STRONG, activated_user
from tests.client.modal import agree_to_confirmations, when_modal

# applications:approve: granting an approval role is granting it (one may grant only what one holds)
MANAGER = ["orgs:view", "users:view", "users:create", "users:update", "users:reset_password",
           "users:unlock", "roles:view", "applications:view", "applications:approve"]  # fmt: skip


@pytest.fixture
def page(qtbot, context: Session, admin_api: ApiClient, request) -> UserPage:  # type: ignore[no-untyped-def]
    username = f"uadm_{request.node.name[-10:].strip('_[]')}"
    activated_user(admin_api, username, MANAGER)
    context.api.login(username, STRONG)
    context.me = context.api.me()
    page = UserPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    return page


def _shown(page: UserPage, row: int, column: int) -> str:
    """The text the clerk sees in that cell."""
    table = page.table.adapter
    return str(table.data(table.index(row, column)))


def _find(page: UserPage, username: str) -> int:
    for row, user in enumerate(page.model.rows):
        if user.username == username:
            return row
    raise AssertionError(username)


def test_create_user_shows_one_time_password_once(qtbot, page: UserPage) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []

    def fill(dialog: UserDialog) -> None:
        dialog.username.setText("new_clerk")
        dialog.name.setText("新民警")
        dialog.mobile.setText("13912345678")
        dialog.id_number.setText("11010519491231002x")
        dialog.approval[BusinessType.guard_exam_enrolment].setCurrentIndex(
            dialog.approval[BusinessType.guard_exam_enrolment].findData(ApprovalRole.county_clerk)
        )
        dialog._check_and_accept()

    def read_password(dialog: OneTimePasswordDialog) -> None:
        shown.append(dialog.password.text())
        dialog.accept()

    when_modal(UserDialog, fill)
    with qtbot.waitSignal(page.changed, timeout=15000):
        when_modal(OneTimePasswordDialog, read_password)
        page.add()
    assert len(shown) == 1 and len(shown[0]) == 12
    qtbot.waitUntil(lambda: any(u.username == "new_clerk" for u in page.model.rows), timeout=10000)
    row = page.model.rows[_find(page, "new_clerk")]
    assert row.id_number == "110105********002X"  # masked: no users:view_sensitive
    ApiClient(page.session.api.base_url).login("new_clerk", shown[0])


def test_dialog_requires_a_role(qtbot, page: UserPage) -> None:  # type: ignore[no-untyped-def]
    dialog = UserDialog(1, "浙江省公安厅", [], parent=page)
    qtbot.addWidget(dialog)
    dialog.username.setText("x_user")
    dialog.name.setText("某")
    dialog.mobile.setText("13912345678")
    dialog.id_number.setText("110105194912310021")
    dialog._check_and_accept()
    assert "校验位" in dialog.error.text()
    assert "至少选一个" in dialog.error.text()
    assert dialog.result() == 0


def test_reset_unlock_and_disable(qtbot, page: UserPage, admin_api: ApiClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "target_u", ["applications:view"])
    for _ in range(5):
        with contextlib.suppress(ApiError):
            ApiClient(admin_api.base_url).login("target_u", "wrong")
    page.search()
    qtbot.waitUntil(lambda: any(u.username == "target_u" for u in page.model.rows), timeout=10000)
    row = _find(page, "target_u")
    assert _shown(page, row, 0) == "已锁定"
    page.table.view.selectRow(row)
    with qtbot.waitSignal(page.changed, timeout=10000):
        page.unlock()
    qtbot.waitUntil(
        lambda: _shown(page, _find(page, "target_u"), 0) == "正常",
        timeout=10000,
    )

    agree_to_confirmations(monkeypatch)
    page.table.view.selectRow(_find(page, "target_u"))
    before = page.model.rows[_find(page, "target_u")].version
    when_modal(OneTimePasswordDialog, lambda d: d.accept())
    with qtbot.waitSignal(page.changed, timeout=10000) as reset:
        page.reset_password()
    ApiClient(admin_api.base_url).login("target_u", reset.args[0].initial_password)

    qtbot.waitUntil(  # the list reloads after the reset, with the new version
        lambda: page.model.rows[_find(page, "target_u")].version > before, timeout=10000
    )
    page.table.view.selectRow(_find(page, "target_u"))
    with qtbot.waitSignal(page.changed, timeout=10000):
        page.toggle_enabled()
    qtbot.waitUntil(
        lambda: _shown(page, _find(page, "target_u"), 0) == "已停用",
        timeout=10000,
    )


def test_search_and_sort(qtbot, page: UserPage) -> None:  # type: ignore[no-untyped-def]
    page.query.setText("uadm_")
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search()
    assert page.model.rows and all("uadm_" in u.username for u in page.model.rows)
    page.query.clear()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.table.view.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    names = [u.username for u in page.model.rows]
    assert names == sorted(names, reverse=True)


def test_dialog_offers_only_roles_the_org_may_hold(
    qtbot, page: UserPage, admin_api: ApiClient
) -> None:  # type: ignore[no-untyped-def]
    from shared.schemas.orgs import OrgCreate
    from shared.schemas.roles import DataScope, RoleCreate

    root = admin_api.me().org_id
    city = admin_api.create_org(
        OrgCreate(
            name="衢州市公安局",
            parent_id=root,
            type="city_bureau",
            region_code="330800",
        )
    )
    admin_api.create_role(
        RoleCreate(
            name="衢州专用",
            org_id=city.id,
            permissions=[],
            data_scope=DataScope(kind="own_org"),
        )
    )
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.session.run(LoadOrgs(), lambda orgs: (page.tree.fill(orgs, root), page.loaded.emit()))
    offered: list[str] = []

    def look(dialog: UserDialog) -> None:
        offered.extend(dialog.roles.item(i).text() for i in range(dialog.roles.count()))
        dialog.reject()

    when_modal(UserDialog, look)
    page.add()
    qtbot.waitUntil(lambda: bool(offered), timeout=10000)
    assert not any("衢州专用" in text for text in offered)
    assert any(text.startswith("角色uadm_") for text in offered)


def test_export_writes_every_matching_user_to_xlsx(qtbot, page: UserPage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    page.subtree.setChecked(True)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    target = tmp_path / "users.xlsx"
    with qtbot.waitSignal(page.exported, timeout=15000):
        page.export_to(target)
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("状态", "用户名", "姓名")
    assert len(rows) - 1 == page.model.total
    assert all("*" in (row[5] or "*") for row in rows[1:])  # ID numbers stay masked
    assert "已导出" in page.status.text()


def test_dialog_says_in_chinese_what_the_schema_refuses(qtbot, page: UserPage) -> None:  # type: ignore[no-untyped-def]
    """A name of invisible characters only (pasted from a web page) is empty once they are
    dropped: said in the dialog, which stays open."""
    dialog = UserDialog(1, "浙江省公安厅", [], parent=page)
    qtbot.addWidget(dialog)
    dialog.username.setText("x_user")
    dialog.name.setText("\u200b\u200b")
    dialog.mobile.setText("13912345678")
    dialog.approval[BusinessType.company_licence].setCurrentIndex(1)
    dialog._check_and_accept()
    assert dialog.error.text() == "姓名：长度不足"
    assert dialog.result() == 0
