"""Locks after repeated authentication failures.

Two scopes: ``sign-in`` counts failed sign-ins per email (known or not, so a lock does not
tell whether an email is registered), ``token`` counts invalid bearer tokens per client
address. When ``max_failures`` failures fall within ``window`` the subject is refused for
``lockout``, whatever it sends, and the lock is an audit event. A success clears the count.

The counters live in the database (table ``auth_failures``), not in Flask-Limiter's storage.
Every instance of the service already shares the database, so the count is the same whichever
instance or worker process a request reaches; the limiter's default storage (``lazy-memory://``)
is per process and would grant each process its own set of guesses unless a shared store is
configured. The database also keeps the count across restarts and commits a lock together
with its audit event. The cost is one indexed read per bearer-token request and one write
per failure; rows that no longer mean anything are deleted as failures are recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vetting.clock import now as clock_now
from vetting.models import AuthFailure

SIGN_IN = "sign-in"
TOKEN = "token"
_SUBJECT_LENGTH = 254


@dataclass(frozen=True)
class Policy:
    max_failures: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any], scope: str) -> Policy:
        """The policy of ``scope`` from the settings (``VETTING_SIGNIN_*`` / ``VETTING_TOKEN_*``)."""
        prefix = {SIGN_IN: "VETTING_SIGNIN", TOKEN: "VETTING_TOKEN"}[scope]
        return cls(int(config.get(f"{prefix}_MAX_FAILURES", DEFAULTS[scope].max_failures)),
                   timedelta(minutes=int(config.get(f"{prefix}_FAILURE_WINDOW", DEFAULTS[scope].window.total_seconds() // 60))),
                   timedelta(minutes=int(config.get(f"{prefix}_LOCKOUT", DEFAULTS[scope].lockout.total_seconds() // 60))))


DEFAULTS = {
    SIGN_IN: Policy(5, timedelta(minutes=15), timedelta(minutes=15)),
    TOKEN: Policy(20, timedelta(minutes=10), timedelta(minutes=10)),
}


def _subject(subject: str) -> str:
    return (subject or "").strip().lower()[:_SUBJECT_LENGTH]


def locked_until(session: Session, scope: str, subject: str) -> datetime | None:
    """When the lock on ``subject`` ends, or None if it is not locked now."""
    until = session.scalar(select(AuthFailure.locked_until).where(AuthFailure.scope == scope,
                                                                  AuthFailure.subject == _subject(subject)))
    if until is not None and until > clock_now(session):
        return until
    return None


def seconds_left(session: Session, until: datetime) -> int:
    """Whole seconds (at least 1) until ``until``, for a Retry-After header."""
    return max(1, math.ceil((until - clock_now(session)).total_seconds()))


def _row_for_update(session: Session, scope: str, subject: str, at: datetime) -> AuthFailure:
    query = select(AuthFailure).where(AuthFailure.scope == scope, AuthFailure.subject == subject).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = AuthFailure(scope=scope, subject=subject, failures=0, expires_at=at)
            session.add(row)
    except IntegrityError:  # another request created it first: count on that row
        row = session.scalar(query.execution_options(populate_existing=True))
    return row


def record_failure(session: Session, scope: str, subject: str, policy: Policy) -> datetime | None:
    """Count one failure (flushes; the caller commits). Returns when the lock it starts ends,
    or None when this failure does not lock the subject."""
    at = clock_now(session)
    session.execute(delete(AuthFailure).where(AuthFailure.expires_at < at))
    row = _row_for_update(session, scope, _subject(subject), at)
    if row.window_started_at is None or at - row.window_started_at >= policy.window:
        row.window_started_at, row.failures = at, 0
    row.failures += 1
    started = None
    if row.failures >= policy.max_failures:
        row.locked_until = started = at + policy.lockout
        row.failures, row.window_started_at = 0, None
    ends = [t for t in (row.locked_until, row.window_started_at and row.window_started_at + policy.window) if t]
    row.expires_at = max(ends)
    session.flush()
    return started


def clear(session: Session, scope: str, subject: str) -> None:
    """Forget the failures of ``subject`` after a success (flushes; the caller commits)."""
    session.execute(delete(AuthFailure).where(AuthFailure.scope == scope, AuthFailure.subject == _subject(subject)))
