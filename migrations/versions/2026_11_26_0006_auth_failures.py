"""Authentication failures

Failed sign-ins per email and invalid bearer tokens per client address, counted in a window,
and the lock they lead to; every instance reads the same counters.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failures')),
    sa.UniqueConstraint('scope', 'subject', name=op.f('uq_auth_failures_scope_subject'))
    )
    op.create_index(op.f('ix_auth_failures_expires_at'), 'auth_failures', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_auth_failures_expires_at'), table_name='auth_failures')
    op.drop_table('auth_failures')
