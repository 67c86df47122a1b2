"""What a PostgreSQL restart does to the connections of a test database, on demand."""

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL


def end_backends(database_url: str) -> int:
    """Terminate every connection to the test database, as a restart would."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": make_url(database_url).database},
        ).scalar_one()
    admin.dispose()
    return int(ended)
