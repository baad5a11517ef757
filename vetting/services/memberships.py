"""Memberships: which enterprises belong to which association, and so which assessments are
independent.

A membership is valid from ``since`` (always, when unknown) to the day before ``ended_on``. An
assessment's *standing* — member, independent or conflicted — is fixed on its submission date
from the memberships valid that day and stored with it (:func:`standing_of`); nothing done to a
membership later changes it. Ending a membership is a request (an association's admin or a
registrar asks) that takes effect when a registrar other than the one who asked confirms it,
from the day of the confirmation. Because standings are fixed, neither step can change a
decision, and neither re-evaluates the enterprise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import M_, Conflict, N_, NotFound, PermissionDenied
from vetting.models import Account, Association, Enterprise, Membership, Role
from vetting.services import audit
from vetting.services.actors import Actor, actor_id

MEMBER, INDEPENDENT, CONFLICTED = "member", "independent", "conflicted"


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


def valid_on(day: date):  # noqa: ANN201 - a SQL condition
    """The memberships valid on ``day``."""
    return and_(or_(Membership.since.is_(None), Membership.since <= day),
                or_(Membership.ended_on.is_(None), Membership.ended_on > day))


def members_on(session: Session, pairs: Iterable[tuple[int, int]], day: date) -> set[tuple[int, int]]:
    """Which (association id, enterprise id) of ``pairs`` are memberships valid on ``day``."""
    wanted = sorted(set(pairs))
    found: set[tuple[int, int]] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update((a, e) for a, e in session.execute(
            select(Membership.association_id, Membership.enterprise_id)
            .where(tuple_(Membership.association_id, Membership.enterprise_id).in_(chunk), valid_on(day))).all())
    return found


def standing_of(conflict_declared: bool | None, member: bool) -> str:
    """An assessment's standing: a declared conflict first, then membership on the filing day."""
    if conflict_declared:
        return CONFLICTED
    return MEMBER if member else INDEPENDENT


def fix_standing(session: Session, assessment, *, amended_from: str | None = None) -> str:  # noqa: ANN001 - an Assessment
    """Fix a submitted assessment's standing from the memberships valid on its submission day.
    An amendment keeps the member standing of the assessment it replaces: revising a review
    filed as a member does not make it independent."""
    day = assessment.submitted_at.date() if assessment.submitted_at else clock.today(session)
    member = (assessment.association_id, assessment.enterprise_id) in members_on(
        session, [(assessment.association_id, assessment.enterprise_id)], day)
    assessment.standing = standing_of(assessment.conflict_declared, member or amended_from == MEMBER)
    return assessment.standing


def declare(session: Session, actor: Actor, code: str, enterprise_id: int, since: date | None = None) -> Membership:
    """Declare a membership (idempotent); a pending end request is withdrawn. Commits."""
    assoc, enterprise = _resolve(session, actor, code, enterprise_id)
    row = session.scalar(select(Membership).where(Membership.association_id == assoc.id, Membership.enterprise_id == enterprise.id))
    today = clock.today(session)
    if row is not None and row.ended_on is None:
        if row.end_requested_on is None:
            return row
        row.end_requested_on = row.end_requested_by_id = row.end_reason = None
        action = "membership.end_withdraw"
    elif row is None:
        row = Membership(association_id=assoc.id, enterprise_id=enterprise.id, since=since, created_at=clock.now(session))
        session.add(row)
        action = "membership.declare"
    else:  # a member again after an end: valid from the given day, or today
        row.ended_on, row.since, row.ended_by_id = None, since or today, None
        row.end_requested_on = row.end_requested_by_id = row.end_reason = None
        action = "membership.declare"
    session.flush()
    audit.record(session, actor, action, "enterprise", enterprise.id, {"association": assoc.code})
    session.commit()
    return row


def request_end(session: Session, actor: Actor, code: str, enterprise_id: int, reason: str | None = None) -> Membership:
    """Ask for a membership to end; a registrar confirms it (:func:`confirm_end`). Commits."""
    assoc, enterprise = _resolve(session, actor, code, enterprise_id)
    row = _open_row(session, assoc, enterprise)
    if row.end_requested_on is not None:
        raise Conflict(M_("ending this membership was asked for on %(day)s; a registrar confirms it",
                          day=f"{row.end_requested_on:%Y-%m-%d}"), conflicting_id=row.id)
    row.end_requested_on = clock.today(session)
    row.end_requested_by_id = actor_id(actor)
    row.end_reason = (reason or "").strip() or None
    session.flush()
    audit.record(session, actor, "membership.end_request", "enterprise", enterprise.id,
                 {"association": assoc.code, "reason": row.end_reason})
    session.commit()
    return row


def confirm_end(session: Session, actor: Actor, code: str, enterprise_id: int) -> Membership:
    """A registrar other than the one who asked confirms an end: the enterprise is no longer a
    member from today (the service clock). Earlier assessments keep their standing. Commits."""
    if not isinstance(actor, Account) or actor.role is not Role.REGISTRAR:
        if isinstance(actor, Account):
            raise PermissionDenied(N_("only a registrar confirms the end of a membership"))
    assoc, enterprise = _resolve(session, actor, code, enterprise_id)
    row = _open_row(session, assoc, enterprise)
    if row.end_requested_on is None:
        raise Conflict(M_("no one asked to end this membership; its association's admin asks first "
                          "(DELETE /api/v1/associations/%(code)s/members/%(id)s)", code=assoc.code, id=enterprise.id),
                       conflicting_id=row.id)
    if isinstance(actor, Account) and row.end_requested_by_id == actor.id:
        raise PermissionDenied(N_("four eyes: a registrar other than the one who asked confirms the end"))
    row.ended_on = clock.today(session)
    row.ended_by_id = actor_id(actor)
    session.flush()
    audit.record(session, actor, "membership.end", "enterprise", enterprise.id,
                 {"association": assoc.code, "ended_on": row.ended_on.isoformat(), "requested_on": row.end_requested_on.isoformat()})
    session.commit()
    return row


def _open_row(session: Session, assoc: Association, enterprise: Enterprise) -> Membership:
    row = session.scalar(select(Membership).where(Membership.association_id == assoc.id, Membership.enterprise_id == enterprise.id,
                                                  Membership.ended_on.is_(None)).with_for_update())
    if row is None:
        raise NotFound(f"enterprise {enterprise.id} is not a member of {assoc.code}")
    return row


def pending_ends(session: Session, actor: Actor, *, limit: int = 200) -> list[Membership]:
    """Membership ends waiting for a registrar, oldest first."""
    if isinstance(actor, Account) and actor.role is not Role.REGISTRAR:
        raise PermissionDenied(N_("only a registrar can do this"))
    return list(session.scalars(select(Membership).where(Membership.ended_on.is_(None), Membership.end_requested_on.is_not(None))
                                .order_by(Membership.end_requested_on, Membership.id).limit(limit)))

