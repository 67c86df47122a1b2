"""exam scores: who entered them, the lock of 通知成绩 on the exam, amendments after the lock;
the new permission exam_scores:amend for roles that notify scores

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("exams") as batch_op:
        batch_op.add_column(sa.Column("scores_locked_at", _AT, nullable=True))
        batch_op.add_column(sa.Column("scores_locked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_exams_scores_locked_by_id_users"), "users", ["scores_locked_by_id"], ["id"]
        )
    with op.batch_alter_table("exam_candidates") as batch_op:
        batch_op.add_column(sa.Column("scored_at", _AT, nullable=True))
        batch_op.add_column(sa.Column("scored_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_exam_candidates_scored_by_id_users"), "users", ["scored_by_id"], ["id"]
        )
    op.create_table(
        "exam_score_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("amended_at", _AT, nullable=False),
        sa.Column("amended_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_exam_score_amendments_exam_id_exams")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["exam_candidates.id"],
            name=op.f("fk_exam_score_amendments_candidate_id_exam_candidates"),
        ),
        sa.ForeignKeyConstraint(
            ["amended_by_id"],
            ["users.id"],
            name=op.f("fk_exam_score_amendments_amended_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_score_amendments")),
    )
    op.create_index(op.f("ix_exam_score_amendments_exam_id"), "exam_score_amendments", ["exam_id"])
    op.create_index(
        op.f("ix_exam_score_amendments_candidate_id"), "exam_score_amendments", ["candidate_id"]
    )
    # whoever may notify scores may also amend them after the lock (the administrator role
    # gets every permission from init-db anyway)
    op.execute(
        sa.text(
            "INSERT INTO role_permissions (role_id, permission) "
            "SELECT role_id, 'exam_scores:amend' FROM role_permissions p "
            "WHERE p.permission = 'exam_scores:notify' AND NOT EXISTS ("
            "SELECT 1 FROM role_permissions q WHERE q.role_id = p.role_id "
            "AND q.permission = 'exam_scores:amend')"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role_permissions WHERE permission = 'exam_scores:amend'"))
    op.drop_table("exam_score_amendments")
    with op.batch_alter_table("exam_candidates") as batch_op:
        batch_op.drop_constraint(op.f("fk_exam_candidates_scored_by_id_users"), type_="foreignkey")
        batch_op.drop_column("scored_by_id")
        batch_op.drop_column("scored_at")
    with op.batch_alter_table("exams") as batch_op:
        batch_op.drop_constraint(op.f("fk_exams_scores_locked_by_id_users"), type_="foreignkey")
        batch_op.drop_column("scores_locked_by_id")
        batch_op.drop_column("scores_locked_at")
