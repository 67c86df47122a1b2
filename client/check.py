"""``sgss-desk --check``: what an installer or a support call runs on a workstation."""

from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtWidgets import QApplication

from client.api import ApiClient, ApiError
from shared.net import is_loopback


def _resources() -> str:
    from client.resources import stylesheet
    from shared.regions import region_table

    stylesheet()
    return f"样式表与区划代码表（{region_table().vintage}年版，{len(region_table())}条）"


def _cjk_font() -> str:
    from client.resources import cjk_font_choice

    family, shipped = cjk_font_choice()
    if family is None:
        raise RuntimeError("没有可显示简体中文的字体，中文将显示为方框")
    return f"中文字体：{family}" + ("（随软件附带）" if shipped else "")


def _drivers() -> str:
    import serial

    import drivers  # noqa: F401

    return f"设备驱动（pyserial {serial.__version__}）"


def _server(url: str, ca: str, allow_insecure_http: bool) -> Callable[[], str]:
    def check() -> str:
        try:
            api = ApiClient(
                url, timeout=5, verify=ca or True, allow_insecure_http=allow_insecure_http
            )
            health = api.health()
        except ApiError as err:
            raise RuntimeError(err.message) from None
        if url.startswith("https://"):
            trust = f"CA 证书 {ca}" if ca else "系统默认的 CA"
            link = f"TLS 证书已校验（{trust}）"
        else:
            link = "明文 HTTP，未加密" + (
                "" if is_loopback(urlsplit(url).hostname or "") else "：请改用 https:// 地址"
            )
        return (
            f"服务器 {url}：{health.status}，数据库 {health.database}，版本 {health.version}；"
            f"{link}"
        )

    return check


def run_checks(
    app: QApplication, server_url: str, *, ca: str = "", allow_insecure_http: bool = False
) -> int:
    """Print one line per check; the exit status is the number of failures (0 = all fine).
    ``ca``: the CA certificate the server's TLS certificate is checked against (empty: the
    public CAs); ``allow_insecure_http``: as the desk would connect (plain HTTP to another
    machine is refused unless allowed)."""
    del app  # Qt must exist for the font database; nothing is shown
    failures = 0
    checks = [
        ("资源", _resources),
        ("字体", _cjk_font),
        ("驱动", _drivers),
        ("服务器", _server(server_url, ca, allow_insecure_http)),
    ]
    for name, check in checks:
        try:
            print(f"[通过] {name}：{check()}")
        except Exception as err:
            failures += 1
            print(f"[失败] {name}：{err}")
    return failures
