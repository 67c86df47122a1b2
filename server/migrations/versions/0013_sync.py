"""内外网数据同步: the outbound stream, the cursors, the peer's keys, the bundles that arrived

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

_AT = sa.DateTime(timezone=True)


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("peer", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("acked_upto", sa.BigInteger(), nullable=False),
        sa.Column("applied_upto", sa.BigInteger(), nullable=False),
        sa.Column("ack_sent", sa.BigInteger(), nullable=False),
        sa.Column("last_sent_at", _AT, nullable=True),
        sa.Column("last_sent_name", sa.String(length=80), nullable=True),
        sa.Column("last_received_at", _AT, nullable=True),
        sa.Column("last_received_name", sa.String(length=200), nullable=True),
        sa.Column("last_cycle_at", _AT, nullable=True),
        sa.Column("last_cycle_error", sa.Text(), nullable=True),
        sa.Column("stuck_seq", sa.BigInteger(), nullable=True),
        sa.Column("stuck_type", sa.String(length=64), nullable=True),
        sa.Column("stuck_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_outbox")),
        sa.UniqueConstraint("record_id", name=op.f("uq_sync_outbox_record_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_sync_outbox_seq")),
    )
    op.create_index(op.f("ix_sync_outbox_type"), "sync_outbox", ["type"])
    op.create_table(
        "sync_peer_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("peer", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=44), nullable=False),
        sa.Column("added_at", _AT, nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("retired_at", _AT, nullable=True),
        sa.Column("retired_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_sync_peer_keys")),
    )
    op.create_table(
        "sync_inbound_bundles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=True),
        sa.Column("first_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", _AT, nullable=False),
        sa.Column("settled_at", _AT, nullable=True),
        sa.Column("settled_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_inbound_bundles")),
    )
    op.create_index(op.f("ix_sync_inbound_bundles_sha256"), "sync_inbound_bundles", ["sha256"])
    op.create_index(op.f("ix_sync_inbound_bundles_state"), "sync_inbound_bundles", ["state"])
    op.create_table(
        "sync_applied_records",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("bundle_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["sync_inbound_bundles.id"],
            name=op.f("fk_sync_applied_records_bundle_id_sync_inbound_bundles"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_applied_records")),
        sa.UniqueConstraint("record_id", name=op.f("uq_sync_applied_records_record_id")),
    )


def downgrade() -> None:
    op.drop_table("sync_applied_records")
    op.drop_index(op.f("ix_sync_inbound_bundles_state"), table_name="sync_inbound_bundles")
    op.drop_index(op.f("ix_sync_inbound_bundles_sha256"), table_name="sync_inbound_bundles")
    op.drop_table("sync_inbound_bundles")
    op.drop_table("sync_peer_keys")
    op.drop_index(op.f("ix_sync_outbox_type"), table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_table("sync_state")
