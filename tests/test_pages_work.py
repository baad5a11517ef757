"""Reviewer and registrar pages: sign-in, CSRF, the assessment form from the ruleset, tokens,
accounts. (The same flow in a real browser is in test_browser.py.)"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from vetting.models import Account, Assessment, AuditEvent
from vetting.services.lockout import DEFAULTS, SIGN_IN

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def _csrf(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _sign_in(client, account, password=PASSWORD, next_url=""):
    token = _csrf(client, "/signin")
    return client.post("/signin", data={"email": account.email, "password": password, "next": next_url, "csrf_token": token})


def test_pages_need_a_signed_in_account(client):
    resp = client.get("/review")
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert 'name="password"' in html and 'name="csrf_token"' in html


def test_sign_in_and_out(client, person):
    reviewer = person()
    resp = _sign_in(client, reviewer)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/review")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/review")
    assert page.status_code == 200 and reviewer.display_name in page.get_data(as_text=True)
    out = client.post("/signout", data={"csrf_token": _csrf(client, "/review")})
    assert out.status_code == 302
    assert client.get("/review").status_code == 401


def test_a_form_without_its_csrf_token_is_refused(client, person):
    reviewer = person()
    resp = client.post("/signin", data={"email": reviewer.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/review").status_code == 401


def test_wrong_password_then_lockout(client, session, person):
    reviewer = person()
    for _ in range(DEFAULTS[SIGN_IN].max_failures):
        resp = _sign_in(client, reviewer, password="not the password")
        assert resp.status_code == 401
        assert "not right" in resp.get_data(as_text=True)
    locked = _sign_in(client, reviewer)  # even the right password, while locked
    assert locked.status_code == 429 and "retry after" in locked.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "account.lock")) == 1


def test_unknown_email_answers_like_a_wrong_password(client):
    token = _csrf(client, "/signin")
    resp = client.post("/signin", data={"email": "nobody@example.org", "password": "whatever", "csrf_token": token})
    assert resp.status_code == 401 and "not right" in resp.get_data(as_text=True)


def test_next_only_follows_paths_on_this_site(client, person):
    reviewer = person()
    assert _sign_in(client, reviewer, next_url="//evil.example/x").headers["Location"].endswith("/review")
    client.post("/signout", data={"csrf_token": _csrf(client, "/review")})
    assert _sign_in(client, reviewer, next_url="/account/tokens").headers["Location"].endswith("/account/tokens")


def test_a_disabled_account_loses_its_session(client, session, person):
    reviewer = person()
    _sign_in(client, reviewer)
    assert client.get("/review").status_code == 200
    from vetting.models import AccountStatus

    reviewer.status = AccountStatus.DISABLED
    session.flush()
    assert client.get("/review").status_code == 401


def test_the_form_shows_every_criterion_with_its_rubric(client, session, person):
    import json

    from markupsafe import escape

    from vetting.models import Ruleset, RulesetStatus

    _sign_in(client, person())
    html = client.get("/review/assessments/new").get_data(as_text=True)
    doc = json.loads(session.scalar(select(Ruleset.document).where(Ruleset.status == RulesetStatus.ACTIVE)))
    for criterion in doc["criteria"]:
        assert f'name="{criterion["code"]}-score"' in html
        for text in criterion["rubric"].values():
            assert str(escape(text)) in html
    for knockout in doc["knockouts"]:
        assert f'name="ko-{knockout["code"]}-status"' in html


def _complete(enterprise_id, score="2"):
    data = {"enterprise_id": str(enterprise_id), "conflict": "no", "action": "submit"}
    for code in CRITERIA:
        data[f"{code}-score"] = score
        data[f"{code}-evidence_kind"] = "document"
        data[f"{code}-evidence_reference"] = f"report {code}"
    return data


def test_server_errors_appear_beside_their_fields_and_nothing_is_stored(client, session, person, make_enterprise):
    reviewer = person()
    ent = make_enterprise()
    _sign_in(client, reviewer)
    data = _complete(ent.id, score="3")
    data["E2-evidence_reference"] = ""  # a 3 needs evidence
    del data["S1-score"]  # every criterion must be answered to submit
    data["G1-score"] = "n/a"  # n/a needs a justification
    data["csrf_token"] = _csrf(client, "/review/assessments/new")
    before = session.scalar(select(func.count()).select_from(Assessment))
    resp = client.post("/review/assessments/new", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="E2-evidence-error"' in html and "needs evidence" in html
    assert 'id="G1-justification-error"' in html
    assert "missing S1" in html
    assert 'aria-invalid="true" aria-describedby="E2-evidence-error"' in html
    assert 'value="report E1"' in html  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(Assessment)) == before


def test_draft_then_submit_shows_the_decision_it_moved(client, session, person, make_enterprise):
    reviewer = person()
    ent = make_enterprise()
    _sign_in(client, reviewer)
    data = {"enterprise_id": str(ent.id), "E1-score": "1", "action": "draft", "csrf_token": _csrf(client, "/review/assessments/new")}
    resp = client.post("/review/assessments/new", data=data)
    assert resp.status_code == 302
    url = resp.headers["Location"]
    draft_page = client.get(url).get_data(as_text=True)
    assert "Draft assessment" in draft_page and 'name="version" value="1"' in draft_page
    assert re.search(r'name="E1-score" value="1" checked', draft_page)
    data = _complete(ent.id)
    data.update({"version": "1", "csrf_token": _csrf(client, url)})
    resp = client.post(url, data=data)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "The decision it moved" in page and 'id="decision-outcome"' in page
    assessment = session.scalar(select(Assessment).where(Assessment.enterprise_id == ent.id))
    assert assessment.status.value == "submitted"
    dashboard = client.get("/review").get_data(as_text=True)
    assert f"#{assessment.id}" in dashboard and "no decision" in dashboard


def test_a_stale_draft_version_is_refused(client, session, person, make_enterprise):
    reviewer = person()
    ent = make_enterprise()
    _sign_in(client, reviewer)
    url = client.post("/review/assessments/new", data={"enterprise_id": str(ent.id), "action": "draft",
                                                     "csrf_token": _csrf(client, "/review/assessments/new")}).headers["Location"]
    token = _csrf(client, url)
    assert client.post(url, data={"enterprise_id": str(ent.id), "E1-score": "2", "version": "1", "action": "draft",
                                  "csrf_token": token}).status_code == 302
    stale = client.post(url, data={"enterprise_id": str(ent.id), "E1-score": "4", "version": "1", "action": "draft",
                                   "csrf_token": token})
    assert stale.status_code == 412


def test_another_associations_assessment_is_not_found(client, session, person, make_enterprise, make_association):
    a_reviewer = person()
    b_reviewer = person()
    ent = make_enterprise()
    _sign_in(client, a_reviewer)
    url = client.post("/review/assessments/new", data={"enterprise_id": str(ent.id), "action": "draft",
                                                     "csrf_token": _csrf(client, "/review/assessments/new")}).headers["Location"]
    client.post("/signout", data={"csrf_token": _csrf(client, "/review")})
    _sign_in(client, b_reviewer)
    assert client.get(url).status_code == 404


def test_tokens_are_shown_once_and_can_be_revoked(client, session, person):
    reviewer = person()
    _sign_in(client, reviewer)
    resp = client.post("/account/tokens", data={"name": "laptop", "csrf_token": _csrf(client, "/account/tokens")})
    html = resp.get_data(as_text=True)
    token = re.search(r'<code id="new-token">(vt_[^<]+)</code>', html).group(1)
    prefix = token.split("_")[1]
    assert client.get("/api/v1/assessments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in client.get("/account/tokens").get_data(as_text=True)
    client.post(f"/account/tokens/{prefix}/revoke", data={"csrf_token": _csrf(client, "/account/tokens")})
    assert client.get("/api/v1/assessments", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_registrars_manage_accounts_and_others_may_not(client, session, person, make_association):
    reviewer = person()
    _sign_in(client, reviewer)
    assert client.get("/registry/accounts").status_code == 403
    client.post("/signout", data={"csrf_token": _csrf(client, "/review")})
    registrar = person("registrar")
    _sign_in(client, registrar)
    assoc = make_association()
    bad = client.post("/registry/accounts", data={"email": "not-an-email", "role": "reviewer", "association": assoc.code,
                                              "password": "short", "csrf_token": _csrf(client, "/registry/accounts")})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "valid e-mail" in html and "at least 12 characters" in html
    ok = client.post("/registry/accounts", data={"email": "new.reviewer@example.org", "role": "reviewer", "association": assoc.code,
                                             "password": "a long enough password", "csrf_token": _csrf(client, "/registry/accounts")})
    assert ok.status_code == 302
    created = session.scalar(select(Account).where(Account.email == "new.reviewer@example.org"))
    assert created is not None and created.password_hash
    client.post(f"/registry/accounts/{created.id}/disable", data={"csrf_token": _csrf(client, "/registry/accounts")})
    session.refresh(created)
    assert created.status.value == "disabled"
