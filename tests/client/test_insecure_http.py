"""Plain http:// to another machine is refused before anything is sent (the password would cross
the network unencrypted) unless an administrator allowed it (``--allow-insecure-http``, a
workstation setting); loopback over http (the embedded demo) stays allowed."""

import time

import pytest
from PySide6.QtCore import QSettings

from client.api import ApiClient, ApiError
from client.api.tls import INSECURE_HTTP, plain_http_elsewhere
from client.main import parse
from client.preferences import Preferences
from client.session import Session
from client.views.sign_in import SignInWindow
from tests.client.conftest import ADMIN, ADMIN_PASSWORD

ELSEWHERE = "http://192.0.2.10:8700"  # TEST-NET-1: nothing should ever be sent there


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://127.0.0.1:8700", False),
        ("http://localhost:8700", False),
        ("http://[::1]:8700", False),
        ("HTTP://LOCALHOST:8700", False),
        ("https://sgss.gaj.example:8443", False),
        ("http://10.33.1.20:8700", True),
        ("http://sgss.gaj.example", True),
        ("http://127.0.0.1.example.com", True),  # a name may resolve anywhere
    ],
)
def test_which_addresses_are_plain_http_elsewhere(url: str, refused: bool) -> None:
    assert plain_http_elsewhere(url) is refused


def test_sign_in_refuses_plain_http_to_another_machine(qtbot, context: Session) -> None:  # type: ignore[no-untyped-def]
    window = SignInWindow(context)
    qtbot.addWidget(window)
    window.server.setText(ELSEWHERE)
    window.username.setText(ADMIN)
    window.password.setText(ADMIN_PASSWORD)
    started = time.monotonic()
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=10000)
    assert time.monotonic() - started < 3  # refused here, no connection tried
    message = window.error.text()
    assert "明文 HTTP" in message and "https://" in message
    assert "sgss-desk --ca-cert" in message and "--allow-insecure-http" in message
    assert context.api.token is None


def test_loopback_over_http_signs_in(qtbot, context: Session) -> None:  # type: ignore[no-untyped-def]
    window = SignInWindow(context)
    qtbot.addWidget(window)
    window.server.setText(context.api.base_url.replace("127.0.0.1", "localhost"))
    window.username.setText(ADMIN)
    window.password.setText(ADMIN_PASSWORD)
    with qtbot.waitSignal(window.signed_in, timeout=10000):
        window.submit()
    assert context.me is not None and context.me.username == ADMIN


def test_an_administrator_may_allow_plain_http(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as refused:
        ApiClient(ELSEWHERE, timeout=0.5).health()
    assert refused.value.code == INSECURE_HTTP
    # allowed, the desk does try (and here finds nobody: a network error, not a refusal)
    with pytest.raises(ApiError) as tried:
        ApiClient("http://192.0.2.1:9", timeout=0.5, allow_insecure_http=True).health()
    assert tried.value.code in {"NETWORK_UNREACHABLE", "NETWORK_TIMEOUT"}
    # the workstation setting, as ``sgss-desk --allow-insecure-http`` saves it, reaches the client
    prefs = Preferences(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat))
    assert prefs.allow_insecure_http is False
    assert parse(["--allow-insecure-http"]).allow_insecure_http is True
    assert parse(["--no-allow-insecure-http"]).allow_insecure_http is False
    assert parse([]).allow_insecure_http is None  # not given: the saved setting stands
    prefs.allow_insecure_http = True
    session = Session(None, runner=None, prefs=prefs)  # type: ignore[arg-type]
    assert session.connect(ELSEWHERE).allow_insecure_http is True
