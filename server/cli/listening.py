"""Where and how ``sgss-server serve`` listens: HTTPS with the bureau's certificate, or plain HTTP
on loopback only (the desk's embedded server, or behind a local reverse proxy).

Every decision is made before anything binds a socket, so a mistake in the settings is a clear
Chinese sentence at start-up — never a server that answers passwords in clear text on the
intranet, nor one that starts and then fails every desk's handshake.
"""

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from server.config import Settings
from shared.net import is_loopback

# On a stop, a desk's idle keep-alive TLS connection is closed with a close_notify that its peer,
# idle, never answers, and the TLS layer waits 30 s for it: a service stop would take that long.
# Requests still running after this are cancelled (their transactions roll back); the API's own
# requests take milliseconds.
GRACEFUL_SHUTDOWN_SECONDS = 5

TLS_HINT = "用 --tls-cert 与 --tls-key（或 SGSS_TLS_CERT 与 SGSS_TLS_KEY）指定证书和私钥"


class ListenError(Exception):
    """A setting that must not be served; the message is for the administrator."""


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    certfile: Path | None = None
    keyfile: Path | None = None
    notice: str = ""  # one line for the administrator: the certificate in use, or a warning

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def plan(
    settings: Settings,
    *,
    host: str,
    port: int,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    allow_plain_http: bool = False,
) -> Listener:
    """The listener ``serve`` should open; options win over settings. Raises
    :class:`ListenError`."""
    cert, key = tls_cert or settings.tls_cert, tls_key or settings.tls_key
    if cert is not None or key is not None:
        if cert is None or key is None:
            raise ListenError(f"TLS 证书和私钥须同时提供：{TLS_HINT}")
        return Listener(host, port, cert, key, notice=_check_certificate(cert, key))
    if is_loopback(host):
        return Listener(host, port)
    if not (allow_plain_http or settings.allow_plain_http):
        raise ListenError(
            f"未配置 TLS 时只能在本机回环地址（127.0.0.1、::1、localhost）上提供明文 HTTP 服务，"
            f"拒绝在 {host} 上监听：请{TLS_HINT}；只有在前端另有 HTTPS 代理时，才可用 "
            "--allow-plain-http（或 SGSS_ALLOW_PLAIN_HTTP=true）明确允许明文 HTTP"
        )
    return Listener(
        host, port, notice=f"警告：以明文 HTTP 在 {host} 上提供服务，密码和数据未加密传输"
    )


def _check_certificate(cert: Path, key: Path) -> str:
    for label, path in (("证书", cert), ("私钥", key)):
        if not path.is_file():
            raise ListenError(f"TLS {label}文件不存在：{path}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # an encrypted key would make OpenSSL prompt on a terminal a service does not have
        context.load_cert_chain(cert, key, password=_no_password)
    except (ssl.SSLError, OSError, ValueError) as err:
        raise ListenError(
            f"无法加载 TLS 证书 {cert} 和私钥 {key}：{err}（须为 PEM 格式，私钥不加密且与证书匹配）"
        ) from None
    leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    now = datetime.now(UTC)
    until = leaf.not_valid_after_utc
    if now > until:
        raise ListenError(f"TLS 证书 {cert} 已于 {until:%Y-%m-%d} 过期，请更换证书")
    if now < leaf.not_valid_before_utc:
        raise ListenError(
            f"TLS 证书 {cert} 自 {leaf.not_valid_before_utc:%Y-%m-%d} 起才生效，请核对本机时间"
        )
    names = ", ".join(_names(leaf)) or "（无名称）"
    return f"已启用 TLS：证书适用于 {names}，有效期至 {until:%Y-%m-%d}"


def _no_password() -> bytes:
    raise ValueError("私钥已加密")


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    names: list[str] = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names
