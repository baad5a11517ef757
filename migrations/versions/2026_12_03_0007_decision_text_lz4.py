"""Decision text compressed with lz4

A decision stores some 12 KB of JSON text (``document`` and ``inputs``), which PostgreSQL
compresses out of line. Its default compression, pglz, costs several times the CPU of lz4 for
a similar ratio, and re-evaluating the register writes a decision for every enterprise; these
two columns use lz4 where the server has it (PostgreSQL 14 and later, built with lz4). Values
already stored keep their compression until they are rewritten. SQLite does not compress: the
migration does nothing there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ('document', 'inputs')


def _has_lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql' or bind.dialect.server_version_info < (14,):
        return False
    # The setting lists only the methods this server was built with.
    return bool(bind.scalar(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")))


def _set_compression(method: str) -> None:
    if _has_lz4():
        op.execute('ALTER TABLE decisions ' + ', '.join(f'ALTER COLUMN {c} SET COMPRESSION {method}' for c in _COLUMNS))


def upgrade() -> None:
    _set_compression('lz4')


def downgrade() -> None:
    _set_compression('default')
