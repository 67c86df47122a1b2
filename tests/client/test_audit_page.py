import pytest

from client.api import ApiClient
from client.session import Session
from client.views.system.audit import AuditPage


@pytest.mark.machine_zones
def test_audit_page_lists_and_filters(qtbot, context: Session, admin_api: ApiClient) -> None:  # type: ignore[no-untyped-def]
    context.api.login("root", "Adm1n#Sgss!")
    context.me = context.api.me()
    page = AuditPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    table = page.table.adapter  # what the clerk sees in the column
    actions = {table.data(table.index(r, 2)) for r in range(table.rowCount())}
    assert "登录" in actions
    page.action.setCurrentIndex(page.action.findData("auth.login"))
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search()
    assert {row.action for row in page.model.rows} == {"auth.login"}
    page.since.setDate(page.since.date().addYears(-10))
    page.until.setDate(page.since.date())  # a day long ago: nothing
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search()
    assert page.model.total == 0


def test_audit_page_reads_in_chinese_and_refreshes_when_shown_again(
    qtbot, context: Session, admin_api: ApiClient
) -> None:  # type: ignore[no-untyped-def]
    from shared.audit_actions import AuditAction, AuditEntity

    context.api.login("root", "Adm1n#Sgss!")
    context.me = context.api.me()
    page = AuditPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    # every catalogue action and object type can be chosen, by its Chinese label
    offered = {page.action.itemData(i) for i in range(1, page.action.count())}
    assert offered == {a.value for a in AuditAction}
    assert page.action.itemText(page.action.findData("application.approve")) == "审批同意"
    assert page.entity.count() == len(AuditEntity) + 1
    table = page.table.adapter  # what the clerk sees in the column
    types = {table.data(table.index(r, 3)) for r in range(table.rowCount())}
    assert "用户" in types and "user" not in types
    seqs = [row.seq for row in page.model.rows]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    page.show()
    qtbot.waitExposed(page)
    before = page.model.total
    context.api.logout()
    context.api.login("root", "Adm1n#Sgss!")  # two more records meanwhile
    page.hide()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.show()
    assert page.model.total > before
