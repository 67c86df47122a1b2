"""The desk's API client rides over a database restart: a read that meets a dropped connection
is asked again once (the server says DATABASE_RECONNECTED); a write is not repeated."""

from collections.abc import Iterator

import pytest
import requests

from client.api import ApiClient
from client.api.errors import ApiError
from tests.database_restart import end_backends
from tests.served import ADMIN, ADMIN_PASSWORD, serve_with_admin

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    yield from serve_with_admin(database_url)


def signed_in(server: str) -> tuple[ApiClient, list[int]]:
    api = ApiClient(server)
    api.login(ADMIN, ADMIN_PASSWORD)
    statuses: list[int] = []

    def _seen(response: requests.Response, *_: object, **__: object) -> None:
        statuses.append(response.status_code)

    api._http.hooks["response"].append(_seen)
    return api, statuses


def test_a_read_is_asked_again_a_write_is_not(server: str, database_url: str) -> None:
    api, statuses = signed_in(server)
    assert api.inbox_counts().total == 0
    end_backends(database_url)
    assert api.inbox_counts().total == 0  # no error reaches the clerk
    assert statuses == [200, 503, 200]

    statuses.clear()
    end_backends(database_url)
    with pytest.raises(ApiError) as caught:
        api.logout()
    assert caught.value.code == "DATABASE_RECONNECTED"
    assert "请重试" in caught.value.message
    assert statuses == [503]
