import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from client.api import ApiClient
from client.jobs.job import Job
from client.session import Session
from client.views.change_password import ChangePasswordDialog
from client.views.main_window import MainWindow
from client.views.sign_in import SignInWindow
from tests.client.conftest import ADMIN, ADMIN_PASSWORD, STRONG, activated_user, new_user


def _sign_in(qtbot, context: Session, username: str, password: str) -> SignInWindow:  # type: ignore[no-untyped-def]
    window = SignInWindow(context)
    qtbot.addWidget(window)
    window.username.setText(username)
    window.password.setText(password)
    return window


def test_success_opens_main_window_with_permitted_menus(qtbot, context, admin_api) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "menu_clerk", ["orgs:view", "users:view", "applications:view"])
    window = _sign_in(qtbot, context, "menu_clerk", STRONG)
    with qtbot.waitSignal(window.signed_in, timeout=10000):
        qtbot.keyClick(window.password, Qt.Key.Key_Return)  # Enter signs in
    main = MainWindow(context)
    qtbot.addWidget(main)
    assert main.menu_labels() == ["待办事项", "通用审批", "系统管理", "机构管理", "用户管理"]
    assert "用户menu_clerk" in main.user_label.text()
    assert context.prefs.username == "menu_clerk"
    page = main.open_page("applications")
    assert "尚未开放" in page.findChild(type(main.user_label), "placeholderNote").text()


def test_user_without_permissions_sees_no_menu(qtbot, context, admin_api) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "bare_clerk", [])
    window = _sign_in(qtbot, context, "bare_clerk", STRONG)
    with qtbot.waitSignal(window.signed_in, timeout=10000):
        window.submit()
    main = MainWindow(context)
    qtbot.addWidget(main)
    assert main.menu_labels() == []


def test_wrong_password_then_lockout_messages(qtbot, context, admin_api) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "lock_clerk", ["orgs:view"])
    window = _sign_in(qtbot, context, "lock_clerk", "wrong")
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=10000)
    assert window.error.text() == "用户名或密码错误"
    for _ in range(4):
        window.password.setText("wrong")
        window.submit()
        qtbot.waitUntil(window.button.isEnabled, timeout=10000)
    assert "账号已被锁定" in window.error.text() and "15分钟" in window.error.text()


def test_unknown_username_reads_exactly_like_a_wrong_password(qtbot, context) -> None:  # type: ignore[no-untyped-def]
    window = _sign_in(qtbot, context, "no_such_clerk", "wrong")
    for _ in range(4):
        window.password.setText("wrong")
        window.submit()
        qtbot.waitUntil(window.button.isEnabled, timeout=10000)
        assert window.error.text() == "用户名或密码错误"
    window.password.setText("wrong")
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=10000)
    assert "账号已被锁定" in window.error.text() and "15分钟" in window.error.text()


def test_unreachable_server_message(qtbot, context) -> None:  # type: ignore[no-untyped-def]
    window = _sign_in(qtbot, context, ADMIN, ADMIN_PASSWORD)
    window.server.setText("http://127.0.0.1:9")
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=15000)
    assert "无法连接服务器" in window.error.text()


def test_forced_change_on_first_sign_in(qtbot, context, admin_api) -> None:  # type: ignore[no-untyped-def]
    one_time = new_user(admin_api, "first_timer", ["orgs:view"])
    window = _sign_in(qtbot, context, "first_timer", one_time)

    def fill_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ChangePasswordDialog):
            QTimer.singleShot(50, fill_dialog)
            return
        dialog.new.setText("first_timer1")  # breaks the username rule
        assert not dialog.ok_button.isEnabled()
        assert "✗ 不能与用户名相同或包含用户名" in dialog.rules.text()
        dialog.new.setText(STRONG)
        dialog.repeat.setText(STRONG + "x")
        assert "不一致" in dialog.rules.text()
        dialog.repeat.setText(STRONG)
        assert dialog.ok_button.isEnabled()
        dialog.submit()

    QTimer.singleShot(50, fill_dialog)
    with qtbot.waitSignal(window.signed_in, timeout=20000):
        window.submit()
    assert context.me is not None and context.me.must_change_password is False
    ApiClient(context.api.base_url).login("first_timer", STRONG)


def test_remember_me_keeps_a_token_not_the_password(
    qtbot, context, admin_api, memory_keyring
) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "keeper", ["orgs:view"])
    window = _sign_in(qtbot, context, "keeper", STRONG)
    window.remember.setChecked(True)
    with qtbot.waitSignal(window.signed_in, timeout=10000):
        window.submit()
    stored = list(memory_keyring.store.values())
    assert stored == [context.api.token]
    assert STRONG not in stored


def test_remembered_session_resumes_and_a_dead_one_is_forgotten(
    qtbot, context, admin_api, memory_keyring
) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "returner", ["orgs:view"])
    first = _sign_in(qtbot, context, "returner", STRONG)
    first.remember.setChecked(True)
    with qtbot.waitSignal(first.signed_in, timeout=10000):
        first.submit()
    token = context.api.token
    context.me = None

    again = SignInWindow(context)  # the next start of the client on this workstation
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.signed_in, timeout=10000):
        again.try_remembered()
    assert context.me is not None and context.me.username == "returner"
    assert context.api.token == token

    revoked = ApiClient(context.api.base_url)
    revoked.token = token
    revoked.logout()
    third = SignInWindow(context)
    qtbot.addWidget(third)
    third.try_remembered()
    qtbot.waitUntil(lambda: "已失效" in third.error.text(), timeout=10000)
    assert memory_keyring.store == {}


class Hold(Job):
    """Work that lasts until the test releases it."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release

    def run(self) -> bool:
        return self.release.wait(10)


def test_busy_indicator_follows_running_jobs(qtbot, context, admin_api) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "busy_u", ["orgs:view"])
    context.api.login("busy_u", STRONG)
    context.me = context.api.me()
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.show()
    release = threading.Event()
    results: list[object] = []
    context.runner.submit(Hold(release), results.append)
    qtbot.waitUntil(main.busy.isVisible, timeout=5000)
    assert main.cancel.isVisible()
    main.cancel.click()  # the result of a cancelled job is dropped
    qtbot.waitUntil(lambda: not main.busy.isVisible(), timeout=5000)
    release.set()
    assert context.runner.wait(5000)
    assert results == []


def test_tls_failure_message(qtbot, context, server) -> None:  # type: ignore[no-untyped-def]
    window = _sign_in(qtbot, context, ADMIN, ADMIN_PASSWORD)
    window.server.setText(server.replace("http://", "https://"))  # TLS spoken to a plain server
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=15000)
    assert "没有启用 TLS：请核对地址应以 http:// 还是 https:// 开头" in window.error.text()


def test_the_start_page_is_the_inbox_or_else_the_first_of_the_menu(  # type: ignore[no-untyped-def]
    qtbot, context, admin_api
) -> None:
    activated_user(admin_api, "start_clerk", ["orgs:view", "applications:view"])
    context.api.login("start_clerk", STRONG)
    context.me = context.api.me()
    clerk = MainWindow(context)
    qtbot.addWidget(clerk)
    clerk.open_start_page()
    assert clerk.nav.currentItem().text(0) == "通用审批"
    assert clerk.stack.currentWidget() is clerk.pages["applications"]

    activated_user(admin_api, "start_admin", ["orgs:view", "users:view"])
    context.api.login("start_admin", STRONG)
    context.me = context.api.me()
    admin = MainWindow(context)
    qtbot.addWidget(admin)
    admin.open_start_page()
    assert admin.nav.currentItem().text(0) == "机构管理"

    activated_user(admin_api, "start_none", [])
    context.api.login("start_none", STRONG)
    context.me = context.api.me()
    bare = MainWindow(context)
    qtbot.addWidget(bare)
    bare.open_start_page()  # nothing to open, nothing fails
    assert bare.pages == {}
