"""Alembic driven from code: the same call migrates SQLite and PostgreSQL to head."""

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from server.db import (  # noqa: F401  (every table known to Base)
    approval_models,
    certificate_models,
    exam_models,
    models,
    sync_models,
)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "server:migrations")
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Every pending migration, in one transaction; nothing to do (not even Alembic's
    environment to load) when the database is at head already, as on every ``init-db`` after
    the first."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this program (read once: it cannot change while the
    program runs, and reading it loads every migration script)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
