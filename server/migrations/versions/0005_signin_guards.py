"""sign-in failures counted per username in sign_in_guards, not on the users row

The lockout now applies to every name tried, whether an account has it or not, so an unknown
name answers exactly like a real one. Locks in force and failures still counting move over.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    guards = op.create_table(
        "sign_in_guards",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_sign_in_guards")),
    )
    users = sa.table(
        "users",
        sa.column("username", sa.String),
        sa.column("failed_attempts", sa.Integer),
        sa.column("locked_until", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the UTC convention of UTCDateTime on SQLite
    rows = bind.execute(
        sa.select(users.c.username, users.c.failed_attempts, users.c.locked_until).where(
            sa.or_(users.c.failed_attempts > 0, users.c.locked_until.is_not(None))
        )
    ).all()
    if rows:
        op.bulk_insert(
            guards,
            [
                {
                    "username": username,
                    "failed_attempts": failed,
                    "window_started_at": now,
                    "locked_until": locked_until,
                }
                for username, failed, locked_until in rows
            ],
        )
    op.drop_column("users", "failed_attempts")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        sa.text(
            "UPDATE users SET failed_attempts = g.failed_attempts, locked_until = g.locked_until "
            "FROM sign_in_guards AS g WHERE g.username = users.username"
        )
    )
    op.drop_table("sign_in_guards")
