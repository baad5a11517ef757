"""Registering enterprises: identifiers validated, known identifiers refused, duplicates flagged."""

from tests.conftest import valid_uscc
from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor


def _auth(session, account):
    return {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), account)}"}


def body(**over):
    data = {
        "legal_name": "Qingshan Hydro Engineering Co., Ltd.",
        "chinese_name": "青山水电工程有限公司",
        "aliases": ["Qingshan Hydro"],
        "identifiers": [{"scheme": "uscc", "value": valid_uscc(424242)}],
        "country": "cn",
        "sector": "power",
        "projects": [{"name": "Kafue Gorge Lower Spillway", "host_country": "ZM", "sector": "power", "equator_category": "A"}],
    }
    data.update(over)
    return data


def test_register_then_refuse_the_same_identifier_with_the_holder(client, session, make_account):
    auth = _auth(session, make_account("reviewer"))
    first = client.post("/api/v1/enterprises", json=body(), headers=auth)
    assert first.status_code == 201, first.get_json()
    created = first.get_json()["enterprise"]
    assert created["country"] == "CN" and created["identifiers"][0]["value"] == valid_uscc(424242)
    assert created["projects"][0]["host_country"] == "ZM"
    again = client.post("/api/v1/enterprises", json=body(legal_name="Another Name Ltd"), headers=auth)
    assert again.status_code == 409
    assert again.get_json()["conflicting_id"] == created["id"]


def test_near_identical_name_in_the_same_country_is_flagged(client, session, make_account):
    auth = _auth(session, make_account("reviewer"))
    first = client.post("/api/v1/enterprises", json=body(identifiers=[]), headers=auth).get_json()["enterprise"]
    second = client.post("/api/v1/enterprises", json=body(identifiers=[], legal_name="QINGSHAN  Hydro Engineering Co., Ltd"),
                         headers=auth)
    assert second.status_code == 201
    flagged = second.get_json()["possible_duplicates"]
    assert [d["id"] for d in flagged] == [first["id"]] and flagged[0]["similarity"] >= 0.92
    elsewhere = client.post("/api/v1/enterprises", json=body(identifiers=[], country="SG"), headers=auth)
    assert elsewhere.get_json()["possible_duplicates"] == []


def test_errors_name_the_field_and_the_problem(client, session, make_account):
    auth = _auth(session, make_account("reviewer"))
    bad_check = valid_uscc(7)[:-1] + ("1" if valid_uscc(7)[-1] != "1" else "2")
    resp = client.post("/api/v1/enterprises", json=body(identifiers=[{"scheme": "uscc", "value": bad_check}], country="XX",
                                                        projects=[{"name": "Port", "host_country": "Atlantis", "sector": "water"}]),
                       headers=auth)
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert "check digit" in errors["identifiers.0.value"][0]
    assert "country" in errors and "projects.0.host_country" in errors
    resp = client.post("/api/v1/enterprises", json=body(sector="banking", nickname="x"), headers=auth)
    assert resp.status_code == 422 and {"sector", "nickname"} <= set(resp.get_json()["errors"])
    assert client.post("/api/v1/enterprises", json=body()).status_code == 401


def test_merge_moves_everything_and_the_old_id_redirects(client, session, make_account, make_enterprise):
    from sqlalchemy import select

    from vetting.models import Assessment, AssessmentStatus, CriterionScore, Decision
    from vetting.services.rulesets import active_ruleset

    registrar = _auth(session, make_account("registrar"))
    reviewer = make_account("reviewer")
    survivor = make_enterprise(legal_name="Survivor Co., Ltd.")
    absorbed = make_enterprise(legal_name="Absorbed Engineering Co., Ltd.", chinese_name="被并工程有限公司")
    a = Assessment(enterprise_id=absorbed.id, association_id=reviewer.association_id, reviewer_id=reviewer.id,
                   ruleset_id=active_ruleset(session).id, status=AssessmentStatus.SUBMITTED, conflict_declared=False,
                   scores=[CriterionScore(criterion="E1", score=3)])
    session.add(a)
    session.flush()
    absorbed_uscc = absorbed.identifiers[0].value
    resp = client.post(f"/api/v1/enterprises/{absorbed.id}/merge", json={"into": survivor.id, "reason": "same company"}, headers=registrar)
    assert resp.status_code == 200, resp.get_json()
    merged = resp.get_json()
    session.expire_all()
    assert absorbed_uscc in [i["value"] for i in merged["identifiers"]]
    assert {"Absorbed Engineering Co., Ltd.", "被并工程有限公司"} <= set(merged["aliases"])
    assert session.get(Assessment, a.id).enterprise_id == survivor.id
    assert session.scalar(select(Decision).where(Decision.enterprise_id == survivor.id)) is not None
    redirect = client.get(f"/api/v1/enterprises/{absorbed.id}")
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith(f"/api/v1/enterprises/{survivor.id}")
    final = client.get(f"/api/v1/enterprises/{absorbed.id}", follow_redirects=True)
    assert final.status_code == 200 and final.get_json()["id"] == survivor.id and final.get_json()["decision"]["outcome"]
    again = client.post(f"/api/v1/enterprises/{absorbed.id}/merge", json={"into": survivor.id, "reason": "x"}, headers=registrar)
    assert again.status_code == 409 and again.get_json()["conflicting_id"] == survivor.id
    assert client.post(f"/api/v1/enterprises/{survivor.id}/merge", json={"into": survivor.id, "reason": "x"}, headers=registrar).status_code == 422
    assert client.get("/api/v1/enterprises/999999").status_code == 404
