"""A burst far larger than the connection pool and the thread pool is queued and served: every
request answered, none with a 5xx (ARCHITECTURE habit 15). It needs a real server process, with
uvicorn's event loop, anyio's worker threads and the engine's pool as deployed, on both engines."""

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.served import ADMIN, ADMIN_PASSWORD, serve_with_admin

BURST = 200
# What desks ask most: the inbox and its badge, who they are, the lists of the admin pages;
# and every tenth request a write (SQLite's writers queue for the one write lock).
READS = ("/me", "/inbox", "/inbox/counts", "/users", "/orgs", "/roles", "/users?q=root")
WRITE_EVERY = 10


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    yield from serve_with_admin(database_url)


def burst(base: str, token: str, root: int) -> list[int | str]:
    """``BURST`` requests released at once, each on its own connection; their statuses (or
    the transport error's name)."""
    outcomes: list[int | str] = [0] * BURST
    start = threading.Barrier(BURST)

    def one(index: int) -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            start.wait()
            try:
                if index % WRITE_EVERY == 0:
                    office = {
                        "name": f"内设部门{index}",
                        "parent_id": root,
                        "type": "office",
                        "region_code": "330000",
                    }
                    sent = http.post(f"{base}/api/v1/orgs", json=office, timeout=60)
                else:
                    path = READS[index % len(READS)]
                    sent = http.get(f"{base}/api/v1{path}", timeout=60)
                outcomes[index] = sent.status_code
            except requests.RequestException as error:
                outcomes[index] = type(error).__name__

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_burst_larger_than_every_pool_is_served(server: str) -> None:
    signed_in = requests.post(
        f"{server}/api/v1/auth/login",
        json={"username": ADMIN, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    me = requests.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    outcomes = burst(server, token, me.json()["org_id"])
    writes = len(range(0, BURST, WRITE_EVERY))
    assert Counter(outcomes) == {200: BURST - writes, 201: writes}
