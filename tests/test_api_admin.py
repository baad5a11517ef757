"""Registrar administration over the API: associations, accounts, tokens, audit events."""

from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor


def _auth(session, account):
    return {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), account)}"}


def test_associations_accounts_and_suspension(client, session, make_account):
    registrar = _auth(session, make_account("registrar"))
    made = client.post("/api/v1/associations", json={"code": "silk", "name": "Silk Road Builders Chamber", "country": "CN"}, headers=registrar)
    assert made.status_code == 201 and made.get_json()["code"] == "SILK"
    assert client.post("/api/v1/associations", json={"code": "SILK", "name": "x", "country": "CN"}, headers=registrar).status_code == 409
    bad = client.post("/api/v1/associations", json={"code": "s", "name": "", "country": "ZZ"}, headers=registrar)
    assert bad.status_code == 422 and {"code", "name", "country"} <= set(bad.get_json()["errors"])

    created = client.post("/api/v1/accounts", json={"email": "rev.li@silk.example", "role": "reviewer", "association": "SILK"}, headers=registrar)
    assert created.status_code == 201
    token = created.get_json()["token"]
    reviewer = {"Authorization": f"Bearer {token}"}
    account_id = created.get_json()["account"]["id"]
    assert client.get("/api/v1/assessments", headers=reviewer).status_code == 200
    assert client.get("/api/v1/accounts", headers=reviewer).status_code == 403

    assert client.post("/api/v1/associations/SILK/suspend", json={"reason": "audit"}, headers=registrar).status_code == 200
    refused = client.get("/api/v1/assessments", headers=reviewer)
    assert refused.status_code == 401 and "suspended" in refused.get_json()["message"]
    assert client.post("/api/v1/associations/SILK/reinstate", json={"reason": "audit passed"}, headers=registrar).status_code == 200
    assert client.get("/api/v1/assessments", headers=reviewer).status_code == 200

    assert client.post(f"/api/v1/accounts/{account_id}/disable", json={"reason": "left"}, headers=registrar).status_code == 200
    assert client.get("/api/v1/assessments", headers=reviewer).status_code == 401
    assert client.post(f"/api/v1/accounts/{account_id}/enable", json={"reason": "back"}, headers=registrar).status_code == 200
    assert client.get("/api/v1/assessments", headers=reviewer).status_code == 200


def test_tokens_listed_by_prefix_rotated_and_revoked(client, session, make_account):
    me = make_account("reviewer")
    other = make_account("reviewer")
    auth = _auth(session, me)
    listed = client.get(f"/api/v1/accounts/{me.id}/tokens", headers=auth).get_json()
    assert len(listed) == 1 and set(listed[0]) == {"prefix", "name", "created_at", "last_used_at", "revoked_at"}
    assert client.get(f"/api/v1/accounts/{other.id}/tokens", headers=auth).status_code == 404
    new = client.post(f"/api/v1/accounts/{me.id}/tokens", json={"name": "laptop"}, headers=auth).get_json()
    new_auth = {"Authorization": f"Bearer {new['token']}"}
    assert client.get("/api/v1/assessments", headers=new_auth).status_code == 200
    rotated = client.post(f"/api/v1/accounts/{me.id}/tokens/{new['prefix']}/rotate", headers=auth)
    assert rotated.status_code == 201
    assert client.get("/api/v1/assessments", headers=new_auth).status_code == 401
    assert client.get("/api/v1/assessments", headers={"Authorization": f"Bearer {rotated.get_json()['token']}"}).status_code == 200
    prefix = rotated.get_json()["prefix"]
    assert client.delete(f"/api/v1/accounts/{me.id}/tokens/{prefix}", headers=auth).status_code == 200
    assert client.delete(f"/api/v1/accounts/{me.id}/tokens/{prefix}", headers=auth).status_code == 409


def test_audit_events_endpoint_filters(client, session, make_account):
    registrar_account = make_account("registrar")
    registrar = _auth(session, registrar_account)
    client.post("/api/v1/associations", json={"code": "AUDX", "name": "Audit Test", "country": "CN"}, headers=registrar)
    events = client.get("/api/v1/audit-events?action=association.accredit", headers=registrar).get_json()
    assert events and all(e["action"] == "association.accredit" for e in events)
    assert events[-1]["summary"] == {"code": "AUDX"} and events[-1]["actor_id"] == registrar_account.id
    assert client.get("/api/v1/audit-events", headers=_auth(session, make_account("reviewer"))).status_code == 403


def test_cli_accredits_suspends_and_disables(tmp_path):
    from click.testing import CliRunner

    from tests.conftest import scratch_database
    from vetting import migrate
    from vetting.cli import main
    from vetting.db import make_engine

    with scratch_database(tmp_path, "admin") as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i")}
        run = lambda *args: CliRunner().invoke(main, list(args), env=env)  # noqa: E731
        assert run("associations", "accredit", "--code", "SILK", "--name", "Silk Chamber", "--country", "CN").exit_code == 0
        created = run("accounts", "create", "--role", "reviewer", "--email", "r@silk.example", "--association", "SILK")
        assert created.exit_code == 0
        account_id = created.output.split("account ")[1].split(" ")[0]
        assert run("associations", "suspend", "SILK", "--reason", "audit").exit_code == 0
        again = run("associations", "suspend", "SILK", "--reason", "audit")
        assert again.exit_code == 2 and "already suspended" in again.output
        assert run("associations", "reinstate", "SILK", "--reason", "ok").exit_code == 0
        assert run("accounts", "disable", account_id, "--reason", "left").exit_code == 0
        assert run("accounts", "enable", account_id, "--reason", "back").exit_code == 0
        assert run("audit", "verify").exit_code == 0
