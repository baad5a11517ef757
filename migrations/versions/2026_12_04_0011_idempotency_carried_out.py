"""Idempotency keys remember whether their request's work was stored

A placeholder whose request never recorded its answer was taken over after two minutes, so a
retry ran afresh; when the work had been committed and only the recording of the answer failed
(the database went away between the two), that retry did the work twice. ``carried_out`` is set
in the same transaction as the request's first commit; a key with it set is never taken over.
Keys held before this migration count as not carried out, as they were treated until now.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('idempotency_keys', sa.Column('carried_out', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys') as batch:
        batch.drop_column('carried_out')
