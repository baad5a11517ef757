"""Name forms and token statistics for search

Each stored name with its comparison forms computed once, and how many enterprises carry each
search token, so a query reads its rarest tokens' postings and scores candidates by string
comparison only. `vetting init` (and `vetting search reindex`) fill both.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('name_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('own', sa.Boolean(), nullable=False),
    sa.Column('forms', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_name_forms_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_name_forms'))
    )
    with op.batch_alter_table('name_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_name_forms_enterprise_id'), ['enterprise_id'], unique=False)
    op.create_table('token_stats',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('enterprises', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_token_stats'))
    )


def downgrade() -> None:
    op.drop_table('token_stats')
    with op.batch_alter_table('name_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_name_forms_enterprise_id'))
    op.drop_table('name_forms')
