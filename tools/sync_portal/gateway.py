"""The portal's HTTP gateway (SYNC.md, Transports) on the standard library's
``ThreadingHTTPServer``, so a test starts it on port 0 in a thread.

- ``POST /sync/v1/bundles`` (``application/zip``, with a ``Content-Length``): the intranet's
  bundle is received as the file ferry's would be. ``200`` applied or a duplicate (or an
  ack-only bundle); ``202`` held for a gap (kept: nothing to send again); ``422`` refused and
  quarantined, with the reason as UTF-8 text. A refusal is final for those bytes, so the
  answer is a 4xx the intranet does not retry; its records stay unacked there and go again,
  in a new bundle, next cycle. ``413`` over the bundle limit (not read), ``411`` without a
  length, ``415`` for another content type.
- ``GET /sync/v1/bundles?after=N``: ``200`` with the portal's next bundle (records from N + 1,
  or an ack-only one when it owes an ack) and its name in ``Content-Disposition``; ``204``
  when there is none; ``400`` for a bad ``after``.

``interfere(method, path)`` lets a test inject faults: it returns None (serve normally) or an
``Interference``: wait ``delay`` seconds first (longer than the client's timeout makes a
timeout; the request is still served afterwards, as a slow real gateway would), and/or answer
``status`` without serving the request at all (a 5xx from a proxy in front), or serve it with
the bundle passed through ``damage`` on the way (the body of a ``GET``'s ``200`` before it is
sent, a ``POST``'s body before the portal receives it: a bundle damaged in transit).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from shared.sync.bundle import MAX_BUNDLE_BYTES

if TYPE_CHECKING:
    from tools.sync_portal.portal import Portal

PATH = "/sync/v1/bundles"


@dataclass(frozen=True)
class Interference:
    status: int | None = None
    delay: float = 0.0
    damage: Callable[[bytes], bytes] | None = None


Interfere = Callable[[str, str], Interference | None]


def _handler(portal: "Portal", interfere: Interfere | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _text(self, status: int, text: str) -> None:
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:  # said, so the client does not send its retry down it
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        damage: Callable[[bytes], bytes] | None = None

        def _interfered(self, method: str) -> bool:
            what = interfere(method, self.path) if interfere else None
            self.damage = None if what is None else what.damage  # a kept-alive connection
            if what is None:
                return False
            if what.delay:
                time.sleep(what.delay)
            if what.status is None:
                return False
            self.close_connection = True
            self._text(what.status, HTTPStatus(what.status).phrase)
            return True

        def _answer(self, method: str) -> None:
            try:
                if not self._interfered(method):
                    getattr(self, f"_{method.lower()}")()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout): nothing to say

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _get(self) -> None:
            url = urlsplit(self.path)
            if url.path != PATH:
                self._text(404, "Not Found")
                return
            after = parse_qs(url.query).get("after", [""])
            if len(after) != 1 or not after[0].isdigit():
                self._text(400, "after 应为非负整数")
                return
            built = portal.bundle_after(int(after[0]))
            if built is None:
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = built.data if self.damage is None else self.damage(built.data)
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Disposition", f'attachment; filename="{built.name}"')
            self.end_headers()
            self.wfile.write(body)

        def _post(self) -> None:
            self.close_connection = True  # whatever was not read of a refused body
            if urlsplit(self.path).path != PATH:
                self._text(404, "Not Found")
                return
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind != "application/zip":
                self._text(415, "同步包应以 application/zip 发送")
                return
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._text(411, "缺少 Content-Length")
                return
            if int(length) > MAX_BUNDLE_BYTES:
                self._text(413, f"同步包超出接收限制（{MAX_BUNDLE_BYTES} 字节）")
                return
            data = self.rfile.read(int(length))
            if self.damage is not None:
                data = self.damage(data)
            disposition = Message()
            disposition["content-disposition"] = self.headers.get("Content-Disposition", "")
            outcome = portal.receive_bundle(data, disposition.get_filename())
            if outcome.kind == "quarantined":
                self._text(422, outcome.reason)
            elif outcome.kind == "held":
                assert outcome.missing is not None
                low, high = outcome.missing
                self._text(202, f"held: waiting for {low}-{high}")
            else:
                self._text(200, f"{outcome.kind}: {outcome.count}")

    return Handler


def start(
    portal: "Portal", host: str = "127.0.0.1", port: int = 0, *, interfere: Interfere | None = None
) -> tuple[str, Callable[[], None]]:
    """Serve in a daemon thread; returns the base URL and a function that stops the server
    and waits for it."""
    server = ThreadingHTTPServer((host, port), _handler(portal, interfere))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="sync-portal", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    address = server.server_address
    return f"http://{address[0]}:{address[1]}", stop  # type: ignore[str-bytes-safe]
