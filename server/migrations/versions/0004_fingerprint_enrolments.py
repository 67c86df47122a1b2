"""fingerprint enrolments from station modules (device, slot → identity and issued card number)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprint_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("card_number", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_fingerprint_enrolments_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_fingerprint_enrolments_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["users.id"],
            name=op.f("fk_fingerprint_enrolments_enrolled_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fingerprint_enrolments")),
        sa.UniqueConstraint("card_number", name=op.f("uq_fingerprint_enrolments_card_number")),
    )
    op.create_index(
        op.f("ix_fingerprint_enrolments_application_id"),
        "fingerprint_enrolments",
        ["application_id"],
    )
    op.create_index(
        op.f("ix_fingerprint_enrolments_id_number"), "fingerprint_enrolments", ["id_number"]
    )
    op.create_index(
        "ix_fingerprint_enrolments_slot", "fingerprint_enrolments", ["device_id", "slot"]
    )


def downgrade() -> None:
    op.drop_table("fingerprint_enrolments")
