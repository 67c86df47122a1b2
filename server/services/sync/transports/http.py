"""The portal's HTTP gateway (SYNC.md, Transports): only the intranet calls out.

``POST <url>/sync/v1/bundles`` sends one bundle (``application/zip``); ``GET
<url>/sync/v1/bundles?after=<applied_upto>`` fetches the next one (``200`` with the bundle,
``204`` when there is none). The bundle is the unit, so a retry is always safe: timeouts,
refused or dropped connections and 5xx answers are retried with exponential back-off and
jitter, up to ``attempts`` tries; a 4xx (or any other answer) is the gateway's considered
refusal and is not retried. TLS certificates are always verified, against the system's
authorities or the CA file of ``SGSS_SYNC_CA_FILE``; redirects are not followed (a bundle
goes to the configured gateway or nowhere).

After each bundle the cycle has settled, the transport asks again only if ``applied_upto``
advanced since it last asked: a duplicate, a gap or a refusal would fetch the same bundle
forever.
"""

import functools
import random
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TypeVar

import requests

from server.services.sync.transports.base import Arrival, TransportError
from shared.sync.bundle import MAX_BUNDLE_BYTES, SUFFIX

PATH = "/sync/v1/bundles"
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
_BODY_QUOTE = 200
_CHUNK = 1 << 16
T = TypeVar("T")


class _RetryableError(Exception):
    """A try that failed for a reason worth trying again; ``cause`` is for the message."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def backoff_seconds(attempt: int, jitter: float) -> float:
    """The wait after failed try ``attempt`` (from 0): 0.5 s, 1 s, 2 s… capped at 30 s, each
    scaled by ``0.5 + jitter / 2`` (``jitter`` in [0, 1)) so many hosts do not retry in step."""
    base = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2**attempt)
    return base * (0.5 + jitter / 2)


def _file_name(disposition: str | None, after: int) -> str:
    """The file name the gateway gave (``Content-Disposition``), its last path part only; or a
    made-up one. For the record only: the manifest is the authority."""
    if disposition:
        header = Message()
        header["content-disposition"] = disposition
        given = header.get_filename()
        if given:
            name = PureWindowsPath(PurePosixPath(given).name).name
            if name and name not in {".", ".."}:
                return name
    return f"gateway-after-{after:012d}{SUFFIX}"


def _quote(response: requests.Response) -> str:
    try:
        head = next(response.iter_content(_BODY_QUOTE * 4), b"")
    except requests.RequestException:
        return ""
    text = head.decode("utf-8", errors="replace") if isinstance(head, bytes) else ""
    text = " ".join(text.split())[:_BODY_QUOTE]
    return f"：{text}" if text else ""


class GatewayArrival:
    """One bundle the gateway answered with; it is whole, and settling it is a no-op on the
    wire (the ack of this node's next bundle tells the portal)."""

    def __init__(self, name: str, data: bytes) -> None:
        self._name = name
        self._data = data

    @property
    def name(self) -> str:
        return self._name

    def read(self) -> bytes:
        return self._data

    def unchanged_for(self) -> timedelta:
        return timedelta.max

    def done(self) -> None:
        pass

    def quarantine(self, reason: str) -> None:
        pass

    def leave(self) -> None:
        pass


class GatewayTransport:
    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        attempts: int,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        ca_file: Path | None = None,
    ) -> None:
        if attempts < 1 or timeout <= 0:
            raise ValueError("at least one attempt, and a positive timeout")
        self.url = url.rstrip("/")
        self.endpoint = self.url + PATH
        self.timeout = timeout
        self.attempts = attempts
        self.session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._jitter = jitter
        # never False: a path makes requests trust that CA bundle instead of the system's
        self._verify: bool | str = str(ca_file) if ca_file is not None else True

    def describe(self) -> str:
        return f"http: {self.url}"

    def arrivals(self, applied_upto: Callable[[], int]) -> Iterator[Arrival]:
        asked: int | None = None
        while True:
            after = applied_upto()
            if asked is not None and after <= asked:
                return
            asked = after
            arrival = self._with_retries(functools.partial(self._fetch, after))
            if arrival is None:
                return
            yield arrival

    def send(self, name: str, data: bytes) -> None:
        self._with_retries(functools.partial(self._post, name, data))

    def _post(self, name: str, data: bytes) -> None:
        response = self._request(
            "POST",
            data=data,
            headers={
                "Content-Type": "application/zip",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )
        with response:
            if not 200 <= response.status_code < 300:
                self._refused(response)

    def _fetch(self, after: int) -> GatewayArrival | None:
        response = self._request("GET", params={"after": str(after)}, stream=True)
        with response:
            if response.status_code == 204:
                return None
            if response.status_code != 200:
                self._refused(response)
            data = self._body(response)
            name = _file_name(response.headers.get("Content-Disposition"), after)
        return GatewayArrival(name, data)

    def _body(self, response: requests.Response) -> bytes:
        """At most ``MAX_BUNDLE_BYTES`` + 1 bytes: enough for the verifier to refuse a bundle
        as too large, never more in memory."""
        chunks, left = [], MAX_BUNDLE_BYTES + 1
        try:
            for chunk in response.iter_content(_CHUNK):
                chunks.append(chunk[:left])
                left -= len(chunk)
                if left <= 0:
                    break
        except requests.Timeout as err:
            raise _RetryableError(f"读取应答超时（{self.timeout:g} 秒）") from err
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
            raise _RetryableError(f"应答传输中断（{type(err).__name__}）") from err
        return b"".join(chunks)

    def _request(self, method: str, **kwargs: object) -> requests.Response:
        try:
            response = self.session.request(
                method,
                self.endpoint,
                timeout=self.timeout,
                verify=self._verify,
                allow_redirects=False,
                **kwargs,  # type: ignore[arg-type]
            )
        except requests.exceptions.SSLError as err:
            raise TransportError(
                f"同步网关 {self.url} 的 TLS 证书校验失败，未发送或接收任何数据：{err}"
            ) from err
        except requests.Timeout as err:
            raise _RetryableError(f"连接超时（{self.timeout:g} 秒）") from err
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
            raise _RetryableError(f"无法连接或连接中断（{type(err).__name__}）") from err
        except requests.RequestException as err:
            raise TransportError(f"同步网关地址 {self.url} 无法使用：{err}") from err
        if response.status_code >= 500:
            response.close()
            raise _RetryableError(f"网关返回 HTTP {response.status_code}")
        return response

    def _refused(self, response: requests.Response) -> None:
        raise TransportError(
            f"同步网关 {self.url} 拒绝了请求：HTTP {response.status_code}{_quote(response)}"
        )

    def _with_retries(self, attempt: Callable[[], T]) -> T:
        cause = ""
        for number in range(self.attempts):
            if number:
                self._sleep(backoff_seconds(number - 1, self._jitter()))
            try:
                return attempt()
            except _RetryableError as err:
                cause = err.cause
        raise TransportError(
            f"同步网关 {self.url} 暂时无法使用：已尝试 {self.attempts} 次，最后一次{cause}"
        )
