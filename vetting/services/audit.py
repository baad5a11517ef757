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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    at = utcnow()
    summary_text = _canonical(summary or {})
    event = AuditEvent(
        at=at,
        actor_id=actor_id(actor),
        actor_label=actor_label(actor),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        summary=summary_text,
        prev_hash=prev,
        hash=event_hash(prev, at, actor_id(actor), actor_label(actor), action, subject_type, str(subject_id), summary_text),
    )
    session.add(event)
    session.flush()
    return event


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
