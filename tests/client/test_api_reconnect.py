"""The desk's API client rides over a database restart: a read that meets a dropped connection
is asked again once (the server says DATABASE_RECONNECTED); a write is not repeated."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from client.api import ApiClient
from client.api.errors import ApiError
from client.embedded import EmbeddedServer
from tests.client.conftest import ADMIN, ADMIN_PASSWORD, CHEAP_ARGON
from tests.database_restart import end_backends

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    env = {**os.environ, "SGSS_DATABASE_URL": database_url, **CHEAP_ARGON}
    cli = [sys.executable, "-m", "server.cli.main"]
    subprocess.run([*cli, "init-db"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "create-admin", "--username", ADMIN, "--password-stdin"],
        env=env,
        input=ADMIN_PASSWORD,
        text=True,
        check=True,
        capture_output=True,
    )
    embedded = EmbeddedServer(database_url, env=CHEAP_ARGON)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


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
