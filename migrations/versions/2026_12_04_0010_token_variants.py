"""Spelling variants of the search vocabulary

Each word of ``token_stats`` with 4 to 16 letters, stored once under every spelling with one of
its letters dropped. A query word one edit away from a registered word (a letter dropped, added
or changed, two letters swapped) shares one of these variants with it, so search can read the
registered word's postings although the query never spelled it. Filled here from the current
statistics; the daily statistics job and `vetting search reindex` rebuild it with them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHORTEST, _LONGEST = 4, 16


def upgrade() -> None:
    op.create_table('token_variants',
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('variant', 'token', name=op.f('pk_token_variants'))
    )
    positions = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(1, _LONGEST + 1))
    op.execute(
        "INSERT INTO token_variants (variant, token) "
        "SELECT DISTINCT substr(s.token, 1, p.i - 1) || substr(s.token, p.i + 1), s.token "
        f"FROM token_stats s, ({positions}) p "
        f"WHERE length(s.token) BETWEEN {_SHORTEST} AND {_LONGEST} AND p.i <= length(s.token)"
    )


def downgrade() -> None:
    op.drop_table('token_variants')
