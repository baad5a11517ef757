"""Memberships: which enterprises belong to which association (the basis of independence and
conflict-of-interest rules). A change re-evaluates the enterprise, since it can change quorum."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting.errors import NotFound, PermissionDenied
from vetting.models import Account, Association, Enterprise, Membership, Role
from vetting.services import audit
from vetting.services.actors import Actor
from vetting.services.evaluation import evaluate_enterprise


def _resolve(session: Session, actor: Actor, code: str, enterprise_id: int) -> tuple[Association, Enterprise]:
    assoc = session.scalar(select(Association).where(Association.code == (code or "").upper()))
    if assoc is None:
        raise NotFound(f"no association with code '{code}'")
    if isinstance(actor, Account):
        if actor.role is Role.REVIEWER or (actor.role is Role.ASSOCIATION_ADMIN and actor.association_id != assoc.id):
            raise PermissionDenied("only this association's admin or a registrar declares its members")
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.merged_into_id is not None:
        raise NotFound(f"no enterprise {enterprise_id}")
    return assoc, enterprise


def declare(session: Session, actor: Actor, code: str, enterprise_id: int, since: date | None = None) -> Membership:
    assoc, enterprise = _resolve(session, actor, code, enterprise_id)
    row = session.scalar(select(Membership).where(Membership.association_id == assoc.id, Membership.enterprise_id == enterprise.id))
    if row is not None and row.ended_on is None:
        return row
    if row is None:
        row = Membership(association_id=assoc.id, enterprise_id=enterprise.id, since=since)
        session.add(row)
    else:
        row.ended_on, row.since = None, since or row.since
    session.flush()
    audit.record(session, actor, "membership.declare", "enterprise", enterprise.id, {"association": assoc.code})
    evaluate_enterprise(session, actor, enterprise.id, trigger=f"membership.declare:{assoc.code}")
    session.commit()
    return row


def end(session: Session, actor: Actor, code: str, enterprise_id: int, on: date | None = None) -> Membership:
    assoc, enterprise = _resolve(session, actor, code, enterprise_id)
    row = session.scalar(select(Membership).where(Membership.association_id == assoc.id, Membership.enterprise_id == enterprise.id,
                                                  Membership.ended_on.is_(None)))
    if row is None:
        raise NotFound(f"enterprise {enterprise_id} is not a member of {assoc.code}")
    row.ended_on = on or date.today()
    session.flush()
    audit.record(session, actor, "membership.end", "enterprise", enterprise.id, {"association": assoc.code})
    evaluate_enterprise(session, actor, enterprise.id, trigger=f"membership.end:{assoc.code}")
    session.commit()
    return row
