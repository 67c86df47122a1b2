"""Fresh state for every test: a new database (SQLite and PostgreSQL), a frozen clock,
cheap argon2 parameters, a recording SMS sender."""

import gc
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from server.config import Settings
from server.db.migrate import upgrade_to_head
from server.db.session import create_db_engine

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PG_ADMIN_URL = os.environ.get(
    "SGSS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# A workstation or server may run in any zone; business dates are Beijing's by rule. UTC-12 and
# UTC+14 between them put the machine's date off Beijing's at every hour of the day (UTC-12 is a
# day behind until 20:00 Beijing time, UTC+14 a day ahead from 18:00), so a test marked
# ``machine_zones`` catches a stray local date whenever it runs.
MACHINE_ZONES = ("Etc/GMT+12", "Pacific/Kiritimati")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("machine_zones"):
        metafunc.parametrize("machine_zone", MACHINE_ZONES, indirect=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported so far (the server, the desk, Qt's bindings, the test libraries:
    some 400,000 objects) lives until the end, so the cycle collector stops scanning it: a full
    collection, which the client tests run after each test, drops from about 0.12 s to nothing."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def machine_zone(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Under ``machine_zones`` the process (and any server it starts) runs with ``TZ`` set to
    each of MACHINE_ZONES in turn; other tests keep the machine's zone."""
    zone = getattr(request, "param", None)
    if zone is None:
        yield None
        return
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as err:
        return str(err)
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One throw-away PostgreSQL database per test process, migrated to head."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"sgss_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit need not wait for its WAL to reach the disk: a crash could lose the last
        # commits of a database thrown away anyway, and nothing a test can see changes (every
        # transaction is still atomic and visible the moment it commits). Many tests commit
        # hundreds of times; each flush was a wait on a disk shared with the whole machine.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    """The worker's database back to just after the migrations: every row gone, every sequence
    restarted, the rows the migrations seed put back.

    DELETE, not TRUNCATE: TRUNCATE gives every table (and each of its indexes) a new file and
    drops the old one, close to a second per test on a busy machine, while the tables a test
    fills hold a few hundred rows at most. ``session_replication_role = replica`` lets the rows
    go in any order (no foreign-key or append-only trigger fires); it ends with the transaction.
    """
    engine = create_db_engine(url)
    with engine.begin() as conn:
        public = "schemaname = 'public'"
        tables = conn.scalars(
            text(
                f"select tablename from pg_tables where {public} and tablename <> 'alembic_version'"
            )
        ).all()
        sequences = conn.scalars(
            text(f"select sequencename from pg_sequences where {public}")
        ).all()
        statements = [
            "SET LOCAL session_replication_role = replica",
            *(f'DELETE FROM "{table}"' for table in tables),
            *(f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences),
            # a tampering test disables the append-only guard; the next test gets it back
            "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
            "SET LOCAL session_replication_role = origin",
            f"INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, '{'0' * 64}')",
            "INSERT INTO authz_epoch (id, value) VALUES (1, 0)",
        ]
        conn.exec_driver_sql(";\n".join(statements))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "sgss.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()
