"""``sgss-server serve`` listens over TLS with the bureau's certificate, and in plain HTTP only on
loopback unless told otherwise. Every refusal comes before the socket is bound: the decision is
``listening.plan``, made first; these tests never bind a public interface (a refused start ends
at once, an allowed one at the schema check of a database never initialised)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from server.cli.listening import ListenError, plan
from server.config import Settings
from shared.net import is_loopback
from tests.tls import TlsFiles, make_tls_files

NOT_MIGRATED = "数据库结构版本为 空"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with no TLS or plain-HTTP setting from the environment."""
    for name in ("SGSS_TLS_CERT", "SGSS_TLS_KEY", "SGSS_ALLOW_PLAIN_HTTP"):
        monkeypatch.delenv(name, raising=False)
    return Settings(database_url="sqlite://")


def _serve(tmp_path: Path, *args: str, **env: str) -> str:
    """``serve`` through the real entry point; returns what it said on stderr."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SGSS_")}
    environ |= {"SGSS_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", **env}
    result = subprocess.run(
        [sys.executable, "-m", "server.cli.main", "serve", "--port", "1", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


def test_serve_refuses_plain_http_off_loopback_before_anything_else(tmp_path: Path) -> None:
    refused = _serve(tmp_path, "--host", "0.0.0.0")
    assert "未配置 TLS 时只能在本机回环地址" in refused and "拒绝在 0.0.0.0 上监听" in refused
    assert "--tls-cert" in refused and "--allow-plain-http" in refused
    assert NOT_MIGRATED not in refused


def test_serve_takes_its_certificate_from_settings(tmp_path: Path, tls: TlsFiles) -> None:
    started = _serve(
        tmp_path, "--host", "0.0.0.0", SGSS_TLS_CERT=str(tls.cert), SGSS_TLS_KEY=str(tls.key)
    )
    assert NOT_MIGRATED in started


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "sgss.gaj.local", "127.example"])
def test_plain_http_is_refused_off_loopback(bare: Settings, host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ListenError, match=f"拒绝在 {host} 上监听"):
        plan(bare, host=host, port=8700)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "::1", "127.0.0.2"])
def test_plain_http_on_loopback_needs_no_permission(bare: Settings, host: str) -> None:
    listener = plan(bare, host=host, port=8700)
    assert listener.certfile is None and listener.notice == ""


def test_plain_http_off_loopback_when_explicitly_allowed(bare: Settings) -> None:
    by_option = plan(bare, host="0.0.0.0", port=8700, allow_plain_http=True)
    by_setting = plan(bare.model_copy(update={"allow_plain_http": True}), host="::", port=1)
    for listener in (by_option, by_setting):
        assert listener.certfile is None and "警告：以明文 HTTP" in listener.notice
    assert by_setting.url == "http://[::]:1"


def test_tls_from_options_or_settings(bare: Settings, tls: TlsFiles) -> None:
    by_options = plan(bare, host="0.0.0.0", port=8700, tls_cert=tls.cert, tls_key=tls.key)
    configured = bare.model_copy(update={"tls_cert": tls.cert, "tls_key": tls.key})
    for listener in (by_options, plan(configured, host="0.0.0.0", port=8700)):
        assert (listener.certfile, listener.keyfile) == (tls.cert, tls.key)
        assert listener.url == "https://0.0.0.0:8700"
        assert "已启用 TLS：证书适用于 localhost, 127.0.0.1，有效期至" in listener.notice


def test_tls_refusals_say_what_is_wrong(bare: Settings, tls: TlsFiles, tmp_path: Path) -> None:
    def refused(cert: Path | None, key: Path | None) -> str:
        with pytest.raises(ListenError) as err:
            plan(bare, host="127.0.0.1", port=8700, tls_cert=cert, tls_key=key)
        return str(err.value)

    assert "TLS 证书和私钥须同时提供" in refused(tls.cert, None)
    assert "TLS 证书和私钥须同时提供" in refused(None, tls.key)
    missing = tmp_path / "missing.pem"
    assert f"TLS 证书文件不存在：{missing}" in refused(missing, tls.key)
    assert f"TLS 私钥文件不存在：{missing}" in refused(tls.cert, missing)
    mismatched = refused(tls.cert, tls.other_key)
    assert "无法加载 TLS 证书" in mismatched and "与证书匹配" in mismatched
    assert "无法加载 TLS 证书" in refused(tls.key, tls.key)  # a key is not a certificate
    encrypted = tmp_path / "encrypted.key"
    key = serialization.load_pem_private_key(tls.key.read_bytes(), None)
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    assert "私钥已加密" in refused(tls.cert, encrypted)  # no prompt on a service's terminal
    expired = make_tls_files(tmp_path / "expired", valid_days=-0.5)
    assert "过期" in refused(expired.cert, expired.key)
