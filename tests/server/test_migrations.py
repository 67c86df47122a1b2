"""Empty → head on both databases, and back down, with models and migrations in agreement."""

import uuid
from datetime import UTC, datetime
from typing import cast

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, create_engine, inspect, text
from sqlalchemy.orm import Session

from server.db.base import Base
from server.db.migrate import current_revision, head_revision, upgrade_to_head
from server.db.session import create_db_engine
from server.services import bootstrap
from shared.permissions import all_permissions
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


def test_an_upgraded_database_gives_the_builtin_role_every_exam_and_certificate_permission(
    empty_url: str,
) -> None:
    """The only built-in role is the administrator's: ``init-db`` on a database from before the
    score and certificate permissions makes it whole (the catalogue's later entries included).
    A role of the site's own keeps what it was given, plus what a migration passed on."""
    from alembic import command

    from server.db.migrate import alembic_config

    engine = create_db_engine(empty_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0010")
    at = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into orgs (id, parent_id, name, type, region_code, path, depth,"
                " created_at, updated_at, version) values (1, null, '浙江省公安厅',"
                " 'province_department', '330000', '/1/', 0, :at, :at, 1)"
            ),
            {"at": at},
        )
        for role_id, name, key in ((1, "系统管理员", "admin"), (2, "考试民警", None)):
            conn.execute(
                text(
                    "insert into roles (id, org_id, name, builtin_key, data_scope_kind,"
                    " created_at, updated_at, version) values (:id, 1, :name, :key, 'all',"
                    " :at, :at, 1)"
                ),
                {"id": role_id, "name": name, "key": key, "at": at},
            )
            conn.execute(
                text("insert into role_permissions (role_id, permission) values (:id, :p)"),
                {"id": role_id, "p": "exam_scores:notify"},
            )
    with Session(engine) as session:
        bootstrap.init_db(engine, session, now=datetime.now(UTC), province="330000")
    with engine.connect() as conn:
        held: dict[int, set[str]] = {1: set(), 2: set()}
        for role_id, permission in conn.execute(
            text("select role_id, permission from role_permissions")
        ):
            held[role_id].add(permission)
    modules = ("exam_enrolments:", "exams:", "exam_scores:", "certificates:")
    wanted = {p for p in all_permissions() if p.startswith(modules)}
    assert "exam_enrolments:resubmit" in wanted and "certificates:reprint" in wanted
    assert wanted <= held[1] and held[1] == all_permissions()
    assert held[2] == {"exam_scores:notify", "exam_scores:amend"}  # 0011 passed amend on
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_exam_candidates_get_room_for_hot_updates_and_lose_the_redundant_index(
    empty_url: str,
) -> None:
    """0014: on PostgreSQL the table is rewritten at the model's fillfactor (the pages already
    there get the room too: a new file) and not left marked as clustered; on both engines the
    exam_id index goes, the unique (exam_id, application_id) serving lookups by exam. Down to
    0013 puts both back. (Alembic's comparison does not look at storage parameters.)"""
    from alembic import command

    from server.db.exam_models import ExamCandidate
    from server.db.migrate import alembic_config

    table = cast(Table, ExamCandidate.__table__)
    wanted = table.dialect_options["postgresql"]["with"]["fillfactor"]
    engine = create_db_engine(empty_url)
    postgres = engine.dialect.name == "postgresql"
    config = alembic_config()

    def migrate(step: str, revision: str) -> None:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, step)(config, revision)

    def indexes() -> set[str | None]:
        return {i["name"] for i in inspect(engine).get_indexes("exam_candidates")}

    def storage() -> tuple[int, list[str] | None, bool]:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "select c.relfilenode, c.reloptions, bool_or(i.indisclustered) from"
                    " pg_class c join pg_index i on i.indrelid = c.oid"
                    " where c.relname = 'exam_candidates' group by c.relfilenode, c.reloptions"
                )
            ).one()

    migrate("upgrade", "0013")
    assert "ix_exam_candidates_exam_id" in indexes()
    if postgres:
        file_before, options, clustered = storage()
        assert options is None and not clustered
    migrate("upgrade", "0014")
    assert "ix_exam_candidates_exam_id" not in indexes()
    assert "uq_exam_candidates_exam_id_application_id" in {
        u["name"] for u in inspect(engine).get_unique_constraints("exam_candidates")
    }
    if postgres:
        file_after, options, clustered = storage()
        assert options == [f"fillfactor={wanted}"]
        assert file_after != file_before and not clustered
    migrate("downgrade", "0013")
    assert "ix_exam_candidates_exam_id" in indexes()
    if postgres:
        assert storage()[1] is None
    engine.dispose()
