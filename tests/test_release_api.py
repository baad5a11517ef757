"""Publishing over the API against a database of its own (not the tests' shared connection), so
the request's transaction and the build's own sessions are real, separate connections: on
SQLite they contend for the one write lock as they do in production."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import scratch_database
from tests.test_releases import _black
from vetting.app import create_app
from vetting.clock import FixedClock
from vetting.db import Database, make_engine
from vetting.models import Account, Association, AuditEvent, Enterprise, IdempotencyKey, Role
from vetting.publication import release
from vetting.resources import bundled_path
from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor
from vetting.services.releases import ACTION
from vetting.services.setup import initialize


@pytest.fixture()
def installation(tmp_path):
    """An app on a fresh, migrated database with one black listing in force today, and a
    registrar's bearer token."""
    with scratch_database(tmp_path, "relapi") as url:
        engine = make_engine(url)
        try:
            initialize(Database(engine), bundled_path("seeds"), demo=False)
        finally:
            engine.dispose()
        app = create_app({"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "instance"),
                          "VETTING_SECRET_KEY": "test-secret-key", "VETTING_DB_TIMEOUT": 2.0, "TESTING": True})
        database = app.extensions["vetting"].database
        try:
            token = _populate(database)
            yield SimpleNamespace(app=app, client=app.test_client(), database=database,
                                  headers={"Authorization": f"Bearer {token}"}, folder=release.storage(dict(app.config)))
        finally:
            database.dispose()


def _populate(database: Database) -> str:
    """One black listing, confirmed 24 days ago; returns the confirming registrar's token."""
    with database.session() as session:
        clock = FixedClock(datetime.now(timezone.utc) - timedelta(days=40))
        session.info["clock"] = clock
        associations = [Association(code=f"RA{n}", name=f"Release API Association {n}", country="CN") for n in range(3)]
        session.add_all(associations)
        session.flush()
        reviewers = [Account(email=f"reviewer{n}@release.example", display_name=f"Reviewer {n}", role=Role.REVIEWER,
                             association=a) for n, a in enumerate(associations)]
        registrar = Account(email="registrar@release.example", display_name="Registrar", role=Role.REGISTRAR)
        session.add_all([*reviewers, registrar])
        session.flush()

        def make_enterprise(**kw):  # noqa: ANN003, ANN202
            enterprise = Enterprise(country="CN", sector="infrastructure", **kw)
            session.add(enterprise)
            session.flush()
            return enterprise

        _black(session, clock, (reviewers, registrar), make_enterprise, "Release API Harbour Works Co., Ltd.")
        token = issue_token(session, SystemActor("test"), registrar)
        session.commit()
        return token


def _publish_events(database: Database) -> list[AuditEvent]:
    with database.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == ACTION).order_by(AuditEvent.id)))


def test_publishing_over_the_api_answers_200_with_one_release_and_one_audit_event(installation):
    resp = installation.client.post("/api/v1/releases", json={}, headers=installation.headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["published"] is True and body["release"]["release"] == 1
    assert body["release"]["counts"] == {"red": 0, "black": 1, "total": 1}
    assert release.numbers(installation.folder) == [1]
    events = _publish_events(installation.database)
    assert [(e.subject_type, e.subject_id, e.actor_label) for e in events] == \
        [("release", "1", "registrar@release.example")]

    # a retry without a key, nothing having changed: skipped, still one release and one event
    again = installation.client.post("/api/v1/releases", json={}, headers=installation.headers)
    assert again.status_code == 200 and again.get_json()["published"] is False
    assert again.get_json()["release"]["release"] == 1
    assert release.numbers(installation.folder) == [1] and len(_publish_events(installation.database)) == 1


def test_a_retry_with_the_same_idempotency_key_publishes_nothing_even_when_forced(installation):
    headers = {**installation.headers, "Idempotency-Key": "publish-2027-03-01"}
    first = installation.client.post("/api/v1/releases", json={"force": True}, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["published"] is True and first.get_json()["release"]["release"] == 1
    # the key was marked carried out in the same commit as the audit event
    with installation.database.session() as session:
        key = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "publish-2027-03-01"))
        assert key is not None and key.carried_out and key.status_code == 200

    retry = installation.client.post("/api/v1/releases", json={"force": True}, headers=headers)
    assert retry.status_code == 200 and retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.get_json() == first.get_json()
    assert release.numbers(installation.folder) == [1]
    assert len(_publish_events(installation.database)) == 1

    # another key is another request: forced, it publishes the next release
    other = installation.client.post("/api/v1/releases", json={"force": True},
                                     headers={**installation.headers, "Idempotency-Key": "publish-2027-03-02"})
    assert other.status_code == 200 and other.get_json()["release"]["release"] == 2
    assert release.numbers(installation.folder) == [1, 2]
    assert [e.subject_id for e in _publish_events(installation.database)] == ["1", "2"]
