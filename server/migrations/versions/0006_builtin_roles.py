"""roles.builtin_key: the built-in administrator role is found by a fixed key, not by its name;
existing databases get the key on the root organisation's 系统管理员 role

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ADMIN_KEY = "admin"
ADMIN_ROLE_NAME = "系统管理员"


def upgrade() -> None:
    with op.batch_alter_table("roles") as batch_op:
        batch_op.add_column(sa.Column("builtin_key", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_roles_builtin_key"), ["builtin_key"])
    roles = sa.table(
        "roles",
        sa.column("org_id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("builtin_key", sa.String()),
    )
    orgs = sa.table("orgs", sa.column("id", sa.Integer()), sa.column("parent_id", sa.Integer()))
    root = sa.select(orgs.c.id).where(orgs.c.parent_id.is_(None)).order_by(orgs.c.id).limit(1)
    op.execute(
        roles.update()
        .where(roles.c.name == ADMIN_ROLE_NAME, roles.c.org_id == root.scalar_subquery())
        .values(builtin_key=ADMIN_KEY)
    )


def downgrade() -> None:
    with op.batch_alter_table("roles") as batch_op:
        batch_op.drop_constraint(op.f("uq_roles_builtin_key"), type_="unique")
        batch_op.drop_column("builtin_key")
