"""保安员证 print state: 未打印 / 已打印 / 打印未完成 and when the card was first printed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "print_state", sa.String(length=16), nullable=False, server_default="not_printed"
            )
        )
        batch_op.add_column(sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True))
    # the default was for the rows already there; new rows get theirs from the model
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("print_state", server_default=None)
        batch_op.create_index(batch_op.f("ix_certificates_print_state"), ["print_state"])


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_print_state"))
        batch_op.drop_column("printed_at")
        batch_op.drop_column("print_state")
