"""修改密码 verifies the clerk's mobile (操作手册 1.2): 获取验证码 sends an SMS code and counts down
before it can be pressed again, the change goes with the code, and a wrong code or a request too
soon shows the server's own Chinese message. The server runs with its development sender (the
SMS is written to the log and stays in the notification outbox), where the test reads the code."""

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.api import ApiClient
from client.session import Session
from client.views.change_password import ChangePasswordDialog
from tests.client.conftest import STRONG, activated_user
from tests.served import serve_with_admin

INTERVAL = 2  # seconds between two codes, so the countdown ends within the test
NEW = "Baochu#Tower8"
WAIT = 10000


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "sgss.db"


@pytest.fixture(scope="module")
def server(database: Path) -> Iterator[str]:
    """This module's own server: its database is where the test reads the SMS."""
    env = {"SGSS_VERIFICATION_CODE_INTERVAL_SECONDS": str(INTERVAL)}
    yield from serve_with_admin(f"sqlite:///{database}", env)


def last_code(database: Path, user_id: int) -> str:
    with sqlite3.connect(database) as db:
        (body,) = db.execute(
            "SELECT body FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 1",
            (user_id,),
        ).fetchone()
    found = re.search(r"验证码(\d{6})", body)
    assert found, body
    return found.group(1)


def test_change_password_with_the_sms_code(
    qtbot, context: Session, admin_api: ApiClient, database: Path
) -> None:  # type: ignore[no-untyped-def]
    activated_user(admin_api, "sms_clerk", ["orgs:view"])
    context.api.login("sms_clerk", STRONG)
    me = context.me = context.api.me()
    # a code asked for a moment ago (another window): the server says when to ask again
    context.api.send_verification_code()

    dialog = ChangePasswordDialog(context, "sms_clerk")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.code.isVisibleTo(dialog) and not dialog.old.isVisibleTo(dialog)
    dialog.new.setText(NEW)
    dialog.repeat.setText(NEW)
    assert not dialog.ok_button.isEnabled()  # no code yet

    dialog.send_button.click()
    qtbot.waitUntil(lambda: "过于频繁" in dialog.error.text(), timeout=WAIT)
    assert re.search(r"请\d秒后再试", dialog.error.text())  # the server's message, as it is
    qtbot.waitUntil(dialog.send_button.isEnabled, timeout=WAIT)
    assert dialog.send_button.text() == "获取验证码"

    dialog.send_button.click()
    qtbot.waitUntil(lambda: "已发送至 138****5678" in dialog.sent_note.text(), timeout=WAIT)
    assert not dialog.send_button.isEnabled()
    assert re.fullmatch(r"重新获取（\d秒）", dialog.send_button.text())
    code = last_code(database, me.id)

    wrong = "000000" if code != "000000" else "111111"
    dialog.code.setText(wrong)
    assert dialog.ok_button.isEnabled()
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.text() == "验证码错误或已过期", timeout=WAIT)
    assert dialog.result() != ChangePasswordDialog.DialogCode.Accepted
    # the countdown ends: another code may be asked for
    qtbot.waitUntil(dialog.send_button.isEnabled, timeout=WAIT)
    assert dialog.send_button.text() == "获取验证码"

    dialog.code.setText(code)
    dialog.submit()
    qtbot.waitUntil(
        lambda: dialog.result() == ChangePasswordDialog.DialogCode.Accepted, timeout=WAIT
    )
    assert dialog.new_password == NEW
    ApiClient(context.api.base_url).login("sms_clerk", NEW)
