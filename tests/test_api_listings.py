"""The listing lifecycle over the API, with the application's clock moved by the test."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conftest import serve_notice
from vetting.clock import FixedClock
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


def _file_black(client, headers, enterprise):
    """File and submit an assessment that confirms a knock-out: the enterprise is proposed for the black list."""
    body = {"enterprise_id": enterprise.id, "conflict": {"declared": False},
            "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
            "knockouts": [{"code": "SANCTIONS_LISTED", "status": "confirmed", "evidence": EV}]}
    return client.post("/api/v1/assessments?submit=true", json=body, headers=headers)


def _auth(session, account):
    return {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), account)}"}


def test_proposal_objection_confirmation_and_status_as_of(client, session, clock, smtp_server, make_account, make_enterprise):
    import re

    from vetting.services import notices

    enterprise = make_enterprise(contact_email="legal@quay.example")
    reviewer = _auth(session, make_account("reviewer"))
    registrar = _auth(session, make_account("registrar"))
    filed = _file_black(client, reviewer, enterprise)
    assert filed.status_code == 201 and filed.get_json()["decision"]["outcome"] == "BLACK"

    queue = client.get("/api/v1/listings?status=proposed", headers=registrar).get_json()
    listing = next(x for x in queue if x["enterprise_id"] == enterprise.id)
    assert listing["list"] == "black" and listing["notice"] == "pending" and listing["objection_deadline"] is None

    inbox, smtp_url = smtp_server
    assert notices.deliver(session, smtp_url).sent >= 1
    mail = next(content for _f, to, content in inbox.messages if to == ["legal@quay.example"])
    assert re.search(r"Reference: (L\S+)", mail).group(1) == listing["reference"] and "15 days from the day" in mail
    delivered = client.get("/api/v1/listings?status=proposed", headers=registrar).get_json()
    listing = next(x for x in delivered if x["id"] == listing["id"])
    assert listing["notice"] == "delivered" and listing["notified_on"] == "2027-05-03" and listing["objection_deadline"] == "2027-05-18"

    wrong = client.post("/api/v1/objections", json={"reference": listing["reference"], "contact_email": "x@y.example",
                                                    "grounds": "not us"})
    assert wrong.status_code == 422 and "reference" in wrong.get_json()["errors"]
    objection = client.post("/api/v1/objections", json={"reference": listing["reference"], "contact_email": "legal@quay.example",
                                                        "grounds": "We were delisted in 2026.", "evidence": EV})
    assert objection.status_code == 201
    clock.advance(days=16)
    held = client.post(f"/api/v1/listings/{listing['id']}/confirm", headers=registrar)
    assert held.status_code == 409 and held.get_json()["conflicting_id"] == objection.get_json()["id"]
    decided = client.post(f"/api/v1/objections/{objection.get_json()['id']}/decide",
                          json={"upheld": False, "reason": "The sanctions list of 2027-04 still names it."}, headers=registrar)
    assert decided.status_code == 200 and decided.get_json()["status"] == "rejected"
    confirmed = client.post(f"/api/v1/listings/{listing['id']}/confirm", headers=registrar)
    assert confirmed.status_code == 200
    assert confirmed.get_json()["effective_from"] == "2027-05-19" and confirmed.get_json()["expires_on"] == "2030-05-19"
    again = client.post(f"/api/v1/listings/{listing['id']}/confirm", headers=registrar)
    assert again.status_code == 409

    now = client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]
    assert now == {"on": "2027-05-19", "list": "black", "listing_id": listing["id"], "since": "2027-05-19", "until": "2030-05-19",
                   "suspended": None}
    before = client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2027-05-10").get_json()["status"]
    assert before["list"] is None
    bad = client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=10-05-2027")
    assert bad.status_code == 422 and "as_of" in str(bad.get_json())

    repair = {"reference": listing["reference"], "contact_email": "legal@quay.example", "remediation": "Delisted by the UN panel.",
              "evidence": EV}
    early = client.post("/api/v1/repair-requests", json=repair)
    assert early.status_code == 409 and early.get_json()["earliest"] == "2028-05-19"
    clock.advance(days=366)
    filed_repair = client.post("/api/v1/repair-requests", json=repair)
    assert filed_repair.status_code == 201
    granted = client.post(f"/api/v1/repair-requests/{filed_repair.get_json()['id']}/decide",
                          json={"granted": True, "reason": "The UN panel removed the entry on 2028-04-02."}, headers=registrar)
    assert granted.status_code == 200 and granted.get_json()["status"] == "granted"
    after = client.get(f"/api/v1/enterprises/{enterprise.id}").get_json()["status"]
    assert after["list"] is None
    during = client.get(f"/api/v1/enterprises/{enterprise.id}?as_of=2028-01-01").get_json()["status"]
    assert during["list"] == "black"

    from sqlalchemy import select

    from vetting.models import AuditEvent

    def actions(subject_type, subject_id):
        return sorted(session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == subject_type, AuditEvent.subject_id == str(subject_id))).all())

    # every transition appears once in the audit log
    assert actions("listing", listing["id"]) == ["listing.confirm", "listing.notify", "listing.propose", "listing.remove"]
    assert actions("objection", objection.get_json()["id"]) == ["objection.decide", "objection.file"]
    assert actions("repair_request", filed_repair.get_json()["id"]) == ["repair.decide", "repair.file"]


def test_the_enterprise_page_answers_as_of_a_date(client, session, clock, make_account, make_enterprise):
    from vetting.services import listings

    enterprise = make_enterprise(contact_email="legal@quay.example")
    reviewer = _auth(session, make_account("reviewer"))
    registrar = make_account("registrar")
    _file_black(client, reviewer, enterprise)
    proposal = listings.open_proposal(session, enterprise.id)
    serve_notice(session, registrar, proposal)
    clock.advance(days=16)
    listings.confirm(session, registrar, proposal.id)
    today = client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert "Today:" in today and "on the black list" in today and "Since 2027-05-19" in today
    assert proposal.reference in today and "proposed" in today and "active" in today
    before = client.get(f"/enterprises/{enterprise.id}?as_of=2027-05-04").get_data(as_text=True)
    assert "On 2027-05-04:" in before and "on neither list" in before
    bad = client.get(f"/enterprises/{enterprise.id}?as_of=May%204")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    assert client.get("/enterprises/999999").status_code == 404


def test_registry_pages_confirm_and_revoke(client, session, clock, make_account, make_enterprise):
    import re

    from vetting.services import listings
    from vetting.services.accounts import session_fingerprint

    enterprise = make_enterprise(contact_email="legal@quay.example")
    reviewer = _auth(session, make_account("reviewer"))
    registrar = make_account("registrar")
    _file_black(client, reviewer, enterprise)
    proposal = listings.open_proposal(session, enterprise.id)
    with client.session_transaction() as web:
        web.update({"account_id": registrar.id, "fingerprint": session_fingerprint(registrar)})

    def csrf(url):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)

    assert proposal.reference in client.get("/registry").get_data(as_text=True)
    page = f"/registry/listings/{proposal.id}"
    unserved = client.post(f"{page}/confirm", data={"csrf_token": csrf(page)})
    assert unserved.status_code == 409 and "has not been notified" in unserved.get_data(as_text=True)
    assert 'id="service-form"' in client.get(page).get_data(as_text=True)
    future = client.post(f"{page}/service", data={"csrf_token": csrf(page), "method": "courier", "served_on": "2027-06-01",
                                                  "note": "EMS receipt"})
    assert future.status_code == 422 and "served_on" in future.get_data(as_text=True)
    served = client.post(f"{page}/service", data={"csrf_token": csrf(page), "method": "courier", "served_on": "2027-05-03",
                                                  "note": "EMS EE1 signed by the legal department"})
    assert served.status_code == 302
    assert 'id="service-form"' not in client.get(page).get_data(as_text=True) and "2027-05-18" in client.get(page).get_data(as_text=True)
    early = client.post(f"{page}/confirm", data={"csrf_token": csrf(page)})
    assert early.status_code == 409 and "objection window" in early.get_data(as_text=True)
    no_csrf = client.post(f"{page}/confirm")
    assert no_csrf.status_code == 400
    clock.advance(days=16)
    done = client.post(f"{page}/confirm", data={"csrf_token": csrf(page)})
    assert done.status_code == 302
    assert 'id="listing-status">active' in client.get(page).get_data(as_text=True)
    blank = client.post(f"{page}/revoke", data={"csrf_token": csrf(page), "reason": ""})
    assert blank.status_code == 400 and "give the reason" in blank.get_data(as_text=True)
    revoked = client.post(f"{page}/revoke", data={"csrf_token": csrf(page), "reason": "made on falsified evidence"})
    assert revoked.status_code == 302
    assert 'id="listing-status">revoked' in client.get(page).get_data(as_text=True)
    stray = client.post("/registry/objections/1/decide", data={"csrf_token": csrf(page), "verdict": "no", "reason": "x"})
    assert stray.status_code == 400


def test_the_lists_over_the_api_and_in_pages(client, session, clock, make_account, make_enterprise):
    from vetting.services import listings

    reviewer = _auth(session, make_account("reviewer"))
    registrar = make_account("registrar")
    listed = []
    for country, name in (("KE", "Kenya Rail Black Co., Ltd."), ("TZ", "Tanzania Port Black Co., Ltd.")):
        ent = make_enterprise(legal_name=name, country=country, contact_email="legal@x.example")
        _file_black(client, reviewer, ent)
        listed.append((ent, listings.open_proposal(session, ent.id)))
        serve_notice(session, registrar, listed[-1][1])
    clock.advance(days=16)
    for _ent, proposal in listed:
        listings.confirm(session, registrar, proposal.id)

    black = client.get("/api/v1/lists/black").get_json()
    names = [e["legal_name"] for e in black["entries"]]
    assert "Kenya Rail Black Co., Ltd." in names and "Tanzania Port Black Co., Ltd." in names
    entry = next(e for e in black["entries"] if e["legal_name"].startswith("Kenya"))
    assert entry["expires_on"] == "2030-05-19" and "SANCTIONS_LISTED" in entry["reason_codes"]
    only_tz = client.get("/api/v1/lists/black?country=TZ").get_json()
    assert [e["legal_name"] for e in only_tz["entries"]] == ["Tanzania Port Black Co., Ltd."]
    assert client.get("/api/v1/lists/black?sort=nonsense").status_code == 422
    assert client.get("/api/v1/lists/grey").status_code == 404

    page = client.get("/lists/black?country=ke").get_data(as_text=True)
    assert "Kenya Rail Black Co., Ltd." in page and "Tanzania Port Black" not in page
    assert "Since" in page and "2030-05-19" in page
