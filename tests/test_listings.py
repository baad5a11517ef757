"""Listings with due process, walked through time with an injected clock."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from vetting.clock import FixedClock, add_months
from vetting.errors import Conflict, PermissionDenied, ValidationError
from vetting.models import AuditEvent, Listing, ListingStatus, Notice
from vetting.services import assessments, listings

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]
CONTACT = "compliance@harbour.example"


@pytest.fixture()
def clock(session):
    fixed = FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc))
    session.info["clock"] = fixed
    yield fixed
    session.info.pop("clock", None)


@pytest.fixture()
def world(session, make_association, make_account, make_enterprise):
    a, b, c = make_association(), make_association(), make_association()
    reviewers = [make_account("reviewer", association=x) for x in (a, b, c)]
    registrars = [make_account("registrar"), make_account("registrar")]
    enterprise = make_enterprise(contact_email=CONTACT)
    return enterprise, reviewers, registrars


def _file(session, reviewer, enterprise, score, knockout=False):
    body = {"enterprise_id": enterprise.id, "conflict": {"declared": False},
            "scores": {code: {"score": score, "evidence": EV} for code in CRITERIA}}
    if knockout:
        body["knockouts"] = [{"code": "FORCED_EVICTION", "status": "confirmed", "description": "village cleared", "evidence": EV}]
    return assessments.file_and_submit(session, reviewer, body)


def _serve(session, registrar, listing, email=CONTACT):
    """Record that the proposal's notice reached the enterprise today (by courier)."""
    return listings.record_service(session, registrar, listing.id, method="courier", served_on=listings.clock.today(session),
                                   note="courier receipt signed by the legal department", contact_email=email)


def _events(session, action, listing_id):
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.subject_type == "listing", AuditEvent.subject_id == str(listing_id)))


def test_black_proposal_objection_rejected_confirmed_by_a_second_registrar(session, clock, world):
    enterprise, reviewers, (registrar, other_registrar) = world
    _assessment, decision = _file(session, reviewers[0], enterprise, 2, knockout=True)
    assert decision.outcome.value == "BLACK"
    proposal = listings.open_proposal(session, enterprise.id)
    assert proposal.list_type.value == "black" and proposal.reference.startswith("L2027-")
    assert proposal.objection_deadline is None and proposal.objection_days == 15  # the window waits for the notice
    notice = session.scalar(select(Notice).where(Notice.listing_id == proposal.id))
    assert notice.to_email == CONTACT and proposal.reference in notice.body and "15 days from the day this notice reaches you" in notice.body
    clock.advance(days=1)
    _serve(session, registrar, proposal)
    assert proposal.notified_on == date(2027, 3, 2) and proposal.objection_deadline == date(2027, 3, 17)  # 15 days from notice

    clock.advance(days=2)
    with pytest.raises(ValidationError):
        listings.file_objection(session, reference=proposal.reference, contact_email="someone@else.example", grounds="wrong")
    objection = listings.file_objection(session, reference=proposal.reference.lower(), contact_email=CONTACT.upper(),
                                        grounds="The eviction was by the municipality, not us.", evidence=EV)
    clock.advance(days=20)
    with pytest.raises(Conflict) as held:
        listings.confirm(session, registrar, proposal.id)
    assert held.value.details["conflicting_id"] == objection.id
    listings.decide_objection(session, registrar, objection.id, upheld=False, reason="The court record names the enterprise.")
    with pytest.raises(Conflict):
        listings.decide_objection(session, other_registrar, objection.id, upheld=True, reason="again")
    active = listings.confirm(session, registrar, proposal.id)
    assert active.status is ListingStatus.ACTIVE
    assert active.effective_from == date(2027, 3, 24) and active.expires_on == date(2030, 3, 24)  # 36 months
    with pytest.raises(Conflict):
        listings.confirm(session, other_registrar, proposal.id)  # the second confirmation loses
    for action in ("listing.propose", "listing.confirm"):
        assert _events(session, action, proposal.id) == 1

    assert listings.status_on(session, enterprise.id, date(2027, 3, 10)).list is None  # proposed, not yet listed
    listed = listings.status_on(session, enterprise.id, date(2027, 6, 1))
    assert listed.list == "black" and listed.since == date(2027, 3, 24)

    clock.at = datetime(2030, 3, 25, 1, 0, tzinfo=timezone.utc)
    assert [x.id for x in listings.expire_due(session, registrar)] == [proposal.id]
    assert _events(session, "listing.expire", proposal.id) == 1
    assert listings.status_on(session, enterprise.id, date(2030, 3, 26)).list is None
    assert listings.status_on(session, enterprise.id, date(2030, 3, 24)).list == "black"


def test_the_window_and_four_eyes(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    _file(session, reviewers[0], enterprise, 2, knockout=True)
    proposal = listings.open_proposal(session, enterprise.id)
    _serve(session, registrar, proposal)
    clock.advance(days=15)  # the deadline day itself is still inside the window
    with pytest.raises(Conflict) as early:
        listings.confirm(session, registrar, proposal.id)
    assert "2027-03-17" in early.value.message
    proposal.triggered_by_id = registrar.id
    session.flush()
    clock.advance(days=1)
    with pytest.raises(PermissionDenied):
        listings.confirm(session, registrar, proposal.id)
    with pytest.raises(PermissionDenied):
        listings.confirm(session, reviewers[0], proposal.id)


def test_an_upheld_objection_withdraws_the_proposal(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    _file(session, reviewers[0], enterprise, 2, knockout=True)
    proposal = listings.open_proposal(session, enterprise.id)
    _serve(session, registrar, proposal)
    objection = listings.file_objection(session, reference=proposal.reference, contact_email=CONTACT, grounds="Mistaken identity.")
    listings.decide_objection(session, registrar, objection.id, upheld=True, reason="Another enterprise of the same name.")
    session.refresh(proposal)
    assert proposal.status is ListingStatus.WITHDRAWN and "upheld" in proposal.end_reason
    assert _events(session, "listing.withdraw", proposal.id) == 1
    clock.advance(days=30)
    with pytest.raises(Conflict):
        listings.file_objection(session, reference=proposal.reference, contact_email=CONTACT, grounds="late")


def test_red_then_black_ends_the_red_listing_when_the_black_one_starts(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    for reviewer in reviewers:
        _file(session, reviewer, enterprise, 4)
    red = listings.open_proposal(session, enterprise.id)
    assert red.list_type.value == "red"
    _serve(session, registrar, red)
    clock.advance(days=16)
    listings.confirm(session, registrar, red.id)
    clock.advance(days=100)
    _file(session, reviewers[0], enterprise, 4, knockout=True)
    black = listings.open_proposal(session, enterprise.id)
    assert black.list_type.value == "black"
    session.refresh(red)
    # a knock-out black proposal suspends the red listing at once: on neither list meanwhile
    assert red.status is ListingStatus.SUSPENDED and listings.active_listing(session, enterprise.id) is None
    assert listings.status_on(session, enterprise.id, clock.at.date()).suspended == "red"
    _serve(session, registrar, black)
    clock.advance(days=16)
    listings.confirm(session, registrar, black.id)
    session.refresh(red)
    assert red.status is ListingStatus.REMOVED and black.reference in red.end_reason
    assert session.scalar(select(func.count()).select_from(Listing).where(
        Listing.enterprise_id == enterprise.id, Listing.status == ListingStatus.ACTIVE)) == 1
    assert listings.status_on(session, enterprise.id, date(2027, 4, 1)).list == "red"
    assert listings.status_on(session, enterprise.id, clock.at.date()).list == "black"


def test_a_new_outcome_supersedes_an_open_proposal(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    _file(session, reviewers[0], enterprise, 2, knockout=True)
    first = listings.open_proposal(session, enterprise.id)
    _file(session, reviewers[1], enterprise, 2)
    assert listings.open_proposal(session, enterprise.id).id == first.id  # still BLACK: the proposal stands
    knocked = session.scalar(select(assessments.Assessment).where(assessments.Assessment.enterprise_id == enterprise.id)
                             .order_by(assessments.Assessment.id).limit(1))
    assessments.withdraw(session, reviewers[0], knocked.id, "filed against the wrong enterprise")
    session.refresh(first)
    assert first.status is ListingStatus.WITHDRAWN and listings.open_proposal(session, enterprise.id) is None


def test_revocation_needs_a_reason(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    _file(session, reviewers[0], enterprise, 2, knockout=True)
    proposal = listings.open_proposal(session, enterprise.id)
    with pytest.raises(ValidationError):
        listings.revoke(session, registrar, proposal.id, " ")
    listings.revoke(session, registrar, proposal.id, "the knock-out evidence was falsified")
    assert _events(session, "listing.revoke", proposal.id) == 1


def test_months_are_calendar_months():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 24), 36) == date(2030, 3, 24)


def _black_listed(session, clock, world, code="FORCED_EVICTION"):
    enterprise, reviewers, (registrar, _other) = world
    body = {"enterprise_id": enterprise.id, "conflict": {"declared": False},
            "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": code, "status": "confirmed", "evidence": EV}]}
    assessments.file_and_submit(session, reviewers[0], body)
    proposal = listings.open_proposal(session, enterprise.id)
    _serve(session, registrar, proposal)
    clock.advance(days=16)
    return listings.confirm(session, registrar, proposal.id)


def test_repair_refused_before_the_minimum_period_then_granted(session, clock, world):
    enterprise, _reviewers, (registrar, _other) = world
    listing = _black_listed(session, clock, world)
    assert listing.effective_from == date(2027, 3, 17)
    with pytest.raises(Conflict) as early:
        listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="Families compensated.")
    assert early.value.details["earliest"] == "2028-03-17" and "2028-03-17" in early.value.message
    clock.at = datetime(2028, 3, 17, 9, 0, tzinfo=timezone.utc)
    first = listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="Families compensated.",
                                 evidence=EV)
    with pytest.raises(Conflict):  # one open request at a time
        listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="again")
    listings.decide_repair(session, registrar, first.id, granted=False, reason="Compensation not yet paid to all households.")
    clock.advance(days=30)
    with pytest.raises(Conflict) as limited:  # one per 12 months
        listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="All paid now.")
    assert limited.value.details["earliest"] == "2029-03-17"  # twelve months to the day after the first request
    clock.at = datetime(2029, 3, 16, 23, 0, tzinfo=timezone.utc)
    with pytest.raises(Conflict):
        listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="All paid now.")
    clock.at = datetime(2029, 3, 17, 9, 0, tzinfo=timezone.utc)
    second = listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="All paid now.", evidence=EV)
    listings.decide_repair(session, registrar, second.id, granted=True, reason="Independent monitor confirms full compensation.")
    session.refresh(listing)
    assert listing.status is ListingStatus.REMOVED and second.reference in listing.end_reason
    assert _events(session, "listing.remove", listing.id) == 1
    assert listings.status_on(session, enterprise.id, date(2029, 3, 16)).list == "black"
    assert listings.status_on(session, enterprise.id, date(2029, 3, 17)).list is None


def test_a_non_repairable_knockout_cannot_be_repaired(session, clock, world):
    listing = _black_listed(session, clock, world, code="FORCED_LABOUR")
    clock.advance(days=800)
    with pytest.raises(Conflict) as refused:
        listings.file_repair(session, reference=listing.reference, contact_email=CONTACT, remediation="Policy adopted.")
    assert "non-repairable" in refused.value.message and "FORCED_LABOUR" in refused.value.message


def test_expiry_re_evaluates_an_enterprise_assessed_during_the_term(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    listing = _black_listed(session, clock, world)
    clock.advance(days=400)
    _file(session, reviewers[1], enterprise, 2)  # still BLACK by the knock-out: no new proposal while listed
    assert listings.open_proposal(session, enterprise.id) is None
    clock.at = datetime(2030, 3, 18, 9, 0, tzinfo=timezone.utc)
    assert [x.id for x in listings.expire_due(session, registrar)] == [listing.id]
    again = listings.open_proposal(session, enterprise.id)
    assert again is not None and again.list_type.value == "black" and again.id != listing.id


def test_expiry_without_fresh_assessments_just_ends_the_listing(session, clock, world):
    enterprise, _reviewers, (registrar, _other) = world
    listing = _black_listed(session, clock, world)
    clock.at = datetime(2030, 3, 18, 9, 0, tzinfo=timezone.utc)
    listings.expire_due(session, registrar)
    session.refresh(listing)
    assert listing.status is ListingStatus.EXPIRED and listings.open_proposal(session, enterprise.id) is None


def test_a_decision_for_no_list_proposes_the_removal(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    filed = [_file(session, reviewer, enterprise, 4)[0] for reviewer in reviewers]
    red = listings.open_proposal(session, enterprise.id)
    _serve(session, registrar, red)
    clock.advance(days=16)
    listings.confirm(session, registrar, red.id)
    clock.advance(days=200)
    assessments.withdraw(session, reviewers[2], filed[2].id, "the site visit covered another project")  # quorum lost: NONE
    removal = listings.open_proposal(session, enterprise.id)
    assert removal.kind == "removal" and removal.list_type.value == "red"
    notice = session.scalar(select(Notice).where(Notice.listing_id == removal.id))
    assert "remove your enterprise from the red list" in notice.body
    assert listings.active_listing(session, enterprise.id).id == red.id  # still listed until confirmed
    _serve(session, registrar, removal)
    clock.advance(days=16)
    listings.confirm(session, registrar, removal.id)
    session.refresh(red)
    assert red.status is ListingStatus.REMOVED and removal.reference in red.end_reason
    assert listings.active_listing(session, enterprise.id) is None
    assert listings.status_on(session, enterprise.id, clock.at.date()).list is None


def test_a_removal_proposal_is_withdrawn_when_the_list_is_called_for_again(session, clock, world):
    enterprise, reviewers, (registrar, _other) = world
    filed = [_file(session, reviewer, enterprise, 4)[0] for reviewer in reviewers]
    _serve(session, registrar, listings.open_proposal(session, enterprise.id))
    clock.advance(days=16)
    listings.confirm(session, registrar, listings.open_proposal(session, enterprise.id).id)
    assessments.withdraw(session, reviewers[2], filed[2].id, "wrong project")
    removal = listings.open_proposal(session, enterprise.id)
    assert removal.kind == "removal"
    _file(session, reviewers[2], enterprise, 4)  # quorum back: RED again
    session.refresh(removal)
    assert removal.status is ListingStatus.WITHDRAWN and listings.open_proposal(session, enterprise.id) is None


def _made(decision, outcome, enterprise=None, grounds="the grounds"):
    return listings.DecisionMade(decision.id, enterprise.id if enterprise else decision.enterprise_id, decision.ruleset_id,
                                 outcome, ("CODE_A", "CODE_B"), f'{{"grounds": "{grounds}"}}')


def test_many_decisions_on_one_enterprise_apply_in_order(session, clock, world, make_enterprise):
    enterprise, reviewers, _registrars = world
    _assessment, decision = _file(session, reviewers[0], enterprise, 2, knockout=True)
    black = listings.open_proposal(session, enterprise.id)
    bystander = make_enterprise(contact_email="bystander@example.org")
    created = listings.on_decisions(session, reviewers[0], [
        _made(decision, "RED", grounds="first"), _made(decision, "NONE", bystander), _made(decision, "RED"),
        _made(decision, "NONE"), _made(decision, "BLACK", grounds="last"),
    ])
    assert len(created) == 2
    red, black_again = (session.get(Listing, i) for i in created)
    session.refresh(black)
    assert [black.status, red.status, black_again.status] == [ListingStatus.WITHDRAWN, ListingStatus.WITHDRAWN, ListingStatus.PROPOSED]
    assert (red.list_type.value, red.grounds, red.reason_codes, red.decision_id) == ("red", "first", ["CODE_A", "CODE_B"], decision.id)
    assert black.end_reason == f"superseded by decision {decision.id} (RED)" and red.end_reason == f"superseded by decision {decision.id} (NONE)"
    assert black_again.objection_deadline is None and black_again.objection_days == 15
    assert black_again.triggered_by_id == reviewers[0].id
    assert [(e.from_status, e.to_status) for e in red.events] == [(None, ListingStatus.PROPOSED),
                                                                   (ListingStatus.PROPOSED, ListingStatus.WITHDRAWN)]
    trail = session.execute(select(AuditEvent.action, AuditEvent.subject_id).where(AuditEvent.subject_type == "listing")
                            .order_by(AuditEvent.id)).all()
    assert trail[-4:] == [("listing.withdraw", str(black.id)), ("listing.propose", str(red.id)),
                          ("listing.withdraw", str(red.id)), ("listing.propose", str(black_again.id))]
    notice = session.scalar(select(Notice).where(Notice.listing_id == black_again.id))
    assert notice.to_email == CONTACT and notice.subject == f"Proposed black listing {black_again.reference}"
    assert f"Reference: {black_again.reference}\nReason codes: CODE_A, CODE_B\nGrounds: last\n" in notice.body
    assert "You may object for 15 days from the day this notice reaches you" in notice.body
    assert session.scalar(select(func.count()).select_from(Listing).where(Listing.enterprise_id == bystander.id)) == 0
    assert listings.audit.verify(session).ok


def test_listing_references_that_meet_are_drawn_again(session, clock, world, monkeypatch, make_enterprise):
    enterprise, reviewers, _registrars = world
    _assessment, decision = _file(session, reviewers[0], enterprise, 2)
    others = [make_enterprise(), make_enterprise(), make_enterprise()]
    draws = iter(["0000abcd", "0000abcd", "0000abcd", "1111abcd", "2222abcd"])
    monkeypatch.setattr(listings.secrets, "token_hex", lambda _n: next(draws))
    first, = listings.on_decisions(session, reviewers[0], [_made(decision, "BLACK", others[0])])
    # the next two draws meet each other and the stored reference; the two after are used
    ids = listings.on_decisions(session, reviewers[0], [_made(decision, "BLACK", others[1]), _made(decision, "BLACK", others[2])])
    assert session.get(Listing, first).reference == "L2027-0000ABCD"
    assert sorted(session.get(Listing, i).reference for i in ids) == ["L2027-1111ABCD", "L2027-2222ABCD"]
