"""Name search candidate index

Short tokens of every form of every enterprise name, for finding search candidates with one
indexed query; rebuilt by `vetting search reindex`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:11:06.764455
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('name_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_name_tokens_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_name_tokens'))
    )
    with op.batch_alter_table('name_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_name_tokens_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_name_tokens_token_enterprise', ['token', 'enterprise_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('name_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_name_tokens_token_enterprise')
        batch_op.drop_index(batch_op.f('ix_name_tokens_enterprise_id'))

    op.drop_table('name_tokens')
