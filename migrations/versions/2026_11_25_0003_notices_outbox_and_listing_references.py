"""Notices outbox and listing references

An outbox of notices to enterprises (written with the change they announce, delivered by a job),
a public reference on each listing, quoted in notices and objections, and the kind of a
proposal: a listing, or the removal of one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:36:57.464671
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('to_email', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_notices_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_notices_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index('ix_notices_undelivered', ['sent_at', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='listing', nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_listings_reference'), ['reference'])



def downgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_listings_reference'), type_='unique')
        batch_op.drop_column('kind')
        batch_op.drop_column('reference')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_undelivered')
        batch_op.drop_index(batch_op.f('ix_notices_listing_id'))
        batch_op.drop_index(batch_op.f('ix_notices_enterprise_id'))

    op.drop_table('notices')
