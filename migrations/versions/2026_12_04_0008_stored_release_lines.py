"""Stored release lines, with the marks that tell when one is stale

Two tables (see ``vetting.models.listing_line``): ``listing_line_marks`` counts, per listing, the
changes to the rows its release line is built from; ``listing_lines`` keeps each active
listing's finished line with the mark it was built at. The counting is done here, by triggers
on every table a line reads: an insert, update or delete there raises the mark of each listing
whose line reads the changed rows, in the writer's own transaction, whatever the writer is.

PostgreSQL: one trigger per table and event, per statement, over its transition tables (a bulk
load raises each mark once per statement, not once per row); TRUNCATE raises every mark.
SQLite: row triggers. Both raise a mark by an upsert, so a listing without a mark row gets one.
Existing listings start without a mark (mark 0) and without a stored line: the first release
after the upgrade builds every line.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Which listings' lines read a changed row, per table: the listings' column that names the
#: row, the changed rows' column it is matched to, and (rulesets) a step between. Every column a
#: line shows is read from one of these tables.
_READERS = {
    # the listing itself, and the enterprise's other listings (first_listed)
    'listings': ('l.enterprise_id', 'enterprise_id', '{keys}'),
    'enterprise_aliases': ('l.enterprise_id', 'enterprise_id', '{keys}'),
    'identifiers': ('l.enterprise_id', 'enterprise_id', '{keys}'),
    'listing_events': ('l.id', 'listing_id', '{keys}'),  # last_change
    'enterprises': ('l.enterprise_id', 'id', '{keys}'),
    'decisions': ('l.decision_id', 'id', '{keys}'),
    'rulesets': ('l.decision_id', 'id', 'SELECT id FROM decisions WHERE ruleset_id IN ({keys})'),
}
#: Tables whose rows carry more than a line shows: an update raises marks only when one of
#: these columns changed (the others, such as a decision's document, are written without cost).
_SHOWN = {
    'enterprises': ('id', 'legal_name', 'chinese_name', 'country', 'sector'),
    'decisions': ('id', 'total_score', 'pillar_scores', 'ruleset_id'),
    'rulesets': ('id', 'version'),
}
_RAISE = ('INSERT INTO listing_line_marks (listing_id, mark) SELECT DISTINCT l.id, 1 FROM listings l WHERE {where} '
          'ON CONFLICT (listing_id) DO UPDATE SET mark = listing_line_marks.mark + 1')


def _tables() -> None:
    op.create_table(
        'listing_line_marks',
        sa.Column('listing_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mark', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_listing_line_marks')),
    )
    op.create_table(
        'listing_lines',
        sa.Column('listing_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mark', sa.BigInteger(), nullable=False),
        sa.Column('form', sa.String(length=16), nullable=False),
        sa.Column('line', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_listing_lines')),
    )


def _where(table: str, keys: str) -> str:
    listed, _key, step = _READERS[table]
    return f'{listed} IN ({step.format(keys=keys)})'


def _pg_keys(table: str, event: str) -> str:
    """PostgreSQL: the changed rows' keys from the statement's transition tables. An update of
    a table with unshown columns counts only rows whose shown columns changed (compared as
    text: JSON has no equality); a row whose id changed counts under both ids."""
    key = _READERS[table][1]
    if event != 'update':
        return f'SELECT {key} FROM {"new_rows" if event == "insert" else "old_rows"}'
    if table not in _SHOWN:
        return f'SELECT {key} FROM new_rows UNION ALL SELECT {key} FROM old_rows'
    cols = ', '.join(f'CAST({{a}}.{c} AS TEXT)' for c in _SHOWN[table])
    return (f'SELECT n.id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id '
            f'WHERE o.id IS NULL OR ({cols.format(a="o")}) IS DISTINCT FROM ({cols.format(a="n")}) '
            f'UNION ALL SELECT o.id FROM old_rows o LEFT JOIN new_rows n ON n.id = o.id WHERE n.id IS NULL')


_REFERENCING = {'insert': 'REFERENCING NEW TABLE AS new_rows', 'update': 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows',
                'delete': 'REFERENCING OLD TABLE AS old_rows'}


def _events(table: str) -> tuple[str, ...]:
    # nothing reads an enterprise, decision or ruleset before a listing (whose insert raises
    # its marks) names it
    return ('update', 'delete') if table in _SHOWN else ('insert', 'update', 'delete')


def _pg_upgrade() -> None:
    for table in _READERS:
        for event in _events(table):
            name = f'listing_line_marks_{table}_{event}'
            op.execute(f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
                       f'{_RAISE.format(where=_where(table, _pg_keys(table, event)))}; RETURN NULL; END $$')
            op.execute(f'CREATE TRIGGER {name} AFTER {event.upper()} ON {table} {_REFERENCING[event]} '
                       f'FOR EACH STATEMENT EXECUTE FUNCTION {name}()')
        name = f'listing_line_marks_{table}_truncate'
        op.execute(f'CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
                   f'{_RAISE.format(where="true")}; RETURN NULL; END $$')
        op.execute(f'CREATE TRIGGER {name} AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {name}()')


def _pg_downgrade() -> None:
    for table in _READERS:
        for event in ('insert', 'update', 'delete', 'truncate'):
            name = f'listing_line_marks_{table}_{event}'
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')


def _sqlite_upgrade() -> None:
    for table, (_listed, key, _step) in _READERS.items():
        for event in _events(table):
            # a row trigger sees one row: its key before and after
            keys = {'insert': f'NEW.{key}', 'delete': f'OLD.{key}'}.get(event, f'OLD.{key}, NEW.{key}')
            on = f'UPDATE OF {", ".join(_SHOWN[table])}' if event == 'update' and table in _SHOWN else event.upper()
            op.execute(f'CREATE TRIGGER listing_line_marks_{table}_{event} AFTER {on} ON {table} FOR EACH ROW BEGIN '
                       f'{_RAISE.format(where=_where(table, keys))}; END')


def _sqlite_downgrade() -> None:
    for table in _READERS:
        for event in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS listing_line_marks_{table}_{event}')


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == 'postgresql':
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _pg_downgrade()
    else:
        _sqlite_downgrade()
    op.drop_table('listing_lines')
    op.drop_table('listing_line_marks')
