"""Sign-out ends every copy of a session; no bearer token is kept in an idempotency answer

- ``accounts.session_version``: a number every sign-in session carries; signing out or changing
  the password raises it, so every copy of an older session cookie stops working at once.
- Stored answers of token-issuing requests (an account created with its token, a token issued or
  rotated) kept the whole body, token included, for replays. Their ``token`` is removed here and
  ``token_withheld`` set in its place, as the service now stores them: a replay says the token was
  issued already and is never shown again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _scrub() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, response_body FROM idempotency_keys WHERE response_body LIKE :pattern"),
                        {"pattern": '%"token"%'}).all()
    for key_id, body in rows:
        try:
            answer = json.loads(body)
        except ValueError:
            continue
        if isinstance(answer, dict) and isinstance(answer.get("token"), str):
            answer.pop("token")
            answer["token_withheld"] = True
            bind.execute(sa.text("UPDATE idempotency_keys SET response_body = :body WHERE id = :id"),
                         {"body": json.dumps(answer, separators=(",", ":"), ensure_ascii=False), "id": key_id})


def upgrade() -> None:
    op.add_column('accounts', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    _scrub()


def downgrade() -> None:
    # the scrubbed tokens are gone for good (that is the point); only the column is dropped,
    # natively, so SQLite does not rebuild a table that others reference
    op.execute('ALTER TABLE accounts DROP COLUMN session_version')
