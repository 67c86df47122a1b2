"""A busy server (503 SERVER_BUSY with Retry-After) is asked again for a read, after the wait it
names and within the desk's bounds; a write is never repeated by the desk. A real HTTP server on
loopback plays the busy server, answering from a script."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from client.api import ApiClient, ApiError
from client.api.client import BUSY_TRIES

BUSY = {"code": "SERVER_BUSY", "message": "服务器繁忙，请稍后重试"}
HEALTH = {"status": "ok", "database": "ok", "version": "test"}


class Script:
    """What the server answers, in turn: (status, Retry-After or None); the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str | None]] = []
        self.seen: list[tuple[str, float]] = []  # (method, when)

    def next(self) -> tuple[int, str | None]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def busy() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            script.seen.append((self.command, time.monotonic()))
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, after = script.next()
            body = json.dumps(HEALTH if status == 200 else BUSY).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if after is not None:
                self.send_header("Retry-After", after)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815 - http.server's names

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def test_a_read_waits_as_told_and_is_asked_again(busy: tuple[str, Script]) -> None:
    url, script = busy
    script.answers = [(503, "1"), (200, None)]
    assert ApiClient(url).health().status == "ok"
    assert [m for m, _ in script.seen] == ["GET", "GET"]
    gap = script.seen[1][1] - script.seen[0][1]
    assert 0.9 <= gap < 3  # Retry-After: 1, honoured


def test_a_read_gives_up_after_a_few_tries(busy: tuple[str, Script]) -> None:
    url, script = busy
    script.answers = [(503, "0")]
    with pytest.raises(ApiError) as caught:
        ApiClient(url).health()
    assert caught.value.code == "SERVER_BUSY" and caught.value.message == BUSY["message"]
    assert len(script.seen) == BUSY_TRIES == 3


def test_a_wait_longer_than_the_clerk_should_wait_is_not_waited(busy: tuple[str, Script]) -> None:
    url, script = busy
    script.answers = [(503, "60"), (200, None)]
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        ApiClient(url).health()
    assert caught.value.code == "SERVER_BUSY"
    assert len(script.seen) == 1 and time.monotonic() - started < 2


def test_a_write_is_never_repeated(busy: tuple[str, Script]) -> None:
    url, script = busy
    script.answers = [(503, "1"), (200, None)]
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        ApiClient(url).request("POST", "/auth/logout")
    assert caught.value.code == "SERVER_BUSY" and caught.value.status == 503
    assert [m for m, _ in script.seen] == ["POST"]
    assert time.monotonic() - started < 1  # at once, without waiting
