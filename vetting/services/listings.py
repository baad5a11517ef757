"""Listings with due process: proposal, notice, objection window, four-eyes confirmation.

A stored decision whose outcome differs from the enterprise's current list creates a
*proposed* listing and writes a notice to the enterprise into the outbox, in the same
transaction. The objection window runs for the ruleset's ``objection_days``; an open objection
holds the proposal. After the window a registrar who did not trigger the proposal confirms it:
the listing becomes *active* for the ruleset's red or black months, and a red listing it
replaces ends at that moment (an enterprise is never on both lists). Every transition is a
listing event (the history that answers "what was the status on date X") and an audit event.
Time comes from the session's clock (``vetting.clock``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import M_, Conflict, N_, NotFound, PermissionDenied, ValidationError
from vetting.models import (
    Account,
    Decision,
    Enterprise,
    Listing,
    ListingEvent,
    ListingStatus,
    ListType,
    Notice,
    Objection,
    RepairRequest,
    RequestStatus,
    Role,
    Ruleset,
)
from vetting.services import audit
from vetting.services.actors import Actor, SystemActor, actor_id

_LIST_FOR = {"RED": ListType.RED, "BLACK": ListType.BLACK}


def _durations(session: Session, ruleset_id: int) -> dict:
    ruleset = session.get(Ruleset, ruleset_id)
    return json.loads(ruleset.document)["durations"]


def _require_registrar(actor: Actor) -> Account | None:
    if isinstance(actor, Account) and actor.role is not Role.REGISTRAR:
        raise PermissionDenied(N_("only a registrar can do this"))
    return actor if isinstance(actor, Account) else None


def _transition(session: Session, actor: Actor, listing: Listing, to: ListingStatus, reason: str, action: str,
                summary: dict | None = None) -> None:
    before = listing.status if listing.id is not None else None
    listing.status = to
    session.add(ListingEvent(listing=listing, at=clock.now(session), from_status=before, to_status=to,
                             actor_id=actor_id(actor), reason=reason))
    session.flush()
    audit.record(session, actor, action, "listing", listing.id,
                 {"enterprise_id": listing.enterprise_id, "list": listing.list_type.value, "from": before.value if before else None,
                  "to": to.value, "reason": reason, **(summary or {})})


def active_listing(session: Session, enterprise_id: int) -> Listing | None:
    return session.scalar(select(Listing).where(Listing.enterprise_id == enterprise_id, Listing.status == ListingStatus.ACTIVE))


def open_proposal(session: Session, enterprise_id: int) -> Listing | None:
    return session.scalar(select(Listing).where(Listing.enterprise_id == enterprise_id, Listing.status == ListingStatus.PROPOSED))


def called_for(outcome: str, active: ListType | None) -> tuple[str, ListType] | None:
    """The proposal an outcome calls for, given the list the enterprise is on: ("listing", list)
    to put it on a list, ("removal", list) to take it off, or None."""
    target = _LIST_FOR.get(outcome)
    if target is not None and active is not target:
        return ("listing", target)
    if target is None and active is not None:
        return ("removal", active)
    return None


def on_decision(session: Session, actor: Actor, decision: Decision) -> Listing | None:
    """Propose what ``decision`` calls for (flushes; the caller's transaction commits it).

    RED or BLACK differing from the active list proposes that list; NONE while on a list
    proposes the removal. An open proposal that the decision no longer calls for is withdrawn;
    one it still calls for stands as it is."""
    active = active_listing(session, decision.enterprise_id)
    proposal = open_proposal(session, decision.enterprise_id)
    wanted = called_for(decision.outcome.value, active.list_type if active else None)
    if proposal is not None:
        if wanted == (proposal.kind, proposal.list_type):
            return None
        _end(session, actor, proposal, ListingStatus.WITHDRAWN,
             f"superseded by decision {decision.id} ({decision.outcome.value})", "listing.withdraw")
    if wanted is None:
        return None
    kind, list_type = wanted
    durations = _durations(session, decision.ruleset_id)
    document = json.loads(decision.document)
    listing = Listing(enterprise_id=decision.enterprise_id, kind=kind, list_type=list_type, decision_id=decision.id,
                      reference=f"L{clock.today(session):%Y}-{secrets.token_hex(4).upper()}",
                      reason_codes=list(decision.reason_codes), grounds=document.get("grounds", ""),
                      proposed_at=clock.now(session), triggered_by_id=actor_id(actor),
                      objection_deadline=clock.today(session) + timedelta(days=int(durations["objection_days"])))
    session.add(listing)
    _transition(session, actor, listing, ListingStatus.PROPOSED, f"decision {decision.id}: {', '.join(decision.reason_codes)}",
                "listing.propose", {"decision_id": decision.id, "reference": listing.reference, "kind": kind})
    _notify_proposal(session, listing, active)
    return listing


def _notify_proposal(session: Session, listing: Listing, replacing: Listing | None) -> Notice:
    enterprise = session.get(Enterprise, listing.enterprise_id)
    name = "red list (commended)" if listing.list_type is ListType.RED else "black list (deal with care)"
    if listing.kind == "removal":
        what, move = f"to remove your enterprise from the {name}", ""
    else:
        what = f"to put your enterprise on the {name}"
        move = f"\nIt would replace the enterprise's current {replacing.list_type.value} listing.\n" if replacing else ""
    body = (
        f"To {enterprise.legal_name}:\n\n"
        f"The vetting register proposes {what}.\n{move}\n"
        f"Reference: {listing.reference}\n"
        f"Reason codes: {', '.join(listing.reason_codes)}\n"
        f"Grounds: {listing.grounds}\n\n"
        f"You may object until {listing.objection_deadline:%Y-%m-%d} (inclusive), with your grounds and evidence:\n"
        f"POST /api/v1/objections with this reference and the contact email this notice was sent to, or the "
        f"objection form on the website. An open objection holds the proposal until a registrar decides it.\n"
    )
    notice = Notice(enterprise_id=enterprise.id, listing_id=listing.id, kind="listing.proposed", to_email=enterprise.contact_email,
                    subject=(f"Proposed removal from the {listing.list_type.value} list {listing.reference}" if listing.kind == "removal"
                             else f"Proposed {listing.list_type.value} listing {listing.reference}"), body=body,
                    created_at=clock.now(session), next_attempt_at=clock.now(session))
    session.add(notice)
    session.flush()
    return notice


def _notified(session: Session, reference: str, contact_email: str, errors: dict[str, list[str]]) -> Listing | None:
    """The listing whose notice quoted ``reference`` to ``contact_email``; otherwise an error
    under ``reference`` (one answer for a wrong reference and a wrong email, so a guesser
    learns neither)."""
    listing = session.scalar(select(Listing).where(Listing.reference == (reference or "").strip().upper()))
    enterprise = session.get(Enterprise, listing.enterprise_id) if listing else None
    if listing is None or enterprise is None or not enterprise.contact_email or \
            enterprise.contact_email.strip().lower() != (contact_email or "").strip().lower():
        errors["reference"] = [N_("no listing with this reference was notified to this email")]
        return None
    return listing


def file_objection(session: Session, *, reference: str, contact_email: str, grounds: str, evidence: list[dict] | None = None,
                   contact_name: str | None = None) -> Objection:
    """The enterprise objects to a proposed or active listing (no account: the listing's
    reference and the contact email the notice went to). Commits."""
    errors: dict[str, list[str]] = {}
    if not (grounds or "").strip():
        errors["grounds"] = [N_("say why the listing is wrong")]
    listing = _notified(session, reference, contact_email, errors)
    if errors:
        raise ValidationError(N_("the objection cannot be filed"), errors)
    if listing.status not in (ListingStatus.PROPOSED, ListingStatus.ACTIVE):
        raise Conflict(M_("listing %(reference)s is %(status)s; there is nothing to object to", reference=listing.reference,
                           status=listing.status.value),
                       conflicting_id=listing.id)
    if listing.status is ListingStatus.PROPOSED and clock.today(session) > listing.objection_deadline:
        raise Conflict(M_("the objection window of %(reference)s closed on %(day)s", reference=listing.reference,
                           day=f"{listing.objection_deadline:%Y-%m-%d}"),
                       conflicting_id=listing.id)
    objection = Objection(reference=f"O{clock.today(session):%Y}-{secrets.token_hex(4).upper()}", listing_id=listing.id,
                          contact_name=contact_name, contact_email=contact_email.strip().lower(), grounds=grounds.strip(),
                          evidence=list(evidence or []), filed_at=clock.now(session))
    session.add(objection)
    session.flush()
    audit.record(session, SystemActor("public"), "objection.file", "objection", objection.id,
                 {"listing_id": listing.id, "reference": objection.reference})
    session.commit()
    return objection


def _decide(session: Session, actor: Actor, model: type, item_id: int, what: str, verdict: RequestStatus, reason: str,
            summary: dict) -> Objection | RepairRequest:
    """Record a registrar's verdict on an open objection or repair request, with reasons."""
    account = _require_registrar(actor)
    if not (reason or "").strip():
        raise ValidationError("give the reasons", {"reason": [f"deciding the {what} needs its reasons"]})
    item = session.get(model, item_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no {what} {item_id}")
    if item.status is not RequestStatus.OPEN:
        raise Conflict(M_("%(reference)s was already decided (%(status)s)", reference=item.reference, status=item.status.value),
                       conflicting_id=item.id)
    item.status = verdict
    item.decided_at = clock.now(session)
    item.decided_by_id = account.id if account else None
    item.decision_reason = reason.strip()
    session.flush()
    audit.record(session, actor, f"{'objection' if model is Objection else 'repair'}.decide",
                 "objection" if model is Objection else "repair_request", item.id,
                 {"listing_id": item.listing_id, **summary, "reason": reason.strip()})
    return item


def decide_objection(session: Session, actor: Actor, objection_id: int, *, upheld: bool, reason: str) -> Objection:
    """A registrar upholds (the proposal is withdrawn, an active listing removed) or rejects
    an objection, with reasons. Commits."""
    objection = _decide(session, actor, Objection, objection_id, "objection", RequestStatus.UPHELD if upheld else RequestStatus.REJECTED,
                        reason, {"upheld": upheld})
    if upheld:
        listing = session.get(Listing, objection.listing_id)
        if listing.status in (ListingStatus.PROPOSED, ListingStatus.ACTIVE):
            to = ListingStatus.WITHDRAWN if listing.status is ListingStatus.PROPOSED else ListingStatus.REMOVED
            _end(session, actor, listing, to, f"objection {objection.reference} upheld: {reason.strip()}",
                 "listing.withdraw" if to is ListingStatus.WITHDRAWN else "listing.remove")
    session.commit()
    return objection


def _end(session: Session, actor: Actor, listing: Listing, to: ListingStatus, reason: str, action: str) -> None:
    listing.ended_at = clock.now(session)
    listing.end_reason = reason
    listing.ended_by_id = actor.id if isinstance(actor, Account) else None
    _transition(session, actor, listing, to, reason, action)


def confirm(session: Session, actor: Actor, listing_id: int) -> Listing:
    """A second registrar confirms a proposal after its objection window: it becomes active.
    Two registrars confirming at once: one wins, the other gets 409. Commits."""
    account = _require_registrar(actor)
    listing = session.get(Listing, listing_id, with_for_update=True)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    if listing.status is not ListingStatus.PROPOSED:
        raise Conflict(M_("listing %(reference)s is %(status)s, not proposed", reference=listing.reference, status=listing.status.value),
                       conflicting_id=listing.id)
    if account is not None and listing.triggered_by_id == account.id:
        raise PermissionDenied(N_("four eyes: a registrar other than the one who triggered the proposal must confirm it"))
    today = clock.today(session)
    if today <= listing.objection_deadline:
        raise Conflict(M_("the objection window of %(reference)s is open until %(deadline)s; confirm from %(day)s",
                           reference=listing.reference, deadline=f"{listing.objection_deadline:%Y-%m-%d}",
                           day=f"{listing.objection_deadline + timedelta(days=1):%Y-%m-%d}"), conflicting_id=listing.id)
    pending = session.scalar(select(Objection).where(Objection.listing_id == listing.id, Objection.status == RequestStatus.OPEN))
    if pending is not None:
        raise Conflict(M_("objection %(reference)s is open; decide it first", reference=pending.reference), conflicting_id=pending.id)
    current = session.scalar(select(Listing).where(Listing.enterprise_id == listing.enterprise_id,
                                                   Listing.status == ListingStatus.ACTIVE).with_for_update())
    if listing.kind == "removal":
        listing.confirmed_at = clock.now(session)
        listing.confirmed_by_id = account.id if account else None
        if current is not None:
            _end(session, actor, current, ListingStatus.REMOVED, f"removal {listing.reference} confirmed", "listing.remove")
        _end(session, actor, listing, ListingStatus.REMOVED, "confirmed: the enterprise is off the list", "listing.confirm")
        session.commit()
        return listing
    if current is not None:
        _end(session, actor, current, ListingStatus.REMOVED,
             f"superseded: listing {listing.reference} on the {listing.list_type.value} list takes effect", "listing.remove")
    durations = _durations(session, session.get(Decision, listing.decision_id).ruleset_id)
    months = int(durations["red_months" if listing.list_type is ListType.RED else "black_months"])
    listing.confirmed_at = clock.now(session)
    listing.confirmed_by_id = account.id if account else None
    listing.effective_from = today
    listing.expires_on = clock.add_months(today, months)
    _transition(session, actor, listing, ListingStatus.ACTIVE, f"confirmed; effective {today:%Y-%m-%d} until {listing.expires_on:%Y-%m-%d}",
                "listing.confirm", {"effective_from": today.isoformat(), "expires_on": listing.expires_on.isoformat()})
    session.commit()
    return listing


def revoke(session: Session, actor: Actor, listing_id: int, reason: str) -> Listing:
    """A registrar revokes a proposed or active listing (e.g. made on falsified evidence). Commits."""
    _require_registrar(actor)
    if not (reason or "").strip():
        raise ValidationError(N_("give a reason"), {"reason": [N_("a revocation needs its reason")]})
    listing = session.get(Listing, listing_id, with_for_update=True)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    if listing.status not in (ListingStatus.PROPOSED, ListingStatus.ACTIVE):
        raise Conflict(M_("listing %(reference)s is %(status)s", reference=listing.reference, status=listing.status.value),
                       conflicting_id=listing.id)
    _end(session, actor, listing, ListingStatus.REVOKED, reason.strip(), "listing.revoke")
    session.commit()
    return listing


def expire_due(session: Session, actor: Actor) -> list[Listing]:
    """End every active listing past its ``expires_on`` (the expiry job); an enterprise assessed
    again during the term is re-evaluated at once, so what the new assessments say is proposed
    rather than the listing silently lapsing. Commits."""
    today = clock.today(session)
    due = session.scalars(select(Listing).where(Listing.status == ListingStatus.ACTIVE, Listing.expires_on < today)
                          .order_by(Listing.id).with_for_update()).all()
    from vetting.models import Assessment, AssessmentStatus
    from vetting.services.evaluation import evaluate_enterprise

    for listing in due:
        _end(session, actor, listing, ListingStatus.EXPIRED, f"expired on {listing.expires_on:%Y-%m-%d}", "listing.expire")
        fresh = session.scalar(select(Assessment.id).where(
            Assessment.enterprise_id == listing.enterprise_id, Assessment.status == AssessmentStatus.SUBMITTED,
            Assessment.submitted_at > (listing.confirmed_at or listing.proposed_at)).limit(1))
        if fresh is not None:
            # assessments filed during the term decide what comes next (possibly a new proposal)
            evaluate_enterprise(session, actor, listing.enterprise_id, trigger=f"listing.expire:{listing.id}")
    session.commit()
    return list(due)


@dataclass(frozen=True)
class StatusOn:
    day: date
    list: str | None  # "red", "black" or None
    listing_id: int | None
    since: date | None


def status_on(session: Session, enterprise_id: int, day: date) -> StatusOn:
    """The enterprise's list on ``day``, from the listing history: a listing counts from the
    day it became active to the day before it left that state."""
    rows = session.execute(
        select(ListingEvent.listing_id, ListingEvent.at, ListingEvent.from_status, ListingEvent.to_status, Listing.list_type)
        .join(Listing, Listing.id == ListingEvent.listing_id)
        .where(Listing.enterprise_id == enterprise_id).order_by(ListingEvent.at, ListingEvent.id)
    ).all()
    started: dict[int, tuple[date, ListType]] = {}
    found: StatusOn = StatusOn(day, None, None, None)
    for listing_id, at, from_status, to_status, list_type in rows:
        if to_status is ListingStatus.ACTIVE:
            started[listing_id] = (at.date(), list_type)
        elif from_status is ListingStatus.ACTIVE and listing_id in started:
            begin, kind = started.pop(listing_id)
            if begin <= day < at.date():
                found = StatusOn(day, kind.value, listing_id, begin)
    for listing_id, (begin, kind) in started.items():
        if begin <= day:
            found = StatusOn(day, kind.value, listing_id, begin)
    return found



def file_repair(session: Session, *, reference: str, contact_email: str, remediation: str, evidence: list[dict] | None = None,
                contact_name: str | None = None) -> RepairRequest:
    """A black-listed enterprise applies for removal after remediation (no account: the
    listing's reference and its contact email). Refused, with the earliest date it may apply,
    before the ruleset's minimum period or beyond its limits; refused outright when a
    knock-out the ruleset marks non-repairable grounds the listing. Commits."""
    errors: dict[str, list[str]] = {}
    if not (remediation or "").strip():
        errors["remediation"] = ["describe what was remedied"]
    listing = _notified(session, reference, contact_email, errors)
    if errors:
        raise ValidationError("the repair request cannot be filed", errors)
    if listing.status is not ListingStatus.ACTIVE or listing.list_type is not ListType.BLACK:
        raise Conflict(f"listing {listing.reference} is not an active black listing", conflicting_id=listing.id)
    decision = session.get(Decision, listing.decision_id)
    document = json.loads(session.get(Ruleset, decision.ruleset_id).document)
    durations = document["durations"]
    fixed = sorted(k["code"] for k in document["knockouts"] if not k.get("repairable", True) and k["code"] in listing.reason_codes)
    if fixed:
        raise Conflict(f"listing {listing.reference} rests on knock-outs the ruleset marks non-repairable ({', '.join(fixed)}); "
                       f"it runs until {listing.expires_on:%Y-%m-%d}", conflicting_id=listing.id)
    open_request = session.scalar(select(RepairRequest).where(RepairRequest.listing_id == listing.id,
                                                              RepairRequest.status == RequestStatus.OPEN))
    if open_request is not None:
        raise Conflict(f"repair request {open_request.reference} is still open", conflicting_id=open_request.id)
    today = clock.today(session)
    earliest = clock.add_months(listing.effective_from, int(durations["repair_min_months"]))
    earlier = sorted(r.filed_at.date() for r in session.scalars(
        select(RepairRequest).join(Listing, Listing.id == RepairRequest.listing_id).where(Listing.enterprise_id == listing.enterprise_id)))
    for months, limit in ((12, int(durations["repair_max_per_12_months"])), (60, int(durations["repair_max_per_60_months"]))):
        recent = [d for d in earlier if d > clock.add_months(today, -months)]
        if len(recent) >= limit:
            earliest = max(earliest, clock.add_months(recent[-limit], months) + timedelta(days=1))
    if today < earliest:
        raise Conflict(f"a repair request for {listing.reference} can be filed from {earliest:%Y-%m-%d}", conflicting_id=listing.id,
                       earliest=earliest.isoformat())
    request = RepairRequest(reference=f"R{today:%Y}-{secrets.token_hex(4).upper()}", listing_id=listing.id, contact_name=contact_name,
                            contact_email=contact_email.strip().lower(), remediation=remediation.strip(),
                            evidence=list(evidence or []), filed_at=clock.now(session))
    session.add(request)
    session.flush()
    audit.record(session, SystemActor("public"), "repair.file", "repair_request", request.id,
                 {"listing_id": listing.id, "reference": request.reference})
    session.commit()
    return request


def decide_repair(session: Session, actor: Actor, request_id: int, *, granted: bool, reason: str) -> RepairRequest:
    """A registrar grants (the listing is removed, with the reason) or refuses a repair request. Commits."""
    request = _decide(session, actor, RepairRequest, request_id, "repair request", RequestStatus.GRANTED if granted else RequestStatus.REFUSED,
                      reason, {"granted": granted})
    if granted:
        listing = session.get(Listing, request.listing_id, with_for_update=True)
        if listing.status is ListingStatus.ACTIVE:
            _end(session, actor, listing, ListingStatus.REMOVED, f"repair {request.reference} granted: {reason.strip()}", "listing.remove")
    session.commit()
    return request


@dataclass(frozen=True)
class Queue:
    proposals: list[Listing]
    objections: list[Objection]
    repairs: list[RepairRequest]


def queue(session: Session, actor: Actor, *, limit: int = 200) -> Queue:
    """What waits for a registrar: proposals (oldest deadline first), open objections and
    open repair requests."""
    _require_registrar(actor)
    return Queue(
        proposals=list(session.scalars(select(Listing).where(Listing.status == ListingStatus.PROPOSED)
                                       .order_by(Listing.objection_deadline, Listing.id).limit(limit))),
        objections=list(session.scalars(select(Objection).where(Objection.status == RequestStatus.OPEN)
                                        .order_by(Objection.id).limit(limit))),
        repairs=list(session.scalars(select(RepairRequest).where(RepairRequest.status == RequestStatus.OPEN)
                                     .order_by(RepairRequest.id).limit(limit))),
    )


@dataclass(frozen=True)
class ListingView:
    listing: Listing
    enterprise: Enterprise
    decision: dict
    objections: list[Objection]
    repairs: list[RepairRequest]
    events: list[ListingEvent]


def view(session: Session, actor: Actor, listing_id: int) -> ListingView:
    """A listing with the decision behind it (grounds and trace), its objections, repair
    requests and history, for a registrar."""
    _require_registrar(actor)
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    return ListingView(
        listing=listing, enterprise=session.get(Enterprise, listing.enterprise_id),
        decision=json.loads(session.get(Decision, listing.decision_id).document),
        objections=list(session.scalars(select(Objection).where(Objection.listing_id == listing.id).order_by(Objection.id))),
        repairs=list(session.scalars(select(RepairRequest).where(RepairRequest.listing_id == listing.id).order_by(RepairRequest.id))),
        events=list(listing.events),
    )


@dataclass(frozen=True)
class PublicStatus:
    enterprise: Enterprise
    status: StatusOn
    decision: Decision | None
    grounds: str | None
    history: list[tuple[ListingEvent, Listing]]


def public_status(session: Session, enterprise_id: int, day: date | None = None) -> PublicStatus:
    """What anyone may see of an enterprise: its list on ``day`` (default today) from the
    history, the latest decision's grounds, and every transition of its listings."""
    from vetting.services.evaluation import latest_decision

    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    decision = latest_decision(session, enterprise_id)
    history = [(event, listing) for event, listing in session.execute(
        select(ListingEvent, Listing).join(Listing, Listing.id == ListingEvent.listing_id)
        .where(Listing.enterprise_id == enterprise_id).order_by(ListingEvent.at, ListingEvent.id)).all()]
    return PublicStatus(enterprise=enterprise, status=status_on(session, enterprise_id, day or clock.today(session)),
                        decision=decision, grounds=json.loads(decision.document)["grounds"] if decision else None,
                        history=history)


SORTS = {"name": "name", "since": "since", "expires": "expires", "score": "score"}


@dataclass(frozen=True)
class ListPage:
    total: int
    entries: list[tuple[Listing, Enterprise, float | None]]  # listing, enterprise, total score of the decision


def active_list(session: Session, list_type: str, *, country: str | None = None, sector: str | None = None,
                sort: str = "name", limit: int = 50, offset: int = 0) -> ListPage:
    """The enterprises on the red or black list now, filtered, sorted and paginated."""
    if list_type not in ("red", "black"):
        raise NotFound(f"no list '{list_type}' (there is a red and a black list)")
    filters = [Listing.status == ListingStatus.ACTIVE, Listing.list_type == ListType(list_type), Listing.kind == "listing"]
    if country:
        filters.append(Enterprise.country == country.upper())
    if sector:
        filters.append(Enterprise.sector == sector)
    order = {"name": (Enterprise.legal_name, Listing.id), "since": (Listing.effective_from.desc(), Listing.id),
             "expires": (Listing.expires_on, Listing.id), "score": (Decision.total_score.desc(), Listing.id)}[sort]
    base = (select(Listing, Enterprise, Decision.total_score).join(Enterprise, Enterprise.id == Listing.enterprise_id)
            .join(Decision, Decision.id == Listing.decision_id).where(*filters))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(*order).limit(limit).offset(offset)).all()
    return ListPage(total=total, entries=[(row[0], row[1], row[2]) for row in rows])
