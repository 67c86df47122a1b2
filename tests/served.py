"""A real ``sgss-server serve`` subprocess with an administrator, for the client suite and for
server tests that need real threads, a real pool and real sockets (bursts, restarts)."""

from collections.abc import Iterator

from client.embedded import EmbeddedServer
from server.clock import SystemClock
from server.config import Settings
from server.db.session import create_db_engine, create_session_factory, ensure_sqlite_folder
from server.services import bootstrap
from server.services.passwords import Passwords

ADMIN, ADMIN_PASSWORD = "root", "Adm1n#Sgss!"
CHEAP_ARGON = {
    "SGSS_ARGON2_TIME_COST": "1",
    "SGSS_ARGON2_MEMORY_KIB": "1024",
    "SGSS_ARGON2_PARALLELISM": "1",
}


def init_with_admin(database_url: str) -> None:
    """What ``sgss-server init-db`` and ``create-admin`` do, in this process (two fewer
    interpreter starts per server; the commands themselves are tested in test_cli)."""
    ensure_sqlite_folder(database_url)
    settings = Settings(
        database_url=database_url, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1
    )
    engine = create_db_engine(database_url)
    now = SystemClock().now()
    try:
        with create_session_factory(engine)() as session:
            bootstrap.init_db(engine, session, now=now, province="330000")
            bootstrap.create_admin(
                session,
                now=now,
                passwords=Passwords(settings),
                username=ADMIN,
                password=ADMIN_PASSWORD,
            )
    finally:
        engine.dispose()


def serve_with_admin(database_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A database with the root organisation and the administrator, then a real
    ``sgss-server serve`` on it (with the extra ``env``) until the caller is done; yields its
    base URL."""
    init_with_admin(database_url)
    embedded = EmbeddedServer(database_url, env={**CHEAP_ARGON, **(env or {})})
    try:
        yield embedded.start()
    finally:
        embedded.stop()
