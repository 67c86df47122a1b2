"""Admission (server/api/admission.py): a request waits for its turn, not for a connection; one
that waits too long, or that finds the pool empty anyway, is told 503 SERVER_BUSY with
Retry-After instead of 500. The burst itself is tests/server/test_burst.py."""

from collections.abc import Iterator

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.clock import FrozenClock
from server.config import Settings
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, Api, login


@pytest.fixture
def small(settings: Settings, clock: FrozenClock, initialised: object) -> Iterator[FastAPI]:
    """A server with two connections and three threads, and a short queue so the tests wait
    briefly."""
    small = {"db_connections": 2, "worker_threads": 3, "db_queue_seconds": 0.3}
    settings = settings.model_copy(update=small)
    app = create_app(settings, clock=clock)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(small: FastAPI) -> Iterator[TestClient]:
    with TestClient(small) as client:
        yield client


@pytest.fixture
def admin(client: TestClient) -> Api:
    return login(client, ADMIN, ADMIN_PASSWORD)


def assert_busy(api: Api) -> None:
    answer = api.get("/me", 503)
    assert answer.json()["code"] == "SERVER_BUSY"
    assert answer.json()["message"] == "服务器繁忙，请稍后重试"
    assert int(answer.headers["Retry-After"]) > 0


def test_a_request_that_waits_too_long_for_its_turn_is_told_to_retry(
    small: FastAPI, client: TestClient, admin: Api
) -> None:
    admission = small.state.admission
    held = [client.portal.call(admission.enter) for _ in range(admission.turns)]
    assert_busy(admin)
    held.pop().release()
    assert admin.get("/me").json()["username"] == ADMIN


def test_an_empty_pool_answers_busy_not_an_error(
    small: FastAPI, client: TestClient, admin: Api
) -> None:
    """Admission keeps this from happening; should a connection be held outside a request,
    the pool's own timeout is still a 503 the desk can act on."""
    engine = small.state.engine
    held = [engine.connect() for _ in range(small.state.admission.turns)]
    try:
        assert_busy(admin)
    finally:
        for connection in held:
            connection.close()
    admin.get("/me")


def test_the_thread_limit_is_the_configured_one(client: TestClient, admin: Api) -> None:
    admin.get("/me")

    async def limit() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert client.portal.call(limit) == 3


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/users"])
def test_the_turn_is_given_back_before_the_answer_is_sent(
    small: FastAPI, admin: Api, path: str
) -> None:
    """A slow reader (a 20 MB scan over a slow link) must not hold a turn while its answer is
    being sent: the session closes, and its turn passes on, once the answer is built."""
    import asyncio

    turns_free: list[int] = []

    async def scenario() -> int:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body":
                semaphore = small.state.admission._per_loop[asyncio.get_running_loop()]
                turns_free.append(semaphore._value)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"authorization", f"Bearer {admin.token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await small(scope, receive, send)  # type: ignore[arg-type]
        return int(small.state.admission.turns)

    turns = asyncio.run(scenario())
    assert turns_free and all(free == turns for free in turns_free), turns_free


def test_a_sign_in_checking_its_password_holds_no_turn(
    small: FastAPI, client: TestClient, admin: Api
) -> None:
    """Checking a password (argon2, queued behind other sign-ins) takes long and needs no
    database: while it runs, other desks are served. Two connections, two slow sign-ins: /me
    still answers at once, where it would wait past its 0.3 s queue (503) if they held turns."""
    import threading

    started, release = threading.Barrier(3), threading.Event()
    passwords = small.state.context.passwords
    real_verify = passwords.verify

    def slow_verify(password_hash: str, password: str) -> bool:
        started.wait(timeout=10)
        release.wait(timeout=10)
        return bool(real_verify(password_hash, password))

    passwords.verify = slow_verify
    try:
        body = {"username": ADMIN, "password": ADMIN_PASSWORD}
        answers: list[int] = []

        def sign_in() -> None:
            answers.append(client.post("/api/v1/auth/login", json=body).status_code)

        workers = [threading.Thread(target=sign_in) for _ in range(2)]
        for worker in workers:
            worker.start()
        started.wait(timeout=10)  # both sign-ins are checking their passwords now
        assert admin.get("/me").json()["username"] == ADMIN
        release.set()
        for worker in workers:
            worker.join(timeout=10)
        assert answers == [200, 200]
    finally:
        release.set()
        passwords.verify = real_verify
