from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.app import create_app
from server.clock import FrozenClock
from server.config import Settings
from server.db.models import Notification
from server.db.session import create_session_factory
from server.services import bootstrap
from server.services.passwords import Passwords

ADMIN = "root"
ADMIN_PASSWORD = "Adm1n#Sgss!"


class RecordingSender:
    """Stands in for the SMS gateway (which cannot exist here) behind the same interface."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, sender: RecordingSender):  # type: ignore[no-untyped-def]
    app = create_app(settings, clock=clock, sender=sender)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def session(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with create_session_factory(app.state.engine)() as session:
        yield session


@pytest.fixture
def initialised(app, session: Session, clock: FrozenClock, settings: Settings):  # type: ignore[no-untyped-def]
    """Root organisation (浙江省公安厅) and an administrator with a changed password."""
    bootstrap.init_db(
        app.state.engine,
        session,
        now=clock.now(),
        province="330000",
        certificate_keys=app.state.context.certificate_keys,
    )
    bootstrap.create_admin(
        session,
        now=clock.now(),
        passwords=Passwords(settings),
        username=ADMIN,
        password=ADMIN_PASSWORD,
    )
    return session


class Api:
    """A TestClient with a bearer token and helpers that assert the expected status."""

    def __init__(self, client: TestClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/api/v1{path}", headers=self._headers(), **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def get(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("GET", path, expect, **kw)

    def post(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("POST", path, expect, **kw)

    def patch(self, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("PATCH", path, expect, **kw)

    def delete(self, path: str, expect: int | None = 204, **kw: Any) -> Any:
        return self.call("DELETE", path, expect, **kw)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


def login(client: TestClient, username: str, password: str) -> Api:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return Api(client, response.json()["access_token"])


@pytest.fixture
def admin(client: TestClient, initialised) -> Api:  # type: ignore[no-untyped-def]
    return login(client, ADMIN, ADMIN_PASSWORD)
