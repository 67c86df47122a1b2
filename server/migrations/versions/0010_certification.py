"""制证审批: an application opened by the system names the application it came from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 10:00:00

The column is added in place (``ALTER TABLE … ADD COLUMN … REFERENCES``, which SQLite allows for
a nullable column), never by batch copy: copying ``applications`` would drop a table that every
task, log line and material refers to.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FK = "fk_applications_source_application_id_applications"
_UQ = "uq_applications_source_application_id_business_type"


def upgrade() -> None:
    op.add_column(
        "applications",
        sa.Column(
            "source_application_id",
            sa.Integer(),
            sa.ForeignKey("applications.id", name=op.f(_FK)),
            nullable=True,
        ),
        inline_references=True,
    )
    op.create_index(
        op.f(_UQ), "applications", ["source_application_id", "business_type"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f(_UQ), table_name="applications")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("source_application_id")
