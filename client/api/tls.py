"""What went wrong in a TLS handshake, in a sentence a clerk can read to the administrator.

``requests`` wraps the ``ssl`` error two or three levels deep; the verification code inside
(OpenSSL's ``X509_V_ERR_*``) tells an untrusted issuer — the usual case, a workstation not yet
given the bureau's CA certificate — from an expired certificate, a wrong address, or a server
that does not speak TLS at all.
"""

import ssl
from urllib.parse import urlsplit

from shared.net import is_loopback

CA_HINT = "sgss-desk --ca-cert 证书文件"
INSECURE_HINT = "sgss-desk --allow-insecure-http"
INSECURE_HTTP = "INSECURE_HTTP"  # the desk's own refusal: nothing was sent

# X509_V_ERR_* codes: the chain does not end at a CA this workstation trusts
_UNTRUSTED = {2, 18, 19, 20, 21, 27}
_BY_CODE = {
    9: "服务器 {url} 的证书尚未生效：请核对本工作站的日期和时间",
    10: "服务器 {url} 的证书已过期：请联系管理员更换服务器证书",
    62: "服务器证书不适用于地址 {host}：请使用证书上的服务器名称或 IP 地址，或联系管理员",
    64: "服务器证书不适用于地址 {host}：请使用证书上的服务器名称或 IP 地址，或联系管理员",
}
_NOT_TLS = "服务器 {url} 没有启用 TLS：请核对地址应以 http:// 还是 https:// 开头"
_BY_REASON = {
    # the server answered in plain HTTP: there is no TLS on the other end
    "WRONG_VERSION_NUMBER": _NOT_TLS,
    "HTTP_REQUEST": _NOT_TLS,
    "RECORD_LAYER_FAILURE": _NOT_TLS,
    # the CA file is there but holds no certificate OpenSSL can read
    "NO_CERTIFICATE_OR_CRL_FOUND": "无法读取本工作站设置的 CA 证书 {ca}：须为 PEM 格式的证书文件",
}


def find(err: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in ``err``'s wrapping (args, urllib3's ``reason``,
    causes and contexts)."""
    pending, seen = [err], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        inner = [*current.args, getattr(current, "reason", None)]
        inner += [current.__cause__, current.__context__]
        pending += [e for e in inner if isinstance(e, BaseException)]
    return None


def tls_message(err: BaseException, base_url: str, ca: str | None) -> str:
    found = find(err, ssl.SSLError)
    code = getattr(found, "verify_code", None)
    reason = getattr(found, "reason", None)
    if code in _UNTRUSTED:
        if ca:
            return (
                f"服务器 {base_url} 的证书不是由本工作站设置的 CA 证书（{ca}）签发："
                "请联系管理员核对服务器证书和 CA 证书"
            )
        return (
            f"服务器 {base_url} 的证书不是由本工作站信任的机构签发："
            f"请由管理员为本工作站设置公安局的 CA 证书（{CA_HINT}）"
        )
    template = _BY_CODE.get(code or 0) or _BY_REASON.get(reason or "")
    if template:
        host = urlsplit(base_url).hostname or base_url
        return template.format(url=base_url, host=host, ca=ca or "")
    detail = getattr(found, "verify_message", None) or reason or err
    return f"与服务器 {base_url} 的安全连接（TLS）失败（{detail}）：请联系管理员核对证书"


def missing_ca_message(ca: str) -> str:
    return f"找不到本工作站设置的 CA 证书文件 {ca}：请由管理员重新设置（{CA_HINT}）"


def plain_http_elsewhere(base_url: str) -> bool:
    """Plain ``http://`` to another machine: the password and every record would cross the
    network unencrypted. Loopback (the embedded demo, a server on this workstation) is not."""
    parts = urlsplit(base_url)
    return parts.scheme.lower() == "http" and not is_loopback(parts.hostname or "")


def insecure_http_message(base_url: str) -> str:
    return (
        f"服务器地址 {base_url} 使用明文 HTTP，登录密码和业务数据将不加密传输，已拒绝连接："
        "请改用 https:// 开头的地址。服务器证书由公安局 CA 签发时，"
        f"请由管理员为本工作站设置 CA 证书（{CA_HINT}）；"
        f"确需在内网使用明文 HTTP 的，由管理员以 {INSECURE_HINT} 启动客户端"
    )
