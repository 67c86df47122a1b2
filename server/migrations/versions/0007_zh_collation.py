"""zh collation on PostgreSQL: Chinese names sort by pinyin (server/db/collation.py)

ICU's Chinese (pinyin) order when the server was built with ICU; otherwise the operating
system's zh_CN locale; failing both, "C" (code point: the old order, never an error). SQLite
gets its ``zh`` collation on each connection instead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _source(bind: sa.Connection) -> str:
    has = "SELECT collname FROM pg_collation WHERE collname = ANY(:names) ORDER BY collname"
    icu = bind.scalar(sa.text("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'"))
    if icu:
        return "(provider = icu, locale = 'zh-u-co-pinyin')"
    libc = bind.execute(sa.text(has), {"names": ["zh_CN.utf8", "zh_CN.UTF-8"]}).scalars().first()
    return f'FROM "{libc}"' if libc else 'FROM "C"'


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE COLLATION IF NOT EXISTS zh {_source(bind)}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP COLLATION IF EXISTS zh")
