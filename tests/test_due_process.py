"""Due process under ordinary sequences of actions, driven through the API: notice before any
listing takes effect, independence fixed when an assessment is filed, one voice per
association, decided challenges that bind, status from the dates, the interim suspension of a
red listing, and merges that keep a notified address's right to object."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import serve_notice
from vetting.clock import FixedClock
from vetting.models import Decision, Listing, ListingStatus, Notice, Ruleset
from vetting.services import evaluation, listings, notices
from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]


@pytest.fixture()
def clock(app, session):
    fixed = FixedClock(datetime(2027, 5, 3, 8, 0, tzinfo=timezone.utc))
    app.extensions["vetting"].clock = fixed
    session.info["clock"] = fixed
    yield fixed
    app.extensions["vetting"].clock = None
    session.info.pop("clock", None)


@pytest.fixture()
def token(session):
    def _for(account):
        return {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), account)}"}
    return _for


def _body(enterprise_id, score, knockout=None, **scores):
    body = {"enterprise_id": enterprise_id, "conflict": {"declared": False},
            "scores": {c: {"score": scores.get(c, score), "evidence": EV} for c in CRITERIA}}
    if knockout:
        body["knockouts"] = [{"code": knockout, "status": "confirmed", "evidence": EV}]
    return body


def _file(client, headers, body):
    answer = client.post("/api/v1/assessments?submit=true", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _proposal(client, registrar, enterprise_id):
    queue = client.get("/api/v1/listings?status=proposed&limit=1000", headers=registrar).get_json()
    found = [x for x in queue if x["enterprise_id"] == enterprise_id]
    return found[0] if found else None


def _reviewers(make_association, make_account, token, n):
    return [token(make_account("reviewer", association=make_association())) for _ in range(n)]


# -- notice before anything takes effect -------------------------------------------------------

def test_a_listing_of_an_enterprise_without_contact_email_cannot_be_confirmed_until_service_is_recorded(
        client, session, clock, make_account, make_association, make_enterprise, token):
    enterprise = make_enterprise(contact_email=None)
    reviewer = _reviewers(make_association, make_account, token, 1)[0]
    registrar, other = make_account("registrar"), make_account("registrar")
    _file(client, reviewer, _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    proposal = _proposal(client, token(registrar), enterprise.id)
    assert proposal["notice"] == "pending" and proposal["objection_deadline"] is None

    notices.deliver(session, "smtp://127.0.0.1:9")  # no address: recorded as undeliverable, not sent
    clock.advance(days=40)
    refused = client.post(f"/api/v1/listings/{proposal['id']}/confirm", headers=token(registrar))
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "has not been notified" in message and "no contact email" in message and "/service" in message

    served = client.post(f"/api/v1/listings/{proposal['id']}/service", headers=token(other), json={
        "method": "courier", "served_on": "2027-06-12", "note": "EMS EE123456789CN signed by the site office",
        "contact_email": "legal@site.example"})
    assert served.status_code == 200, served.get_json()
    assert served.get_json()["notified_on"] == "2027-06-12" and served.get_json()["objection_deadline"] == "2027-06-27"
    again = client.post(f"/api/v1/listings/{proposal['id']}/service", headers=token(other), json={
        "method": "post", "served_on": "2027-06-12", "note": "twice"})
    assert again.status_code == 409
    early = client.post(f"/api/v1/listings/{proposal['id']}/confirm", headers=token(registrar))
    assert early.status_code == 409 and "2027-06-27" in early.get_json()["message"]
    objection = client.post("/api/v1/objections", json={"reference": proposal["reference"], "contact_email": "legal@site.example",
                                                        "grounds": "The site was never ours."})
    assert objection.status_code == 201


def test_service_cannot_be_dated_in_the_future_or_before_the_proposal(client, session, clock, make_account, make_association,
                                                                       make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    _file(client, _reviewers(make_association, make_account, token, 1)[0], _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    registrar = token(make_account("registrar"))
    proposal = _proposal(client, registrar, enterprise.id)
    for served_on in ("2027-05-04", "2027-05-02"):
        answer = client.post(f"/api/v1/listings/{proposal['id']}/service", headers=registrar,
                             json={"method": "courier", "served_on": served_on, "note": "receipt"})
        assert answer.status_code == 422 and "served_on" in answer.get_json()["errors"]
    bad_method = client.post(f"/api/v1/listings/{proposal['id']}/service", headers=registrar,
                             json={"method": "pigeon", "served_on": "2027-05-03", "note": "receipt"})
    assert bad_method.status_code == 422 and "method" in bad_method.get_json()["errors"]


def test_an_unnotified_proposal_is_not_shown_to_the_public(client, session, clock, make_account, make_association,
                                                           make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    _file(client, _reviewers(make_association, make_account, token, 1)[0], _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    proposal = listings.open_proposal(session, enterprise.id)
    assert proposal.reference not in client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    serve_notice(session, make_account("registrar"), proposal)
    assert proposal.reference in client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)


# -- independence is judged as of filing ---------------------------------------------------------

def test_ending_a_membership_needs_a_registrar_and_never_requalifies_earlier_assessments(
        client, session, clock, make_account, make_association, make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    first, second = make_association(code="GUILDA"), make_association(code="GUILDB")
    admins = {a.code: token(make_account("association_admin", association=a)) for a in (first, second)}
    for code in ("GUILDA", "GUILDB"):
        assert client.put(f"/api/v1/associations/{code}/members/{enterprise.id}", json={}, headers=admins[code]).status_code == 200
    reviewers = [token(make_account("reviewer", association=a)) for a in (first, first, second)]
    for reviewer in reviewers:
        decision = _file(client, reviewer, _body(enterprise.id, 4))["decision"]
    assert decision["reason_codes"][0] == "QUORUM_NOT_MET"

    asked = client.delete(f"/api/v1/associations/GUILDA/members/{enterprise.id}", headers=admins["GUILDA"])
    assert asked.status_code == 202 and asked.get_json()["ended_on"] is None
    clock.advance(days=3)
    ended = client.post(f"/api/v1/associations/GUILDA/members/{enterprise.id}/end", headers=token(make_account("registrar")))
    assert ended.status_code == 200 and ended.get_json()["ended_on"] == "2027-05-06"  # the service clock's day

    evaluation.reevaluate_all(session, SystemActor("test"))
    latest = evaluation.latest_decision(session, enterprise.id)
    assert latest.reason_codes[0] == "QUORUM_NOT_MET" and listings.open_proposal(session, enterprise.id) is None
    document = latest.document
    assert '"standing":"member"' in latest.inputs.replace(" ", "") and "independent" in document


# -- one association, one voice ------------------------------------------------------------------

def test_one_association_cannot_outvote_another_by_filing_more(client, session, clock, make_account, make_association,
                                                               make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    first, second = make_association(), make_association()
    _file(client, token(make_account("reviewer", association=first)), _body(enterprise.id, 4))
    for _ in range(2):
        decision = _file(client, token(make_account("reviewer", association=second)), _body(enterprise.id, 0))["decision"]
    assert decision["outcome"] == "NONE" and "LOW_TOTAL" not in decision["reason_codes"]
    stored = session.get(Decision, decision["id"])
    assert stored.pillar_scores["E"] == pytest.approx(50.0)  # the median of the two associations' medians (4 and 0)


# -- decided challenges bind ---------------------------------------------------------------------

def _black_proposal_upheld(client, session, make_account, make_association, make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    reviewer = _reviewers(make_association, make_account, token, 1)[0]
    _file(client, reviewer, _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    registrar = make_account("registrar")
    proposal = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, proposal)
    objection = client.post("/api/v1/objections", json={"reference": proposal.reference, "contact_email": "legal@x.example",
                                                        "grounds": "The eviction was by the municipality."}).get_json()
    decided = client.post(f"/api/v1/objections/{objection['id']}/decide", headers=token(registrar),
                          json={"upheld": True, "reason": "The court record names the municipality."})
    assert decided.status_code == 200
    return enterprise, reviewer, proposal


def test_an_upheld_objection_is_not_proposed_again_without_new_evidence(client, session, clock, make_account, make_association,
                                                                       make_enterprise, token):
    enterprise, reviewer, proposal = _black_proposal_upheld(client, session, make_account, make_association, make_enterprise, token)
    session.refresh(proposal)
    assert proposal.status is ListingStatus.WITHDRAWN
    clock.advance(days=2)
    evaluation.reevaluate_all(session, SystemActor("test"))
    held = evaluation.latest_decision(session, enterprise.id)
    assert held.outcome.value == "BLACK" and '"held_by"' in held.document
    assert listings.open_proposal(session, enterprise.id) is None
    assert session.scalar(select(Notice).where(Notice.enterprise_id == enterprise.id, Notice.listing_id != proposal.id)) is None

    clock.advance(days=1)
    _file(client, reviewer, _body(enterprise.id, 2, knockout="FORCED_EVICTION"))  # new evidence after the verdict
    again = listings.open_proposal(session, enterprise.id)
    assert again is not None and again.id != proposal.id and again.list_type.value == "black"


def test_an_upheld_objection_also_binds_a_merge_and_a_ruleset_reactivation(client, session, clock, make_account, make_association,
                                                                          make_enterprise, token):
    enterprise, _reviewer, _proposal = _black_proposal_upheld(client, session, make_account, make_association, make_enterprise, token)
    registrar = token(make_account("registrar"))
    other = make_enterprise(contact_email="other@x.example")
    merged = client.post(f"/api/v1/enterprises/{other.id}/merge", headers=registrar, json={"into": enterprise.id, "reason": "same company"})
    assert merged.status_code == 200, merged.get_json()
    assert listings.open_proposal(session, enterprise.id) is None
    before = evaluation.latest_decision(session, enterprise.id).id
    older = session.scalar(select(Ruleset.id).where(Ruleset.version == "2026.1"))
    assert client.post(f"/api/v1/rulesets/{older}/activate", headers=registrar).status_code == 200  # re-evaluates everyone
    after = evaluation.latest_decision(session, enterprise.id)
    assert after.id != before and after.outcome.value == "BLACK" and '"held_by"' in after.document
    assert listings.open_proposal(session, enterprise.id) is None


# -- status comes from the dates -----------------------------------------------------------------

def test_as_of_answers_from_the_dates_whether_or_not_the_expiry_job_ran(client, session, clock, make_account, make_association,
                                                                       make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    _file(client, _reviewers(make_association, make_account, token, 1)[0], _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    registrar = make_account("registrar")
    proposal = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, proposal)
    clock.advance(days=16)
    listing = listings.confirm(session, registrar, proposal.id)
    assert listing.expires_on == date(2030, 5, 19)
    clock.at = datetime(2030, 5, 28, 9, 0, tzinfo=timezone.utc)  # no job has run since 2030-05-19
    last_day = client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2030-05-19").get_json()["status"]
    after = client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2030-05-20").get_json()["status"]
    today = client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]
    assert last_day["list"] == "black" and after["list"] is None and today["list"] is None
    assert enterprise.legal_name not in str(client.get("/api/v1/lists/black").get_json())

    expired = listings.expire_due(session, SystemActor("jobs"))
    assert [x.id for x in expired] == [listing.id] and listings.expire_due(session, SystemActor("jobs")) == []
    assert client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2030-05-19").get_json()["status"] == last_day
    assert client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2030-05-20").get_json()["status"] == after


# -- interim suspension ------------------------------------------------------------------------

def _red_listed(client, session, clock, make_account, make_association, make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    reviewers = _reviewers(make_association, make_account, token, 3)
    for reviewer in reviewers:
        _file(client, reviewer, _body(enterprise.id, 4))
    registrar = make_account("registrar")
    proposal = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, proposal)
    clock.advance(days=16)
    return enterprise, reviewers, registrar, listings.confirm(session, registrar, proposal.id)


def test_a_knockout_black_proposal_suspends_a_red_listing_at_once_and_withdrawal_restores_it(
        client, session, clock, make_account, make_association, make_enterprise, token):
    enterprise, reviewers, registrar, red = _red_listed(client, session, clock, make_account, make_association, make_enterprise, token)
    assert enterprise.legal_name in str(client.get("/api/v1/lists/red").get_json())
    clock.advance(days=30)
    filed = _file(client, reviewers[0], _body(enterprise.id, 4, knockout="FORCED_LABOUR"))
    session.refresh(red)
    assert red.status is ListingStatus.SUSPENDED
    status = client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]
    assert status["list"] is None and status["suspended"] == "red"
    assert enterprise.legal_name not in str(client.get("/api/v1/lists/red").get_json())
    assert "red listing suspended pending review" in client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)

    black = listings.open_proposal(session, enterprise.id)
    revoked = client.post(f"/api/v1/listings/{black.id}/revoke", headers=token(registrar),
                          json={"reason": "the labour inspectorate report was about another firm"})
    assert revoked.status_code == 200
    session.refresh(red)
    assert red.status is ListingStatus.ACTIVE and filed["decision"]["outcome"] == "BLACK"
    assert client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]["list"] == "red"
    assert [e.to_status for e in red.events][-2:] == [ListingStatus.SUSPENDED, ListingStatus.ACTIVE]


def test_a_confirmed_black_listing_removes_the_suspended_red_one(client, session, clock, make_account, make_association,
                                                                 make_enterprise, token):
    enterprise, reviewers, registrar, red = _red_listed(client, session, clock, make_account, make_association, make_enterprise, token)
    _file(client, reviewers[0], _body(enterprise.id, 4, knockout="FORCED_LABOUR"))
    black = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, black)
    clock.advance(days=16)
    listings.confirm(session, make_account("registrar"), black.id)
    session.refresh(red)
    assert red.status is ListingStatus.REMOVED
    assert session.scalars(select(Listing.status).where(Listing.enterprise_id == enterprise.id,
                                                        Listing.status == ListingStatus.ACTIVE)).all() == [ListingStatus.ACTIVE]
    assert client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]["list"] == "black"


# -- merges ---------------------------------------------------------------------------------------

def test_after_a_merge_the_notified_address_keeps_its_objection_and_the_survivors_does_not_gain_one(
        client, session, clock, make_account, make_association, make_enterprise, token):
    absorbed = make_enterprise(contact_email="legal@absorbed.example")
    survivor = make_enterprise(contact_email="legal@survivor.example")
    _file(client, _reviewers(make_association, make_account, token, 1)[0], _body(absorbed.id, 2, knockout="FORCED_EVICTION"))
    registrar = make_account("registrar")
    proposal = listings.open_proposal(session, absorbed.id)
    serve_notice(session, registrar, proposal)
    merged = client.post(f"/api/v1/enterprises/{absorbed.id}/merge", headers=token(registrar),
                         json={"into": survivor.id, "reason": "one company registered twice"})
    assert merged.status_code == 200, merged.get_json()
    stranger = client.post("/api/v1/objections", json={"reference": proposal.reference, "contact_email": "legal@survivor.example",
                                                       "grounds": "not us"})
    assert stranger.status_code == 422
    notified = client.post("/api/v1/objections", json={"reference": proposal.reference, "contact_email": "legal@absorbed.example",
                                                       "grounds": "The eviction was by the municipality."})
    assert notified.status_code == 201


# -- the failing pillar is named -----------------------------------------------------------------

def test_a_high_total_failing_only_the_red_pillar_floor_names_the_pillar(client, session, clock, make_account, make_association,
                                                                         make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    low_p = {c: 2 for c in ("P1", "P2", "P3", "P4", "P5")}
    for reviewer in _reviewers(make_association, make_account, token, 3):
        decision = _file(client, reviewer, _body(enterprise.id, 4, **low_p))["decision"]
    assert decision["outcome"] == "NONE" and decision["reason_codes"] == ["RED_PILLAR_FLOOR", "PILLAR_P"]
    page = client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()
    assert "P (Project quality) 50.0" in page["grounds"]


# -- the repair limit's date is exact ----------------------------------------------------------

def test_a_refused_repair_names_the_exact_day_twelve_months_after_the_last_request(client, session, clock, make_account,
                                                                                   make_association, make_enterprise, token):
    enterprise = make_enterprise(contact_email="legal@x.example")
    _file(client, _reviewers(make_association, make_account, token, 1)[0], _body(enterprise.id, 2, knockout="FORCED_EVICTION"))
    registrar = make_account("registrar")
    proposal = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, proposal)
    clock.advance(days=16)
    listings.confirm(session, registrar, proposal.id)
    clock.at = datetime(2028, 6, 1, 9, 0, tzinfo=timezone.utc)
    repair = {"reference": proposal.reference, "contact_email": "legal@x.example", "remediation": "Households compensated."}
    first = client.post("/api/v1/repair-requests", json=repair)
    assert first.status_code == 201
    client.post(f"/api/v1/repair-requests/{first.get_json()['id']}/decide", headers=token(registrar),
                json={"granted": False, "reason": "not all households yet"})
    clock.at = datetime(2029, 5, 31, 9, 0, tzinfo=timezone.utc)
    refused = client.post("/api/v1/repair-requests", json=repair)
    assert refused.status_code == 409 and refused.get_json()["earliest"] == "2029-06-01"
    clock.at = datetime(2029, 6, 1, 9, 0, tzinfo=timezone.utc)
    assert client.post("/api/v1/repair-requests", json=repair).status_code == 201
