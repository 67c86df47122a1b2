"""A database restart: idle pooled connections are tested before use; a connection dropped
while recently used fails one request with DATABASE_RECONNECTED, and the next one works.

PostgreSQL only: the tests end the server's backends with ``pg_terminate_backend``, which is
what a restart does to every open connection.
"""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from server.db.session import ping_after_idle
from tests.database_restart import end_backends
from tests.server.conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def pool(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_an_idle_connection_is_pinged_and_replaced(pool: Engine, database_url: str) -> None:
    ping_after_idle(pool, 0)  # every checkout counts as idle
    before = backend_pid(pool)
    assert end_backends(database_url) >= 1
    after = backend_pid(pool)  # the ping found the pooled connection dead and reconnected
    assert after != before


def test_a_recently_used_connection_fails_once_then_the_pool_is_renewed(
    pool: Engine, database_url: str
) -> None:
    ping_after_idle(pool, 3600)  # never idle long enough to be pinged
    before = backend_pid(pool)
    assert end_backends(database_url) >= 1
    with pytest.raises(DBAPIError) as caught:
        backend_pid(pool)
    assert caught.value.connection_invalidated
    assert backend_pid(pool) != before


def test_the_api_answers_database_reconnected_then_serves_again(
    admin: Api, database_url: str
) -> None:
    assert admin.get("/inbox/counts").status_code == 200
    end_backends(database_url)
    lost = admin.get("/inbox/counts", expect=503).json()
    assert lost["code"] == "DATABASE_RECONNECTED" and "请重试" in lost["message"]
    assert admin.get("/inbox/counts").json()["total"] == 0
