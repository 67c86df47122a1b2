"""What can go wrong talking to the server, each with a Chinese sentence for the clerk."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

from shared.errors import ErrorCode

# ``requests`` and ``ssl`` load with the first failure, not with the desk: the sign-in window
# needs ``ApiError`` long before it needs HTTP


class DeskErrorCode(StrEnum):
    """Failures the desk names itself: the server never sent an answer it could read."""

    NETWORK_UNREACHABLE = "NETWORK_UNREACHABLE"
    NETWORK_TIMEOUT = "NETWORK_TIMEOUT"
    TLS_FAILURE = "TLS_FAILURE"
    BAD_RESPONSE = "BAD_RESPONSE"
    CLIENT_ERROR = "CLIENT_ERROR"


NETWORK_UNREACHABLE = DeskErrorCode.NETWORK_UNREACHABLE
NETWORK_TIMEOUT = DeskErrorCode.NETWORK_TIMEOUT
TLS_FAILURE = DeskErrorCode.TLS_FAILURE
BAD_RESPONSE = DeskErrorCode.BAD_RESPONSE

Code = ErrorCode | DeskErrorCode | str
"""A server code this desk knows is an ``ErrorCode`` member; one from a newer server stays a
string (its message is still the server's Chinese sentence)."""

SESSION_ENDED = frozenset(
    {ErrorCode.AUTH_TOKEN_EXPIRED, ErrorCode.AUTH_TOKEN_INVALID, ErrorCode.AUTH_REQUIRED}
)


def known(code: str) -> Code:
    """The catalogue member for a code read off the wire, or the string if it is not ours."""
    return ErrorCode.known(code) or code


class ApiError(Exception):
    """A refusal from the server (its code and message) or a transport failure (our code)."""

    def __init__(self, code: Code, message: str, status: int = 0, details: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = known(code) if type(code) is str else code
        self.message = message
        self.status = status
        self.details = details

    @property
    def session_ended(self) -> bool:
        """The token no longer works: ask for the password again, then retry."""
        return self.code in SESSION_ENDED


def from_transport(err: OSError, base_url: str, *, ca: str | None = None) -> ApiError:
    """``err`` from ``requests``: its own exceptions, or the ``OSError`` it raises for a CA file
    that is not there. ``ca`` is the CA certificate the workstation was told to trust."""
    from http.client import RemoteDisconnected

    import requests

    from client.api import tls

    if isinstance(err, requests.exceptions.SSLError):
        return ApiError(TLS_FAILURE, tls.tls_message(err, base_url, ca))
    if ca and not isinstance(err, requests.RequestException) and not Path(ca).is_file():
        return ApiError(TLS_FAILURE, tls.missing_ca_message(ca))
    if isinstance(err, requests.Timeout):
        return ApiError(NETWORK_TIMEOUT, "服务器响应超时，请稍后重试")
    if isinstance(err, requests.ConnectionError):
        message = f"无法连接服务器 {base_url}，请检查服务器地址和网络"
        if base_url.startswith("http://") and tls.find(err, RemoteDisconnected):
            message = (
                f"服务器 {base_url} 未作应答就断开了连接："
                "若服务器已启用 TLS，地址应以 https:// 开头"
            )
        return ApiError(NETWORK_UNREACHABLE, message)
    return ApiError(BAD_RESPONSE, f"与服务器通信失败：{err}")


def from_response(response: requests.Response) -> ApiError:
    try:
        body = response.json()
        return ApiError(body["code"], body["message"], response.status_code, body.get("details"))
    except (ValueError, KeyError, TypeError):
        return ApiError(
            BAD_RESPONSE,
            f"服务器返回了无法识别的应答（HTTP {response.status_code}）",
            response.status_code,
        )
