"""Due process: notice before the window, standing fixed at filing, memberships ended by request

- ``listings.notified_on`` and ``listings.objection_days``: the objection window runs from the day
  the enterprise was notified, not from the proposal. Proposed listings whose notice was never
  delivered lose their deadline (it is set when the notice is delivered or a registrar records
  service); the others run from the day their notice went out.
- ``notices.delivered_by``, ``served_on``, ``service_note``, ``recorded_by_id``: how and when a
  notice reached the enterprise (e-mail, or a channel a registrar recorded).
- ``assessments.standing``: member, independent or conflicted, fixed from the memberships valid
  on the submission date; filled here for the assessments already submitted.
- ``memberships.end_requested_on``, ``end_requested_by_id``, ``end_reason``, ``ended_by_id``: an
  end is asked for and confirmed by a registrar.
- ``suspended`` joins the listing statuses (a red listing held while a knock-out black proposal
  is pending). On SQLite the CHECK constraints are widened in the stored schema (the documented
  way to relax a constraint without rebuilding a table that others reference and that carries
  triggers); on PostgreSQL they are replaced.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "'proposed', 'active', 'withdrawn', 'expired', 'removed', 'revoked'"
_NEW = _OLD + ", 'suspended'"
#: (table, constraint, column) of the listing-status CHECK constraints
_CHECKS = (
    ('listings', 'ck_listings_listing_status', 'status'),
    ('listing_events', 'ck_listing_events_listing_event_from', 'from_status'),
    ('listing_events', 'ck_listing_events_listing_event_to', 'to_status'),
)


def _statuses(values: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for table, name, column in _CHECKS:
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {name}')
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({values}))')
        return
    before, after = (_OLD, _NEW) if values == _NEW else (_NEW, _OLD)
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
    bind.exec_driver_sql('PRAGMA writable_schema=ON')
    for table in ('listings', 'listing_events'):
        bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :before, :after) WHERE type = 'table' AND name = :table"),
                     {'before': f'IN ({before}))', 'after': f'IN ({after}))', 'table': table})
    bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema=OFF')


def _day(column: str) -> str:
    return f'CAST({column} AS DATE)' if op.get_bind().dialect.name == 'postgresql' else f'date({column})'


def _fill() -> None:
    bind = op.get_bind()
    op.execute("UPDATE notices SET delivered_by = 'email', served_on = " + _day('sent_at') + " WHERE sent_at IS NOT NULL")
    days = ('objection_deadline - CAST(proposed_at AS DATE)' if bind.dialect.name == 'postgresql'
            else 'CAST(julianday(objection_deadline) - julianday(date(proposed_at)) AS INTEGER)')
    op.execute(f'UPDATE listings SET objection_days = {days} WHERE objection_deadline IS NOT NULL')
    op.execute('UPDATE listings SET notified_on = (SELECT min(n.served_on) FROM notices n WHERE n.listing_id = listings.id)')
    deadline = ("notified_on + COALESCE(objection_days, 15)" if bind.dialect.name == 'postgresql'
                else "date(notified_on, '+' || COALESCE(objection_days, 15) || ' days')")
    op.execute(f"UPDATE listings SET objection_deadline = CASE WHEN notified_on IS NULL THEN NULL ELSE {deadline} END "
               "WHERE status = 'proposed'")
    member = (
        'EXISTS (SELECT 1 FROM memberships m WHERE m.association_id = assessments.association_id '
        'AND m.enterprise_id = assessments.enterprise_id '
        f'AND (m.since IS NULL OR m.since <= {_day("assessments.submitted_at")}) '
        f'AND (m.ended_on IS NULL OR {_day("assessments.submitted_at")} < m.ended_on))'
    )
    op.execute("UPDATE assessments SET standing = CASE WHEN conflict_declared THEN 'conflicted' "
               f"WHEN {member} THEN 'member' ELSE 'independent' END WHERE submitted_at IS NOT NULL")


def upgrade() -> None:
    op.add_column('listings', sa.Column('objection_days', sa.Integer(), nullable=True))
    op.add_column('listings', sa.Column('notified_on', sa.Date(), nullable=True))
    op.add_column('assessments', sa.Column('standing', sa.String(length=12), nullable=True))
    with op.batch_alter_table('notices') as batch:
        batch.add_column(sa.Column('delivered_by', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('served_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('service_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_notices_recorded_by_id_accounts'), 'accounts', ['recorded_by_id'], ['id'])
    with op.batch_alter_table('memberships') as batch:
        batch.add_column(sa.Column('end_requested_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('end_requested_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('end_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('ended_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_memberships_end_requested_by_id_accounts'), 'accounts', ['end_requested_by_id'], ['id'])
        batch.create_foreign_key(op.f('fk_memberships_ended_by_id_accounts'), 'accounts', ['ended_by_id'], ['id'])
    _statuses(_NEW)
    _fill()


def _drop_plain(table: str, column: str) -> None:
    """Drop a column that no index, key or trigger names: natively on both databases, so SQLite
    does not rebuild a table that others reference."""
    op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')


def downgrade() -> None:
    # suspended red listings were on the red list before suspension existed
    op.execute("UPDATE listings SET status = 'active' WHERE status = 'suspended'")
    op.execute("UPDATE listing_events SET from_status = 'active' WHERE from_status = 'suspended'")
    op.execute("UPDATE listing_events SET to_status = 'active' WHERE to_status = 'suspended'")
    _statuses(_OLD)
    # a proposal waiting for its notice had no deadline; the old rule ran the window from the proposal
    days = ("CAST(proposed_at AS DATE) + COALESCE(objection_days, 15)" if op.get_bind().dialect.name == 'postgresql'
            else "date(proposed_at, '+' || COALESCE(objection_days, 15) || ' days')")
    op.execute(f"UPDATE listings SET objection_deadline = {days} WHERE status = 'proposed' AND objection_deadline IS NULL")
    with op.batch_alter_table('memberships') as batch:
        batch.drop_constraint(op.f('fk_memberships_ended_by_id_accounts'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_memberships_end_requested_by_id_accounts'), type_='foreignkey')
        batch.drop_column('ended_by_id')
        batch.drop_column('end_reason')
        batch.drop_column('end_requested_by_id')
        batch.drop_column('end_requested_on')
    with op.batch_alter_table('notices') as batch:
        batch.drop_constraint(op.f('fk_notices_recorded_by_id_accounts'), type_='foreignkey')
        batch.drop_column('recorded_by_id')
        batch.drop_column('service_note')
        batch.drop_column('served_on')
        batch.drop_column('delivered_by')
    _drop_plain('assessments', 'standing')
    _drop_plain('listings', 'notified_on')
    _drop_plain('listings', 'objection_days')
