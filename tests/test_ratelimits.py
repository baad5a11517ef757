"""Rate limits answer 429 with Retry-After, per client address, on public reads and filings."""

from __future__ import annotations

import pytest


def _client(engine, session_factory, tmp_path, **extra):
    from vetting.app import create_app
    from vetting.db import Database

    database = Database(engine)
    database.sessionmaker = session_factory
    app = create_app({"VETTING_INSTANCE_PATH": str(tmp_path / "i"), "VETTING_SECRET_KEY": "k", "VETTING_DATABASE": database,
                      "VETTING_RATELIMIT_PUBLIC": "3 per minute", "VETTING_RATELIMIT_SENSITIVE": "2 per minute", "TESTING": True,
                      **extra})
    return app.test_client()


@pytest.fixture()
def limited(engine, session_factory, tmp_path):
    return _client(engine, session_factory, tmp_path)


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(engine, session_factory, tmp_path):
    client = _client(engine, session_factory, tmp_path, VETTING_TRUSTED_PROXIES=1)
    alice = [client.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).status_code for _ in range(4)]
    bob = client.get("/", headers={"X-Forwarded-For": "198.51.100.9"}).status_code
    assert alice == [200, 200, 200, 429] and bob == 200


def test_public_reads_are_limited_with_retry_after(limited):
    statuses = [limited.get("/api/v1/rulesets/active").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get("/api/v1/rulesets/active")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["code"] and "internal" not in refused.get_json()["message"]
    other_client = limited.get("/api/v1/rulesets/active", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_client.status_code == 200


def test_filings_are_limited_more_tightly(limited):
    body = {"reference": "L2026-NOPE", "contact_email": "x@y.example", "grounds": "g"}
    statuses = [limited.post("/api/v1/objections", json=body).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    page = limited.get("/")
    assert page.status_code == 200  # reads have their own, larger budget


def test_each_public_read_has_its_own_budget_and_reports_it(limited):
    lookup = "/api/v1/enterprises?identifier=uscc:91110000MA01ABCD2X"  # an invalid check digit: 422, still counted
    answers = [limited.get(lookup) for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" and int(a.headers["Retry-After"]) >= 0 for a in answers)
    assert int(answers[0].headers["X-RateLimit-Reset"]) > 0
    assert limited.head(lookup).status_code != 429  # only GET is limited
    refused = limited.get(lookup)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["message"] == "3 per 1 minute" and refused.headers["X-RateLimit-Remaining"] == "0"
    other = limited.get("/api/v1/rulesets/active")  # another endpoint: a budget of its own
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    unlimited = limited.get("/healthz")
    assert unlimited.status_code == 200 and "X-RateLimit-Limit" not in unlimited.headers
