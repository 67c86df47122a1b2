"""The desk talks to a real ``sgss-server serve`` over TLS with a certificate signed by the
bureau's own CA — once the workstation is given that CA — and says clearly, in Chinese, what is
wrong when it is not."""

import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from client.api import ApiClient, ApiError
from client.api.errors import TLS_FAILURE, from_transport
from client.embedded import free_port
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.sign_in import SignInWindow
from tests.served import ADMIN, ADMIN_PASSWORD, CHEAP_ARGON, init_with_admin
from tests.tls import TlsFiles, make_tls_files

UNTRUSTED = " 的证书不是由本工作站信任的机构签发：请由管理员为本工作站设置公安局的 CA 证书"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, tls: TlsFiles) -> Iterator[str]:
    """``sgss-server serve --tls-cert --tls-key`` on loopback, with an administrator."""
    db = tmp_path_factory.mktemp("tls-server") / "sgss.db"
    env = {**os.environ, **CHEAP_ARGON, "SGSS_DATABASE_URL": f"sqlite:///{db}"}
    init_with_admin(f"sqlite:///{db}")  # what init-db and create-admin do, in this process
    cli = [sys.executable, "-m", "server.cli.main"]
    port = free_port()
    serve = [*cli, "serve", "--port", str(port), "--tls-cert", str(tls.cert)]
    process = subprocess.Popen(
        [*serve, "--tls-key", str(tls.key)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the TLS server did not start"
            try:
                requests.get(f"{url}/api/v1/health", verify=str(tls.ca), timeout=1)
                break
            except requests.ConnectionError as err:
                assert not isinstance(err, requests.exceptions.SSLError), err
                assert time.monotonic() < deadline, "the TLS server did not answer"
                time.sleep(0.2)
        yield url
    finally:
        # promptly, though the desks' clients here keep idle TLS connections open
        stopping = time.monotonic()
        process.terminate()
        process.wait(30)
        assert time.monotonic() - stopping < 15, "serve took too long to stop"


def _refusal(api: ApiClient) -> ApiError:
    with pytest.raises(ApiError) as refused:
        api.health()
    return refused.value


def test_the_desk_signs_in_over_tls_with_the_bureau_ca(tls_server: str, tls: TlsFiles) -> None:
    api = ApiClient(tls_server, verify=str(tls.ca))
    assert api.health().status == "ok"
    api.login(ADMIN, ADMIN_PASSWORD)
    assert api.me().username == ADMIN


def test_without_the_bureau_ca_the_server_is_not_trusted(tls_server: str) -> None:
    refused = _refusal(ApiClient(tls_server))
    assert refused.code == TLS_FAILURE
    assert refused.message == f"服务器 {tls_server}{UNTRUSTED}（sgss-desk --ca-cert 证书文件）"


def test_a_ca_that_did_not_sign_the_server_is_named(tls_server: str, tmp_path: Path) -> None:
    other = make_tls_files(tmp_path / "other").ca
    refused = _refusal(ApiClient(tls_server, verify=str(other)))
    assert refused.code == TLS_FAILURE
    assert f"的证书不是由本工作站设置的 CA 证书（{other}）签发" in refused.message


def test_a_missing_or_unreadable_ca_file_is_named(
    tls_server: str, tls: TlsFiles, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.pem"
    refused = _refusal(ApiClient(tls_server, verify=str(missing)))
    assert refused.code == TLS_FAILURE
    assert refused.message == (
        f"找不到本工作站设置的 CA 证书文件 {missing}："
        "请由管理员重新设置（sgss-desk --ca-cert 证书文件）"
    )
    unreadable = _refusal(ApiClient(tls_server, verify=str(tls.key)))  # a key, not a certificate
    assert (
        unreadable.message == f"无法读取本工作站设置的 CA 证书 {tls.key}：须为 PEM 格式的证书文件"
    )


def test_the_wrong_scheme_either_way_is_explained(tls_server: str) -> None:
    plain_to_tls = _refusal(ApiClient(tls_server.replace("https://", "http://")))
    assert "若服务器已启用 TLS，地址应以 https:// 开头" in plain_to_tls.message

    class Plain(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    plain = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{plain.server_address[1]}"
        tls_to_plain = _refusal(ApiClient(url))
    finally:
        plain.shutdown()
        plain.server_close()
    assert tls_to_plain.code == TLS_FAILURE
    assert tls_to_plain.message == (
        f"服务器 {url} 没有启用 TLS：请核对地址应以 http:// 还是 https:// 开头"
    )


@pytest.mark.parametrize(
    ("verify_code", "expected"),
    [
        (10, "服务器 https://sgss.gaj:8700 的证书已过期：请联系管理员更换服务器证书"),
        (9, "服务器 https://sgss.gaj:8700 的证书尚未生效：请核对本工作站的日期和时间"),
        (62, "服务器证书不适用于地址 sgss.gaj：请使用证书上的服务器名称或 IP 地址，或联系管理员"),
    ],
)
def test_certificate_faults_each_have_their_sentence(verify_code: int, expected: str) -> None:
    """As ``requests`` wraps them (urllib3's error around ``ssl``'s)."""
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_code = verify_code
    wrapped = requests.exceptions.SSLError(requests.exceptions.SSLError(cause))
    error = from_transport(wrapped, "https://sgss.gaj:8700")
    assert (error.code, error.message) == (TLS_FAILURE, expected)


def test_sign_in_uses_the_workstation_ca_setting(
    qtbot, tls_server: str, tls: TlsFiles, prefs: Preferences
) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    context = Session(ApiClient("http://127.0.0.1:9"), runner, prefs)
    window = SignInWindow(context)
    qtbot.addWidget(window)
    window.server.setText(tls_server)
    window.username.setText(ADMIN)
    window.password.setText(ADMIN_PASSWORD)
    window.submit()
    qtbot.waitUntil(window.button.isEnabled, timeout=10000)
    assert UNTRUSTED in window.error.text()

    prefs.ca_certificate = str(tls.ca)
    context.api = ApiClient("http://127.0.0.1:9")  # a new address: a new client, with the CA
    with qtbot.waitSignal(window.signed_in, timeout=10000):
        window.submit()
    assert context.me is not None and context.me.username == ADMIN
    assert context.api.ca_file == str(tls.ca)
    runner.cancel_all()
    runner.wait(10000)


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sgss-desk --check`` with its own empty settings folder."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "client.main", "--check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_check_reports_tls_clearly(tls_server: str, tls: TlsFiles, tmp_path: Path) -> None:
    trusted = _check(tmp_path, "--server", tls_server, "--ca-cert", str(tls.ca))
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert f"；TLS 证书已校验（CA 证书 {tls.ca}）" in trusted.stdout
    untrusted = _check(tmp_path, "--server", tls_server)
    assert untrusted.returncode == 1
    assert f"[失败] 服务器：服务器 {tls_server}{UNTRUSTED}" in untrusted.stdout
