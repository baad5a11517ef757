"""The assessment API: drafts, If-Match, submission moving the decision, visibility by association."""

import pytest

from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report 2026"}]


@pytest.fixture()
def bearer(session):
    def _for(account):
        return {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), account)}"}

    return _for


def payload(enterprise_id, score=3, **over):
    body = {"enterprise_id": enterprise_id, "conflict": {"declared": False}, "summary": "site visit",
            "scores": {c: {"score": score, "evidence": EV} for c in CRITERIA}}
    body.update(over)
    return body


def test_draft_update_submit_and_withdraw(client, session, make_enterprise, make_account, bearer):
    ent = make_enterprise()
    reviewer = make_account("reviewer")
    auth = bearer(reviewer)
    created = client.post("/api/v1/assessments", json=payload(ent.id, score=2), headers=auth)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["scores"]["E1"]["score"] == 2 and body["ruleset_version"] == "2026.2"
    etag = created.headers["ETag"]

    no_match = client.patch(f"/api/v1/assessments/{body['id']}", json={"summary": "x"}, headers=auth)
    assert no_match.status_code == 412
    updated = client.patch(f"/api/v1/assessments/{body['id']}", json={"summary": "second visit"}, headers={**auth, "If-Match": etag})
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["summary"] == "second visit" and updated.get_json()["scores"]["E1"]["score"] == 2
    stale = client.patch(f"/api/v1/assessments/{body['id']}", json={"summary": "third"}, headers={**auth, "If-Match": etag})
    assert stale.status_code == 412 and "changed since you read it" in stale.get_json()["message"]

    submitted = client.post(f"/api/v1/assessments/{body['id']}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.get_json()
    result = submitted.get_json()
    assert result["assessment"]["status"] == "submitted"
    assert result["decision"]["outcome"] == "NONE" and result["decision"]["reason_codes"] == ["QUORUM_NOT_MET"]
    again = client.post(f"/api/v1/assessments/{body['id']}/submit", headers=auth)
    assert again.status_code == 409

    withdrawn = client.post(f"/api/v1/assessments/{body['id']}/withdraw", json={"reason": "wrong enterprise"}, headers=auth)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["assessment"]["status"] == "withdrawn"


def test_validation_names_each_field(client, make_enterprise, make_account, bearer):
    ent = make_enterprise()
    auth = bearer(make_account("reviewer"))
    bad = payload(ent.id)
    bad["scores"]["E1"] = {"score": 9}
    bad["scores"]["ZZ"] = {"score": 1}
    bad["colour"] = "red"
    resp = client.post("/api/v1/assessments", json=bad, headers=auth)
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert "colour" in errors and "scores.E1.score" in errors
    del bad["colour"]
    bad["scores"]["E1"] = {"score": 4}
    resp = client.post("/api/v1/assessments", json=bad, headers=auth)
    errors = resp.get_json()["errors"]
    assert resp.status_code == 422 and "scores.E1.evidence" in errors and "scores.ZZ" in errors
    resp = client.post("/api/v1/assessments", json=payload(999999), headers=auth)
    assert resp.status_code == 422 and "enterprise_id" in resp.get_json()["errors"]
    incomplete = payload(ent.id)
    del incomplete["scores"]["P5"]
    draft = client.post("/api/v1/assessments", json=incomplete, headers=auth)
    assert draft.status_code == 201
    refused = client.post(f"/api/v1/assessments/{draft.get_json()['id']}/submit", headers=auth)
    assert refused.status_code == 422 and "missing P5" in refused.get_json()["errors"]["scores"][0]


def test_visibility_and_roles(client, make_enterprise, make_account, make_association, bearer):
    ent = make_enterprise()
    assoc = make_association()
    mine = make_account("reviewer", association=assoc)
    admin = make_account("association_admin", association=assoc)
    other = make_account("reviewer")
    registrar = make_account("registrar")
    created = client.post("/api/v1/assessments", json=payload(ent.id), headers=bearer(mine)).get_json()
    url = f"/api/v1/assessments/{created['id']}"
    assert client.get(url, headers=bearer(other)).status_code == 404
    assert client.get(url, headers=bearer(admin)).status_code == 200
    assert client.get(url, headers=bearer(registrar)).status_code == 200
    assert client.get(url).status_code == 401
    assert client.post("/api/v1/assessments", json=payload(ent.id), headers=bearer(registrar)).status_code == 403
    assert client.post("/api/v1/assessments", json={"colour": 1}).status_code == 401
    listed = client.get("/api/v1/assessments", headers=bearer(other)).get_json()
    assert created["id"] not in [a["id"] for a in listed]
    assert created["id"] in [a["id"] for a in client.get("/api/v1/assessments", headers=bearer(admin)).get_json()]
    assert client.post(f"{url}/submit", headers=bearer(other)).status_code == 404


def test_amend_supersedes_and_keeps_the_old_version(client, session, make_enterprise, make_account, bearer):
    ent = make_enterprise()
    reviewer = make_account("reviewer")
    auth = bearer(reviewer)
    first = client.post("/api/v1/assessments", json=payload(ent.id, score=2), headers=auth).get_json()
    client.post(f"/api/v1/assessments/{first['id']}/submit", headers=auth)
    amended = client.post(f"/api/v1/assessments/{first['id']}/amend", json=payload(ent.id, score=3), headers=auth)
    assert amended.status_code == 201, amended.get_json()
    new = amended.get_json()["assessment"]
    assert new["supersedes_id"] == first["id"] and new["status"] == "submitted" and new["scores"]["E1"]["score"] == 3
    old = client.get(f"/api/v1/assessments/{first['id']}", headers=auth).get_json()
    assert old["status"] == "superseded" and old["scores"]["E1"]["score"] == 2
    assert client.post(f"/api/v1/assessments/{first['id']}/amend", json=payload(ent.id), headers=auth).status_code == 409
    incomplete = payload(ent.id)
    del incomplete["scores"]["G3"]
    assert client.post(f"/api/v1/assessments/{new['id']}/amend", json=incomplete, headers=auth).status_code == 422


def test_memberships_declared_by_the_association_admin(client, session, make_enterprise, make_account, make_association, bearer):
    ent = make_enterprise()
    assoc = make_association(code="MEMB")
    admin = bearer(make_account("association_admin", association=assoc))
    url = f"/api/v1/associations/MEMB/members/{ent.id}"
    declared = client.put(url, json={"since": "2024-01-01"}, headers=admin)
    assert declared.status_code == 200 and declared.get_json()["association"] == "MEMB"
    assert client.put(url, json={}, headers=admin).status_code == 200
    assert client.put(url, json={}, headers=bearer(make_account("association_admin"))).status_code == 403
    assert client.put(url, json={}, headers=bearer(make_account("reviewer", association=assoc))).status_code == 403
    asked = client.delete(url, headers=admin)
    assert asked.status_code == 202 and asked.get_json()["end_requested_on"] and asked.get_json()["ended_on"] is None
    assert client.delete(url, headers=admin).status_code == 409  # asked already
    assert client.post(f"{url}/end", headers=admin).status_code == 403  # a registrar confirms
    ended = client.post(f"{url}/end", headers=bearer(make_account("registrar")))
    assert ended.status_code == 200 and ended.get_json()["ended_on"]
    assert client.delete(url, headers=admin).status_code == 404


def test_idempotency_key_replays_and_refuses_a_different_body(client, session, make_enterprise, make_account, bearer):
    from sqlalchemy import func, select

    from vetting.models import Assessment

    ent = make_enterprise()
    auth = {**bearer(make_account("reviewer")), "Idempotency-Key": "import-2026-11-24-0001"}
    before = session.scalar(select(func.count()).select_from(Assessment))
    first = client.post("/api/v1/assessments", json=payload(ent.id), headers=auth)
    again = client.post("/api/v1/assessments", json=payload(ent.id), headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert session.scalar(select(func.count()).select_from(Assessment)) == before + 1
    other = client.post("/api/v1/assessments", json=payload(ent.id, score=2), headers=auth)
    assert other.status_code == 409 and "different request" in other.get_json()["message"]
    # a refused request keeps nothing: the corrected retry with the same key runs
    key2 = {**auth, "Idempotency-Key": "k2"}
    assert client.post("/api/v1/assessments", json={"enterprise_id": ent.id, "scores": {"E1": {"score": 9}}}, headers=key2).status_code == 422
    fixed = client.post("/api/v1/assessments", json=payload(ent.id, score=1), headers=key2)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_validate_checks_without_storing(client, session, make_enterprise, make_account, bearer):
    from sqlalchemy import func, select

    from vetting.models import Assessment, AuditEvent

    ent = make_enterprise()
    headers = bearer(make_account("reviewer"))
    counts = (session.scalar(select(func.count()).select_from(Assessment)), session.scalar(select(func.count()).select_from(AuditEvent)))
    ok = client.post("/api/v1/assessments/validate", json=payload(ent.id), headers=headers)
    assert ok.status_code == 200 and ok.get_json() == {"valid": True, "ruleset_version": "2026.2", "complete": True}
    incomplete = payload(ent.id)
    del incomplete["scores"]["P5"]
    bad = client.post("/api/v1/assessments/validate", json=incomplete, headers=headers)
    assert bad.status_code == 422 and "missing P5" in bad.get_json()["errors"]["scores"][0]
    assert client.post("/api/v1/assessments/validate?complete=false", json=incomplete, headers=headers).status_code == 200
    unknown = client.post("/api/v1/assessments/validate", json=payload(999_999), headers=headers)
    assert unknown.status_code == 422 and "enterprise_id" in unknown.get_json()["errors"]
    assert (session.scalar(select(func.count()).select_from(Assessment)),
            session.scalar(select(func.count()).select_from(AuditEvent))) == counts


def test_file_and_submit_in_one_step(client, session, make_enterprise, make_account, bearer):
    from vetting.models import AuditEvent
    from sqlalchemy import select

    ent = make_enterprise()
    headers = bearer(make_account("reviewer"))
    incomplete = payload(ent.id)
    del incomplete["conflict"]
    refused = client.post("/api/v1/assessments?submit=true", json=incomplete, headers=headers)
    assert refused.status_code == 422 and "conflict" in refused.get_json()["errors"]
    resp = client.post("/api/v1/assessments?submit=true", json=payload(ent.id), headers=headers)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "submitted" and body["submitted_at"]
    assert body["decision"]["enterprise_id"] == ent.id and body["decision"]["trigger"] == f"assessment.submit:{body['id']}"
    actions = session.scalars(select(AuditEvent.action).where(
        ((AuditEvent.subject_type == "assessment") & (AuditEvent.subject_id == str(body["id"])))
        | ((AuditEvent.subject_type == "decision") & (AuditEvent.subject_id == str(body["decision"]["id"]))))).all()
    assert sorted(actions) == ["assessment.create", "assessment.submit", "decision.store"]
    draft = client.post("/api/v1/assessments", json=payload(ent.id), headers=headers).get_json()
    assert draft["status"] == "draft" and draft["decision"] is None


def test_a_submission_answers_with_what_was_stored(client, session, make_enterprise, make_account, bearer):
    """The answer to a one-step submission is built from the input as stored; reading the
    assessment back from the database gives the same scores, knock-outs and declaration."""
    ent = make_enterprise()
    headers = bearer(make_account("reviewer"))
    body = payload(ent.id, conflict={"declared": True, "note": "a former employee of the enterprise"})
    body["scores"]["S3"] = {"score": "n/a", "justification": "no indigenous peoples near the site", "evidence": []}
    body["scores"]["E2"] = {"score": 4, "justification": "measured twice", "evidence": [
        {"kind": "url", "reference": "https://example.org/report"}, {"kind": "document", "reference": "annex B"}]}
    body["knockouts"] = [{"code": "SANCTIONS_LISTED", "status": "alleged", "description": "press reports",
                          "evidence": [{"kind": "url", "reference": "https://news.example/1"}]},
                         {"code": "MDB_DEBARMENT", "status": "confirmed",
                          "evidence": [{"kind": "url", "reference": "https://mdb.example/debarred/7"},
                                       {"kind": "document", "reference": "debarment notice"}]}]
    filed = client.post("/api/v1/assessments?submit=true", json=body, headers=headers)
    assert filed.status_code == 201, filed.get_json()
    answer = filed.get_json()
    session.expire_all()
    stored = client.get(f"/api/v1/assessments/{answer['id']}", headers=headers).get_json()
    for key in ("scores", "knockouts", "conflict", "summary", "status", "ruleset_version", "association"):
        assert answer[key] == stored[key], key
    assert answer["scores"]["S3"] == {"score": "n/a", "justification": "no indigenous peoples near the site", "evidence": []}
    assert [k["code"] for k in answer["knockouts"]] == ["SANCTIONS_LISTED", "MDB_DEBARMENT"]
    assert len(answer["knockouts"][1]["evidence"]) == 2
