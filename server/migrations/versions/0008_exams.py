"""guard exams: pass rules, exams, candidates (one open seat per enrolment), course progress

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pass_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_rules")),
        sa.UniqueConstraint("key", name=op.f("uq_pass_rules_key")),
    )
    op.create_table(
        "exams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("pass_rule_id", sa.Integer(), nullable=False),
        sa.Column("pass_rule", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("published_at", True),
        _when("cancelled_at", True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_exams_org_id_orgs")),
        sa.ForeignKeyConstraint(
            ["pass_rule_id"], ["pass_rules.id"], name=op.f("fk_exams_pass_rule_id_pass_rules")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_exams_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exams")),
    )
    op.create_index("ix_exams_org_starts", "exams", ["org_id", "starts_at"])
    op.create_index(op.f("ix_exams_status"), "exams", ["status"])
    op.create_table(
        "exam_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("admission_number", sa.String(length=32), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("absent", sa.Boolean(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("scores_locked", sa.Boolean(), nullable=False),
        _when("scores_notified_at", True),
        _when("added_at"),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_exam_candidates_exam_id_exams")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_exam_candidates_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_exam_candidates_added_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_candidates")),
        sa.UniqueConstraint(
            "exam_id", "application_id", name=op.f("uq_exam_candidates_exam_id_application_id")
        ),
        sa.UniqueConstraint(
            "exam_id", "admission_number", name=op.f("uq_exam_candidates_exam_id_admission_number")
        ),
    )
    op.create_index(op.f("ix_exam_candidates_exam_id"), "exam_candidates", ["exam_id"])
    op.create_index(
        op.f("ix_exam_candidates_application_id"), "exam_candidates", ["application_id"]
    )
    op.create_index(
        "uq_exam_candidates_open_application",
        "exam_candidates",
        ["application_id"],
        unique=True,
        sqlite_where=sa.text("is_open"),
        postgresql_where=sa.text("is_open"),
    )
    op.create_table(
        "training_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("training_unit", sa.String(length=100), nullable=False),
        sa.Column("hours_done", sa.Integer(), nullable=False),
        sa.Column("hours_required", sa.Integer(), nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_progress")),
        sa.UniqueConstraint("id_number", name=op.f("uq_training_progress_id_number")),
    )
    op.create_index(
        op.f("ix_training_progress_training_unit"), "training_progress", ["training_unit"]
    )


def downgrade() -> None:
    op.drop_table("training_progress")
    op.drop_table("exam_candidates")
    op.drop_table("exams")
    op.drop_table("pass_rules")
