"""An ended session asks for the password again and retries, keeping what was typed."""

from client.api import ApiClient
from client.session import Session
from client.views.reauth import ReauthDialog
from client.views.system.users import UserPage
from tests.client.conftest import STRONG, activated_user
from tests.client.modal import when_modal


def test_expired_session_reauth_keeps_the_form(
    qtbot, context: Session, admin_api: ApiClient
) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "reauth_u", ["orgs:view", "users:view"])
    context.api.login("reauth_u", STRONG)
    context.me = context.api.me()
    page = UserPage(context)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0, timeout=10000)
    page.query.setText("reauth")  # the clerk is in the middle of something

    stolen = ApiClient(context.api.base_url)
    stolen.token = context.api.token
    stolen.logout()  # the server no longer accepts this session
    asked: list[str] = []

    def answer(dialog: ReauthDialog) -> None:
        asked.append(dialog.username.text())
        dialog.password.setText(STRONG)
        dialog._submit()

    when_modal(ReauthDialog, answer)
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.search()
    assert asked == ["reauth_u"]
    assert page.query.text() == "reauth"
    assert [u.username for u in page.model.rows] == ["reauth_u"]
