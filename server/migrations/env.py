"""Alembic environment: always run with a connection handed in by ``server.db.migrate``."""

from alembic import context

from server.db import (  # noqa: F401  (registers the tables)
    approval_models,
    certificate_models,
    exam_models,
    models,
    sync_models,
)
from server.db.base import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `sgss-server init-db`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
