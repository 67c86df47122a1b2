"""exam_candidates: room in every page for a score import's updates (PostgreSQL fillfactor 50),
and no separate index on exam_id

A score import updates every seat of an exam at once (scores, result, who and when: no indexed
column), and an update can stay within its page and add no index entries (HOT) only where the
page has room for the new row version. Pages filled to the brim make each of the 20,000 updates
of an import write a new entry in every index of the table; at fillfactor 50 most of the first
import's updates and all of a re-import's stay in their page (bench/scores.py). The table is
rewritten here so that the pages already there get the room too: ``CLUSTER`` on the primary key
(VACUUM FULL cannot run in the one transaction all migrations share; CLUSTER of a named table
can), after which the table is not left marked as clustered.

``ix_exam_candidates_exam_id`` goes on both engines: the unique (exam_id, application_id) index
starts with exam_id and answers every lookup by exam, so the separate index was only one more
entry to write for every seat added or moved.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20 10:00:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FILLFACTOR = 50  # server/db/exam_models.py ExamCandidate says the same


def upgrade() -> None:
    op.drop_index(op.f("ix_exam_candidates_exam_id"), table_name="exam_candidates")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE exam_candidates SET (fillfactor = {FILLFACTOR})")
        op.execute("CLUSTER exam_candidates USING pk_exam_candidates")
        op.execute("ALTER TABLE exam_candidates SET WITHOUT CLUSTER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pages written from now on are filled again; the ones there keep their room
        op.execute("ALTER TABLE exam_candidates RESET (fillfactor)")
    op.create_index(op.f("ix_exam_candidates_exam_id"), "exam_candidates", ["exam_id"])
