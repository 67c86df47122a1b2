"""Empty → head on both databases, and back down, with models and migrations in agreement."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from server.db.base import Base
from server.db.migrate import current_revision, head_revision, upgrade_to_head
from server.db.session import create_db_engine
from tests.conftest import PG_ADMIN_URL

TABLES = {
    "orgs",
    "roles",
    "role_permissions",
    "role_scope_orgs",
    "users",
    "user_roles",
    "user_approval_roles",
    "auth_tokens",
    "verification_codes",
    "notifications",
    "audit_log",
    "audit_head",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("pg_database")  # skips or fails exactly as the suite's PG does
    name = f"sgss_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_to_head_and_down(empty_url: str) -> None:
    from alembic import command

    from server.db.migrate import alembic_config

    engine = create_db_engine(empty_url)
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    upgrade_to_head(engine)  # idempotent
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert not (TABLES & set(inspect(engine).get_table_names()))
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_builtin_role_key_is_backfilled(empty_url: str) -> None:
    """An existing database: the root's 系统管理员 gets the key, a namesake elsewhere does not."""
    from alembic import command

    from server.db.migrate import alembic_config

    engine = create_db_engine(empty_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    at = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        for org_id, parent, name, path in (
            (1, None, "浙江省公安厅", "/1/"),
            (2, 1, "杭州", "/1/2/"),
        ):
            conn.execute(
                text(
                    "insert into orgs (id, parent_id, name, type, region_code, path, depth,"
                    " created_at, updated_at, version) values (:id, :parent, :name, 'x',"
                    " '330000', :path, 0, :at, :at, 1)"
                ),
                {"id": org_id, "parent": parent, "name": name, "path": path, "at": at},
            )
            conn.execute(
                text(
                    "insert into roles (id, org_id, name, data_scope_kind, created_at,"
                    " updated_at, version) values (:id, :id, '系统管理员', 'all', :at, :at, 1)"
                ),
                {"id": org_id, "at": at},
            )
    upgrade_to_head(engine)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("select id, builtin_key from roles order by id")).all())
    assert keys == {1: "admin", 2: None}
    engine.dispose()
