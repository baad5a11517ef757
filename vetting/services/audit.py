"""The audit log: append-only, each event hashed over the previous event's hash.

``record`` appends inside the caller's transaction, so an event exists exactly when the change
it describes was committed. ``verify`` walks the chain from the first event and names the first
broken link. On PostgreSQL an advisory transaction lock serialises appends; on SQLite the
database write lock does. The unique ``prev_hash`` column makes a fork impossible either way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vetting.models import AuditEvent
from vetting.models.types import utcnow
from vetting.services.actors import Actor, actor_id, actor_label
from vetting.services.rows import insert_rows

GENESIS = "0" * 64
_LOCK_KEY = 0x76657474  # "vett"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, at: datetime, actor_id: int | None, actor_label: str, action: str,
               subject_type: str, subject_id: str, summary: str) -> str:
    body = _canonical(
        {
            "prev": prev_hash,
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor_label,
            "action": action,
            "subject": [subject_type, subject_id],
            "summary": summary,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, actor: Actor, action: str, subject_type: str, subject_id: object,
           summary: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain (flushes; the caller commits)."""
    return record_many(session, actor, [(action, subject_type, subject_id, summary)])[0]


def record_many(session: Session, actor: Actor,
                events: list[tuple[str, str, object, dict[str, Any] | None]]) -> list[AuditEvent]:
    """Append ``(action, subject_type, subject_id, summary)`` events in order, in one flush."""
    out = [AuditEvent(**row) for row in _chained(session, actor, events)]
    session.add_all(out)
    session.flush()
    return out


def append_many(session: Session, actor: Actor, events: list[tuple[str, str, object, dict[str, Any] | None]]) -> int:
    """The same events as :func:`record_many`, inserted as plain rows: for services that append
    thousands at once and need no event objects back. Returns how many were appended."""
    rows = _chained(session, actor, events)
    insert_rows(session, AuditEvent, rows)
    return len(rows)


def _chained(session: Session, actor: Actor, events: list[tuple[str, str, object, dict[str, Any] | None]]) -> list[dict]:
    """The rows of ``events``, each linked to the one before it and the first to the chain's tail.

    The first event of a transaction takes the append lock and reads the chain's tail; while
    the lock is held nobody else can append, so later events of the same (innermost)
    transaction link to the hash remembered here instead of reading it again. The memory
    belongs to the database connection's innermost transaction, so anything else appending on
    the same connection, or a savepoint rolled back, makes the next event read the tail. The
    caller inserts the rows before anything else appends."""
    # Begin the session's transaction first: a session that has not run anything yet has none
    # (``get_transaction()`` is None, as is the marker of a session that never locked), and
    # appending without the lock would read a tail another writer is about to extend.
    connection = session.connection()
    root = session.get_transaction()
    if session.info.get("audit_locked") is not root:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        session.info["audit_locked"] = root
    innermost = connection.get_nested_transaction() or connection.get_transaction()
    tail = connection.info.get("audit_tail")
    if tail is not None and tail[0] is innermost:
        prev = tail[1]
    else:
        prev = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar() or GENESIS
    who, label = actor_id(actor), actor_label(actor)
    rows = []
    for action, subject_type, subject_id, summary in events:
        at = utcnow()
        summary_text = _canonical(summary or {})
        digest = event_hash(prev, at, who, label, action, subject_type, str(subject_id), summary_text)
        rows.append({"at": at, "actor_id": who, "actor_label": label, "action": action, "subject_type": subject_type,
                     "subject_id": str(subject_id), "summary": summary_text, "prev_hash": prev, "hash": digest})
        prev = digest
    connection.info["audit_tail"] = (innermost, prev)
    return rows


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_broken_id: int | None = None
    problem: str | None = None


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first event whose link or hash is wrong."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            return ChainReport(ok=True, events=count)
        for ev in rows:
            if ev.prev_hash != prev:
                return ChainReport(False, count, ev.id, f"event {ev.id} does not link to the previous event's hash")
            expected = event_hash(ev.prev_hash, ev.at, ev.actor_id, ev.actor_label, ev.action,
                                  ev.subject_type, ev.subject_id, ev.summary)
            if expected != ev.hash:
                return ChainReport(False, count, ev.id, f"event {ev.id} was altered: its content does not match its hash")
            prev = ev.hash
            count += 1
            last_id = ev.id
        session.expunge_all()


def list_events(session: Session, *, after_id: int = 0, limit: int = 100, **filters: object) -> list[AuditEvent]:
    """Events in chain order after ``after_id``, filtered on action, subject or actor."""
    query = select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    for name in ("action", "subject_type", "subject_id", "actor_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(AuditEvent, name) == filters[name])
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))
