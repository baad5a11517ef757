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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import M_, Conflict, N_, NotFound, PermissionDenied, ValidationError
from vetting.models import (
    Account,
    Assessment,
    AssessmentStatus,
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
from vetting.services.rows import chunks, insert_rows

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
    """The listing that has the enterprise on a list today (active, not past its last day)."""
    return session.scalar(select(Listing).where(Listing.enterprise_id == enterprise_id,
                                                Listing.in_force_on(clock.today(session))))


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


@dataclass(frozen=True)
class DecisionMade:
    """What the listings service needs of a stored decision."""

    id: int
    enterprise_id: int
    ruleset_id: int
    outcome: str  # "RED", "BLACK" or "NONE"
    reason_codes: Sequence[str]
    document: str  # the decision document (canonical JSON); its grounds are read when a proposal quotes them
    #: an upheld objection or a granted repair already decided this outcome on these grounds, and
    #: nothing new was filed since: the decision proposes nothing
    held: bool = False

    @classmethod
    def of(cls, decision: Decision) -> DecisionMade:
        return cls(decision.id, decision.enterprise_id, decision.ruleset_id, decision.outcome.value,
                   tuple(decision.reason_codes), decision.document, "held_by" in orjson.loads(decision.document))

    def knockout(self) -> bool:
        """A black outcome resting on a confirmed knock-out (its red listing is suspended at once)."""
        return self.outcome == "BLACK" and bool(orjson.loads(self.document).get("knockouts"))


def on_decision(session: Session, actor: Actor, decision: Decision, *, audit_events: list | None = None) -> Listing | None:
    """Propose what ``decision`` calls for (flushes; the caller's transaction commits it).

    RED or BLACK differing from the list the enterprise is on proposes that list; NONE while on
    a list proposes the removal. An open proposal that the decision no longer calls for is
    withdrawn; one it still calls for stands as it is. A held decision (see
    :attr:`DecisionMade.held`) proposes nothing. Returns the new proposal, if any. With
    ``audit_events``, the audit events are added to that list for the caller to append."""
    created = on_decisions(session, actor, [DecisionMade.of(decision)], audit_events=audit_events)
    return session.get(Listing, created[0]) if created else None


def on_decisions(session: Session, actor: Actor, decisions: Sequence[DecisionMade], *,
                 audit_events: list | None = None) -> list[int]:
    """:func:`on_decision` for many decisions at once, with the same effects in the same order:
    the enterprises' current listings are read in one query, and the new proposals, their
    events, notices and audit events are inserted a batch at a time. Returns the ids of the new
    proposals. An enterprise may appear more than once: its decisions apply in order."""
    created: list[int] = []
    run: list[DecisionMade] = []
    seen: set[int] = set()
    for made in decisions:
        if made.enterprise_id in seen:  # a later decision on the same enterprise sees what the earlier ones did
            created += _apply(session, actor, run, audit_events)
            run, seen = [], set()
        run.append(made)
        seen.add(made.enterprise_id)
    return created + _apply(session, actor, run, audit_events)


def _standing_lists(session: Session, enterprise_ids: list[int]) -> tuple[dict[int, ListType], dict[int, tuple[int, str, ListType]]]:
    """The list each enterprise is on today (a suspended red listing counts as red: it is
    restored if the proposal that suspended it ends) and its open proposal, if any."""
    today = clock.today(session)
    active: dict[int, ListType] = {}
    proposed: dict[int, tuple[int, str, ListType]] = {}
    for chunk in chunks(enterprise_ids):
        for listing_id, enterprise_id, status, list_type, kind, expires_on in session.execute(
            select(Listing.id, Listing.enterprise_id, Listing.status, Listing.list_type, Listing.kind, Listing.expires_on)
            .where(Listing.enterprise_id.in_(chunk), Listing.status.in_(_OPEN_STATUSES))
        ):
            if status is ListingStatus.PROPOSED:
                proposed[enterprise_id] = (listing_id, kind, list_type)
            elif expires_on is not None and expires_on >= today:
                active[enterprise_id] = list_type
    return active, proposed


_OPEN_STATUSES = (ListingStatus.ACTIVE, ListingStatus.SUSPENDED, ListingStatus.PROPOSED)


def _apply(session: Session, actor: Actor, decisions: Sequence[DecisionMade], into: list | None) -> list[int]:
    """:func:`on_decisions` for decisions on distinct enterprises."""
    if not decisions:
        return []
    active, proposed = _standing_lists(session, sorted({d.enterprise_id for d in decisions}))
    # (decision, the open proposal it withdraws or None, the proposal it calls for or None)
    plans: list[tuple[DecisionMade, int | None, tuple[str, ListType] | None]] = []
    for made in decisions:
        wanted = None if made.held else called_for(made.outcome, active.get(made.enterprise_id))
        current = proposed.get(made.enterprise_id)
        if current is not None and wanted == current[1:]:
            continue  # the open proposal is what the decision calls for: it stands
        if current is None and wanted is None:
            continue
        plans.append((made, current[0] if current else None, wanted))
    if not plans:
        return []
    audit_events: dict[int, list[tuple[str, str, object, dict]]] = defaultdict(list)  # by position in plans
    _withdraw_superseded(session, actor, plans, audit_events)
    ids = _propose(session, actor, plans, active, audit_events)
    ordered = [event for i in range(len(plans)) for event in audit_events[i]]
    if into is not None:
        into.extend(ordered)
    else:
        audit.append_many(session, actor, ordered)
    return ids


def _withdraw_superseded(session: Session, actor: Actor, plans: list, audit_events: dict) -> None:
    """Withdraw the open proposals the new decisions no longer call for (rare, and the proposals
    may be loaded in the session already, so through the ORM); a red listing a withdrawn black
    proposal had suspended is restored."""
    withdrawn = {p[1]: i for i, p in enumerate(plans) if p[1] is not None}
    if not withdrawn:
        return
    now = clock.now(session)
    for listing in session.scalars(select(Listing).where(Listing.id.in_(list(withdrawn))).order_by(Listing.id)):
        i = withdrawn[listing.id]
        made = plans[i][0]
        reason = f"superseded by decision {made.id} ({made.outcome})"
        listing.ended_at, listing.end_reason, listing.ended_by_id = now, reason, actor.id if isinstance(actor, Account) else None
        listing.status = ListingStatus.WITHDRAWN
        session.add(ListingEvent(listing=listing, at=now, from_status=ListingStatus.PROPOSED,
                                 to_status=ListingStatus.WITHDRAWN, actor_id=actor_id(actor), reason=reason))
        audit_events[i].append(
            ("listing.withdraw", "listing", listing.id,
             _summary(listing.enterprise_id, listing.list_type, ListingStatus.PROPOSED, ListingStatus.WITHDRAWN, reason)))
        audit_events[i].extend(_restore_suspended(session, actor, listing))
    session.flush()


def _propose(session: Session, actor: Actor, plans: list, active: dict[int, ListType], audit_events: dict) -> list[int]:
    """Insert the new proposals as rows, with their first event and the notice to the
    enterprise; a knock-out black proposal suspends the enterprise's red listing at once."""
    new = [(i, made, wanted) for i, (made, _w, wanted) in enumerate(plans) if wanted is not None]
    if not new:
        return []
    now, today, who = clock.now(session), clock.today(session), actor_id(actor)
    references = _new_references(session, len(new), today)
    objection_days: dict[int, int] = {}
    rows = []
    for (_i, made, (kind, list_type)), reference in zip(new, references):
        if made.ruleset_id not in objection_days:
            objection_days[made.ruleset_id] = int(_durations(session, made.ruleset_id)["objection_days"])
        rows.append({"enterprise_id": made.enterprise_id, "kind": kind, "list_type": list_type, "decision_id": made.id,
                     "reference": reference, "reason_codes": list(made.reason_codes),
                     "grounds": orjson.loads(made.document).get("grounds", ""), "proposed_at": now, "triggered_by_id": who,
                     "objection_days": objection_days[made.ruleset_id], "objection_deadline": None, "notified_on": None,
                     "status": ListingStatus.PROPOSED})
    ids = insert_rows(session, Listing, rows, return_ids=True)
    contacts = {}
    for chunk in chunks(sorted({made.enterprise_id for _i, made, _w in new})):
        contacts.update((e, (name, email)) for e, name, email in session.execute(
            select(Enterprise.id, Enterprise.legal_name, Enterprise.contact_email).where(Enterprise.id.in_(chunk))))
    events, notices = [], []
    for (i, made, (kind, list_type)), row, listing_id in zip(new, rows, ids):
        reason = f"decision {made.id}: {', '.join(made.reason_codes)}"
        events.append({"listing_id": listing_id, "at": now, "from_status": None, "to_status": ListingStatus.PROPOSED,
                       "actor_id": who, "reason": reason})
        audit_events[i].append(("listing.propose", "listing", listing_id,
                                _summary(made.enterprise_id, list_type, None, ListingStatus.PROPOSED, reason,
                                         {"decision_id": made.id, "reference": row["reference"], "kind": kind})))
        suspends = kind == "listing" and active.get(made.enterprise_id) is ListType.RED and made.knockout()
        name, email = contacts[made.enterprise_id]
        notices.append(_proposal_notice(row, listing_id, name, email, active.get(made.enterprise_id), now, suspends=suspends))
        if suspends:
            audit_events[i].extend(_suspend_red(session, actor, made.enterprise_id, row["reference"]))
    insert_rows(session, ListingEvent, events)
    insert_rows(session, Notice, notices)
    return ids


def _suspend_red(session: Session, actor: Actor, enterprise_id: int, reference: str) -> list[tuple]:
    """Suspend the enterprise's red listing while the knock-out black proposal ``reference`` is
    pending: it leaves the red list at once, and comes back if the proposal is withdrawn."""
    red = session.scalar(select(Listing).where(Listing.enterprise_id == enterprise_id, Listing.status == ListingStatus.ACTIVE,
                                               Listing.list_type == ListType.RED).with_for_update())
    if red is None:
        return []
    reason = f"suspended pending review: knock-out black listing {reference} proposed"
    return [_move(session, actor, red, ListingStatus.SUSPENDED, reason, "listing.suspend")]


def _restore_suspended(session: Session, actor: Actor, ended: Listing) -> list[tuple]:
    """When a black proposal ends without taking effect, the red listing it suspended comes back
    (or, past its last day, expires)."""
    if ended.list_type is not ListType.BLACK or ended.kind != "listing":
        return []
    red = session.scalar(select(Listing).where(Listing.enterprise_id == ended.enterprise_id,
                                               Listing.status == ListingStatus.SUSPENDED).with_for_update())
    if red is None:
        return []
    if red.lapsed(clock.today(session)):
        return [_move(session, actor, red, ListingStatus.EXPIRED, f"expired on {red.expires_on:%Y-%m-%d} while suspended",
                      "listing.expire", ended=True)]
    if active_listing(session, ended.enterprise_id) is not None:  # another listing took effect meanwhile: never two
        return [_move(session, actor, red, ListingStatus.REMOVED, "superseded while suspended", "listing.remove", ended=True)]
    return [_move(session, actor, red, ListingStatus.ACTIVE, f"restored: black listing {ended.reference} did not take effect",
                  "listing.restore")]


def _move(session: Session, actor: Actor, listing: Listing, to: ListingStatus, reason: str, action: str, *,
          ended: bool = False, at: datetime | None = None) -> tuple:
    """Move ``listing`` to ``to`` with its listing event; returns the audit event to append."""
    before = listing.status
    when = at or clock.now(session)
    if ended:
        listing.ended_at, listing.end_reason = when, reason
        listing.ended_by_id = actor.id if isinstance(actor, Account) else None
    listing.status = to
    session.add(ListingEvent(listing=listing, at=when, from_status=before, to_status=to, actor_id=actor_id(actor), reason=reason))
    session.flush()
    return (action, "listing", listing.id, _summary(listing.enterprise_id, listing.list_type, before, to, reason))


def _summary(enterprise_id: int, list_type: ListType, before: ListingStatus | None, to: ListingStatus, reason: str,
             extra: dict | None = None) -> dict:
    """The audit summary of a listing's transition."""
    return {"enterprise_id": enterprise_id, "list": list_type.value, "from": before.value if before else None,
            "to": to.value, "reason": reason, **(extra or {})}


def _new_references(session: Session, n: int, today: date) -> list[str]:
    """``n`` listing references, unique among themselves and against every stored one. Eight
    random hex digits are short enough to quote on the phone, so with many listings two
    draws can meet: those are drawn again."""
    references: list[str] = []
    while len(references) < n:
        drawn = {f"L{today:%Y}-{secrets.token_hex(4).upper()}" for _ in range(n - len(references))} - set(references)
        taken = set()
        for chunk in chunks(sorted(drawn)):
            taken.update(session.scalars(select(Listing.reference).where(Listing.reference.in_(chunk))))
        references += sorted(drawn - taken)
    return references


def _proposal_notice(listing: dict, listing_id: int, legal_name: str, contact_email: str | None,
                     replacing: ListType | None, now: datetime, *, suspends: bool = False) -> dict:
    """The notice telling the enterprise of a proposal and how to object, as a row of the outbox.
    The objection window opens on the day the notice reaches the enterprise."""
    name = "red list (commended)" if listing["list_type"] is ListType.RED else "black list (deal with care)"
    removal = listing["kind"] == "removal"
    if removal:
        what, move = f"to remove your enterprise from the {name}", ""
    else:
        what = f"to put your enterprise on the {name}"
        move = f"\nIt would replace the enterprise's current {replacing.value} listing.\n" if replacing else ""
    if suspends:
        move += ("\nBecause the proposal rests on a confirmed knock-out, your red listing is suspended while it is "
                 "pending; it is restored if the proposal is withdrawn.\n")
    reference, list_value = listing["reference"], listing["list_type"].value
    body = (
        f"To {legal_name}:\n\n"
        f"The vetting register proposes {what}.\n{move}\n"
        f"Reference: {reference}\n"
        f"Reason codes: {', '.join(listing['reason_codes'])}\n"
        f"Grounds: {listing['grounds']}\n\n"
        f"You may object for {listing['objection_days']} days from the day this notice reaches you (the register records "
        f"that day and counts the window from it), with your grounds and evidence:\n"
        f"POST /api/v1/objections with this reference and the address this notice was sent to, or the "
        f"objection form on the website. Nothing takes effect before the window has passed, and an open objection "
        f"holds the proposal until a registrar decides it.\n"
    )
    return {"enterprise_id": listing["enterprise_id"], "listing_id": listing_id, "kind": "listing.proposed",
            "to_email": contact_email, "body": body, "created_at": now, "next_attempt_at": now, "attempts": 0,
            "subject": (f"Proposed removal from the {list_value} list {reference}" if removal
                        else f"Proposed {list_value} listing {reference}")}


#: the channels a registrar can record a notice as served by, besides e-mail
SERVICE_METHODS = ("post", "courier", "in_person", "other")


def open_window(session: Session, actor: Actor, listing: Listing, day: date, how: str) -> list[tuple]:
    """The enterprise was notified of ``listing`` on ``day``: its objection window runs from
    then. Returns the audit event (nothing when the window was already open)."""
    if listing.status is not ListingStatus.PROPOSED or listing.notified_on is not None:
        return []
    days = listing.objection_days
    if days is None:
        days = int(_durations(session, session.get(Decision, listing.decision_id).ruleset_id)["objection_days"])
        listing.objection_days = days
    listing.notified_on = day
    listing.objection_deadline = day + timedelta(days=days)
    session.flush()
    return [("listing.notify", "listing", listing.id,
             {"enterprise_id": listing.enterprise_id, "reference": listing.reference, "notified_on": day.isoformat(),
              "objection_deadline": listing.objection_deadline.isoformat(), "by": how})]


def record_service(session: Session, actor: Actor, listing_id: int, *, method: str, served_on: date, note: str,
                   contact_email: str | None = None) -> Listing:
    """A registrar records that the notice of a proposal reached the enterprise by another
    channel (post, courier, in person): the objection window runs from ``served_on``. The
    address the enterprise gave, if any, may then object with the listing's reference. Commits."""
    _require_registrar(actor)
    listing = session.get(Listing, listing_id, with_for_update=True)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    errors = _service_errors(session, listing, method, served_on, note, contact_email)
    if errors:
        raise ValidationError(N_("the service cannot be recorded"), errors)
    if listing.status is not ListingStatus.PROPOSED:
        raise Conflict(M_("listing %(reference)s is %(status)s, not proposed", reference=listing.reference,
                          status=listing.status.value), conflicting_id=listing.id)
    if listing.notified_on is not None:
        raise Conflict(M_("the enterprise was notified of %(reference)s on %(day)s already", reference=listing.reference,
                          day=f"{listing.notified_on:%Y-%m-%d}"), conflicting_id=listing.id)
    notice = session.scalar(select(Notice).where(Notice.listing_id == listing.id, Notice.kind == "listing.proposed")
                            .order_by(Notice.id).limit(1))
    if notice is None:
        raise Conflict(M_("no notice was written for %(reference)s", reference=listing.reference), conflicting_id=listing.id)
    notice.sent_at, notice.served_on, notice.delivered_by = clock.now(session), served_on, method
    notice.service_note, notice.recorded_by_id = note.strip(), actor_id(actor)
    notice.next_attempt_at, notice.last_error = None, None
    if contact_email:
        notice.to_email = contact_email.strip().lower()
    events = [("notice.serve", "notice", notice.id, {"listing_id": listing.id, "method": method, "served_on": served_on.isoformat()})]
    events += open_window(session, actor, listing, served_on, method)
    audit.append_many(session, actor, events)
    session.commit()
    return listing


def _service_errors(session: Session, listing: Listing, method: str, served_on: date, note: str,
                    contact_email: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if method not in SERVICE_METHODS:
        errors["method"] = [f"one of {', '.join(SERVICE_METHODS)} (e-mail is recorded when the SMTP server accepts it)"]
    if served_on > clock.today(session):
        errors["served_on"] = ["a day that has come: service is recorded after it happened"]
    elif served_on < listing.proposed_at.date():
        errors["served_on"] = [f"not before the proposal ({listing.proposed_at:%Y-%m-%d})"]
    if not (note or "").strip():
        errors["note"] = ["say how and to whom the notice was handed (a tracking number, a signed receipt)"]
    if contact_email and ("@" not in contact_email or len(contact_email) > 254):
        errors["contact_email"] = ["an e-mail address, such as legal@enterprise.example"]
    return errors


def _notified(session: Session, reference: str, contact_email: str, errors: dict[str, list[str]]) -> Listing | None:
    """The listing whose notice, quoting ``reference``, reached ``contact_email``; otherwise an
    error under ``reference`` (one answer for a wrong reference and a wrong email, so a guesser
    learns neither). The address is the one the notice went to, whatever became of the
    enterprise since (a merge keeps every notified address's right to object and repair)."""
    listing = session.scalar(select(Listing).where(Listing.reference == (reference or "").strip().upper()))
    address = (contact_email or "").strip().lower()
    notified = listing is not None and address and session.scalar(
        select(Notice.id).where(Notice.listing_id == listing.id, Notice.served_on.is_not(None),
                                func.lower(Notice.to_email) == address).limit(1)) is not None
    if not notified:
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
    if listing.status is ListingStatus.PROPOSED and listing.objection_deadline is not None \
            and clock.today(session) > listing.objection_deadline:
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
    an objection, with reasons. An upheld objection binds later decisions: the same outcome on
    the same grounds is not proposed again until new evidence is filed. Commits."""
    objection = _decide(session, actor, Objection, objection_id, "objection", RequestStatus.UPHELD if upheld else RequestStatus.REJECTED,
                        reason, {"upheld": upheld})
    if upheld:
        listing = session.get(Listing, objection.listing_id, with_for_update=True)
        why = f"objection {objection.reference} upheld: {reason.strip()}"
        if listing.status is ListingStatus.PROPOSED:
            _end(session, actor, listing, ListingStatus.WITHDRAWN, why, "listing.withdraw")
        elif listing.status in (ListingStatus.ACTIVE, ListingStatus.SUSPENDED):
            _end(session, actor, listing, ListingStatus.REMOVED, why, "listing.remove")
    session.commit()
    return objection


def _end(session: Session, actor: Actor, listing: Listing, to: ListingStatus, reason: str, action: str) -> None:
    """End ``listing`` (withdrawn, removed, revoked, expired); a black proposal that ends this
    way gives back the red listing it suspended."""
    events = [_move(session, actor, listing, to, reason, action, ended=True)]
    if to is not ListingStatus.ACTIVE:
        events += _restore_suspended(session, actor, listing)
    audit.append_many(session, actor, events)


def confirm(session: Session, actor: Actor, listing_id: int) -> Listing:
    """A second registrar confirms a proposal once the enterprise was notified and the
    objection window has passed with no open objection: it becomes active (or, for a removal,
    the enterprise leaves its list). Two registrars confirming at once: one wins, the other
    gets 409. Commits."""
    account = _require_registrar(actor)
    listing = session.get(Listing, listing_id, with_for_update=True)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    if listing.status is not ListingStatus.PROPOSED:
        raise Conflict(M_("listing %(reference)s is %(status)s, not proposed", reference=listing.reference, status=listing.status.value),
                       conflicting_id=listing.id)
    if account is not None and listing.triggered_by_id == account.id:
        raise PermissionDenied(N_("four eyes: a registrar other than the one who triggered the proposal must confirm it"))
    _check_due_process(session, listing)
    today = clock.today(session)
    listing.confirmed_at = clock.now(session)
    listing.confirmed_by_id = account.id if account else None
    _end_current(session, actor, listing)
    if listing.kind == "removal":
        _end(session, actor, listing, ListingStatus.REMOVED, "confirmed: the enterprise is off the list", "listing.confirm")
        session.commit()
        return listing
    durations = _durations(session, session.get(Decision, listing.decision_id).ruleset_id)
    months = int(durations["red_months" if listing.list_type is ListType.RED else "black_months"])
    listing.effective_from = today
    listing.expires_on = clock.add_months(today, months)
    _transition(session, actor, listing, ListingStatus.ACTIVE, f"confirmed; effective {today:%Y-%m-%d} until {listing.expires_on:%Y-%m-%d}",
                "listing.confirm", {"effective_from": today.isoformat(), "expires_on": listing.expires_on.isoformat()})
    session.commit()
    return listing


def _check_due_process(session: Session, listing: Listing) -> None:
    """Nothing is confirmed before the enterprise was notified, nor inside its objection window,
    nor while an objection is open: each refusal says what to do."""
    if listing.notified_on is None:
        notice = session.scalar(select(Notice).where(Notice.listing_id == listing.id).order_by(Notice.id).limit(1))
        state = (notice.last_error or "waiting in the outbox") if notice is not None else "no notice was written"
        raise Conflict(M_("the enterprise has not been notified of %(reference)s (notice %(notice)s: %(state)s); deliver the "
                          "notice (`vetting jobs run` with VETTING_SMTP_URL set) or record its service by another channel "
                          "(POST /api/v1/listings/%(id)s/service); the objection window opens on the day it reaches the "
                          "enterprise", reference=listing.reference, notice=notice.id if notice else "-", state=state, id=listing.id),
                       conflicting_id=listing.id)
    if clock.today(session) <= listing.objection_deadline:
        raise Conflict(M_("the objection window of %(reference)s is open until %(deadline)s; confirm from %(day)s",
                           reference=listing.reference, deadline=f"{listing.objection_deadline:%Y-%m-%d}",
                           day=f"{listing.objection_deadline + timedelta(days=1):%Y-%m-%d}"), conflicting_id=listing.id)
    pending = session.scalar(select(Objection).where(Objection.listing_id == listing.id, Objection.status == RequestStatus.OPEN))
    if pending is not None:
        raise Conflict(M_("objection %(reference)s is open; decide it first", reference=pending.reference), conflicting_id=pending.id)


def _end_current(session: Session, actor: Actor, listing: Listing) -> None:
    """Before ``listing`` takes effect, end what the enterprise is on: a listing past its last
    day expires (as the dates already say), any other is removed — superseded by the new
    listing, or taken off by the confirmed removal."""
    today = clock.today(session)
    for current in session.scalars(select(Listing).where(
            Listing.enterprise_id == listing.enterprise_id, Listing.id != listing.id,
            Listing.status.in_([ListingStatus.ACTIVE, ListingStatus.SUSPENDED])).order_by(Listing.id).with_for_update()):
        if current.lapsed(today):
            _expire(session, actor, current)
        elif listing.kind == "removal":
            _end(session, actor, current, ListingStatus.REMOVED, f"removal {listing.reference} confirmed", "listing.remove")
        else:
            _end(session, actor, current, ListingStatus.REMOVED,
                 f"superseded: listing {listing.reference} on the {listing.list_type.value} list takes effect", "listing.remove")


def _expire(session: Session, actor: Actor, listing: Listing) -> None:
    """Record that ``listing`` ended after its last day: the event is dated the morning after
    ``expires_on`` (when the dates ended it), however late this is recorded."""
    ended = datetime.combine(listing.expires_on + timedelta(days=1), time(0, 0), tzinfo=timezone.utc)
    audit.append_many(session, actor, [_move(session, actor, listing, ListingStatus.EXPIRED, f"expired on {listing.expires_on:%Y-%m-%d}",
                                             "listing.expire", ended=True, at=min(ended, clock.now(session)))])


def revoke(session: Session, actor: Actor, listing_id: int, reason: str) -> Listing:
    """A registrar revokes a proposed, active or suspended listing (e.g. made on falsified
    evidence). Commits."""
    _require_registrar(actor)
    if not (reason or "").strip():
        raise ValidationError(N_("give a reason"), {"reason": [N_("a revocation needs its reason")]})
    listing = session.get(Listing, listing_id, with_for_update=True)
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    if listing.status not in (ListingStatus.PROPOSED, ListingStatus.ACTIVE, ListingStatus.SUSPENDED):
        raise Conflict(M_("listing %(reference)s is %(status)s", reference=listing.reference, status=listing.status.value),
                       conflicting_id=listing.id)
    _end(session, actor, listing, ListingStatus.REVOKED, reason.strip(), "listing.revoke")
    session.commit()
    return listing


def expire_due(session: Session, actor: Actor) -> list[Listing]:
    """Record the end of every active or suspended listing past its ``expires_on`` (the expiry
    job; the dates ended them already, so running it late or twice changes no answer). An
    enterprise assessed again during the term is re-evaluated at once, so what the new
    assessments say is proposed rather than the listing silently lapsing. Commits."""
    today = clock.today(session)
    due = session.scalars(select(Listing).where(Listing.status.in_([ListingStatus.ACTIVE, ListingStatus.SUSPENDED]),
                                                Listing.expires_on < today)
                          .order_by(Listing.id).with_for_update()).all()
    from vetting.services.evaluation import evaluate_enterprise  # evaluation hands its decisions to this module

    for listing in due:
        _expire(session, actor, listing)
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
    suspended: str | None = None  # "red" while a red listing is suspended pending review, else None
    until: date | None = None  # the listing's last day


def status_on(session: Session, enterprise_id: int, day: date) -> StatusOn:
    """The enterprise's list on ``day``, from the dates: a listing counts from the day it became
    active, through its ``expires_on`` and never after, except while it was suspended or once
    it ended (withdrawn, removed, revoked) — whether or not a job recorded the expiry."""
    rows = session.execute(
        select(ListingEvent.listing_id, ListingEvent.at, ListingEvent.to_status, Listing.list_type, Listing.effective_from,
               Listing.expires_on)
        .join(Listing, Listing.id == ListingEvent.listing_id)
        .where(Listing.enterprise_id == enterprise_id, Listing.effective_from.is_not(None))
        .order_by(ListingEvent.at, ListingEvent.id)
    ).all()
    status: dict[int, tuple[ListingStatus, date]] = {}  # each listing's last status on ``day``, and since when
    for listing_id, at, to_status, _list_type, _from, _expires in rows:
        if at.date() <= day:
            status[listing_id] = (to_status, at.date())
    found = StatusOn(day, None, None, None)
    for listing_id, _at, _to, list_type, effective_from, expires_on in rows:
        if listing_id not in status or day > expires_on:
            continue
        now_status, since = status.pop(listing_id)
        if now_status is ListingStatus.ACTIVE:
            found = StatusOn(day, list_type.value, listing_id, effective_from, None, expires_on)
        elif now_status is ListingStatus.SUSPENDED and found.list is None:
            found = StatusOn(day, None, listing_id, since, list_type.value, expires_on)
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
        # a request counts against the limit until the same day ``months`` later, when it leaves it
        recent = [d for d in earlier if today < clock.add_months(d, months)]
        if len(recent) >= limit:
            earliest = max(earliest, clock.add_months(recent[-limit], months))
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
    """A registrar grants (the listing is removed, with the reason) or refuses a repair request.
    A granted repair binds later decisions as an upheld objection does. Commits."""
    request = _decide(session, actor, RepairRequest, request_id, "repair request", RequestStatus.GRANTED if granted else RequestStatus.REFUSED,
                      reason, {"granted": granted})
    if granted:
        listing = session.get(Listing, request.listing_id, with_for_update=True)
        if listing.status is ListingStatus.ACTIVE and listing.lapsed(clock.today(session)):
            _expire(session, actor, listing)
        elif listing.status is ListingStatus.ACTIVE:
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
    # a proposal the enterprise has not been told of yet is not public
    history = [(event, listing) for event, listing in session.execute(
        select(ListingEvent, Listing).join(Listing, Listing.id == ListingEvent.listing_id)
        .where(Listing.enterprise_id == enterprise_id, Listing.notified_on.is_not(None) | Listing.effective_from.is_not(None))
        .order_by(ListingEvent.at, ListingEvent.id)).all()]
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
    filters = [Listing.in_force_on(clock.today(session)), Listing.list_type == ListType(list_type), Listing.kind == "listing"]
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
