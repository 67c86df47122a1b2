"""authz epoch (one counter row that invalidates cached principals on any change of access);
issued_documents.issued_by widened to an organisation name's 100 characters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "authz_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_epoch")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])
    with op.batch_alter_table("issued_documents") as batch_op:
        batch_op.alter_column(
            "issued_by", existing_type=sa.String(length=64), type_=sa.String(length=100)
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_documents") as batch_op:
        batch_op.alter_column(
            "issued_by", existing_type=sa.String(length=100), type_=sa.String(length=64)
        )
    op.drop_table("authz_epoch")
