import pytest
from PySide6.QtCore import Qt

from client.api import ApiClient
from client.session import Session
from client.views.system.orgs import OrgPage
from tests.client.conftest import STRONG, activated_user
from tests.client.modal import agree_to_confirmations


@pytest.fixture
def page(qtbot, context: Session, admin_api: ApiClient, request) -> OrgPage:  # type: ignore[no-untyped-def]
    username = f"orgadm_{request.node.name[-12:].strip('_')}"
    activated_user(admin_api, username, ["orgs:view", "orgs:create", "orgs:update", "orgs:delete"])
    context.api.login(username, STRONG)
    context.me = context.api.me()
    page = OrgPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.tree.topLevelItemCount() == 1, timeout=10000)
    return page


def _select(page: OrgPage, name: str) -> None:
    items = page.tree.findItems(name, Qt.MatchFlag.MatchRecursive)
    assert items, name
    page.tree.setCurrentItem(items[0])


def test_add_edit_delete_org(qtbot, page: OrgPage, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _select(page, "浙江省公安厅")
    page.start_add()
    assert page.parent_label.text() == "浙江省公安厅"
    page.name.setText("嘉兴市公安局")
    page.type.setCurrentIndex(page.type.findData("city_bureau"))
    regions = [page.region.itemData(i) for i in range(page.region.count())]
    assert "330400" in regions and "330102" not in regions  # only prefecture level inside 浙江
    page.region.setCurrentIndex(page.region.findData("330400"))
    page.phone.setText("0573-82000000")
    with qtbot.waitSignal(page.saved, timeout=10000) as saved:
        page.save()
    assert saved.args[0].region_name == "浙江省嘉兴市"
    qtbot.waitUntil(
        lambda: page.current is not None and page.current.name == "嘉兴市公安局", timeout=10000
    )

    page.address.setText("嘉兴市南湖区")
    with qtbot.waitSignal(page.saved, timeout=10000) as saved:
        page.save()
    assert saved.args[0].address == "嘉兴市南湖区" and saved.args[0].version == 2

    agree_to_confirmations(monkeypatch)
    qtbot.waitUntil(lambda: page.current is not None and page.current.version == 2, timeout=10000)
    with qtbot.waitSignal(page.deleted, timeout=10000):
        page.delete()
    qtbot.waitUntil(
        lambda: not page.tree.findItems("嘉兴市公安局", Qt.MatchFlag.MatchRecursive), timeout=10000
    )


def test_server_refusal_is_shown(qtbot, page: OrgPage, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _select(page, "浙江省公安厅")
    page.start_add()
    page.name.setText("湖州市公安局")
    page.type.setCurrentIndex(page.type.findData("city_bureau"))
    page.region.setCurrentIndex(page.region.findData("330500"))
    with qtbot.waitSignal(page.saved, timeout=10000):
        page.save()
    qtbot.waitUntil(
        lambda: page.current is not None and page.current.name == "湖州市公安局", timeout=10000
    )
    _select(page, "浙江省公安厅")
    page.start_add()
    page.name.setText("湖州市公安局")  # a sibling of the same name
    page.type.setCurrentIndex(page.type.findData("city_bureau"))
    page.region.setCurrentIndex(page.region.findData("330500"))
    page.save()
    qtbot.waitUntil(lambda: "同名机构" in page.status.text(), timeout=10000)
    assert page.name.text() == "湖州市公安局"  # the form keeps what was typed


def test_a_name_the_schema_refuses_is_said_in_chinese_and_nothing_is_sent(  # type: ignore[no-untyped-def]
    qtbot, page: OrgPage
) -> None:
    """Two Excel cells pasted into 机构名称 bring a tab along: the desk's own copy of the
    server's schema refuses it, and the clerk reads why instead of a button that does nothing."""
    _select(page, "浙江省公安厅")
    page.start_add()
    page.name.setText("丽水市\t公安局")
    page.type.setCurrentIndex(page.type.findData("city_bureau"))
    page.region.setCurrentIndex(page.region.findData("331100"))
    page.save()
    assert page.status.text() == "机构名称：不能包含换行、制表符等控制字符"
    assert not page.tree.findItems("丽水市\t公安局", Qt.MatchFlag.MatchRecursive)
    assert page.name.text() == "丽水市\t公安局"  # the form keeps what was typed
