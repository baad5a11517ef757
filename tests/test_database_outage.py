"""The database going away around a request: a 503 with Retry-After, never a 500, and an answer
already given stands. (bench/restart_drill.py restarts PostgreSQL under load; these are the
cases it found, reproduced without a restart.)"""

import hashlib
import json
from datetime import timedelta

from flask import request
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tests.test_api_assessments import bearer, payload  # noqa: F401 - bearer is a fixture
from vetting.api.idempotency import ABANDONED
from vetting.models import Assessment, IdempotencyKey
from vetting.models.types import utcnow
from vetting.web import state


def _gone() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("FATAL:  the database system is shutting down"))


def test_a_database_error_after_the_view_is_a_503_with_retry_after(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask's last resort answers

    @app.after_request
    def _fail(response):  # noqa: ANN001, ANN202
        if request.path == "/healthz":
            raise _gone()
        return response

    resp = client.get("/healthz")
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.headers["Retry-After"] == "5"
    assert resp.get_json()["code"] == "unavailable"


def test_an_idempotent_post_keeps_its_answer_when_the_database_goes_away_after_it(app, client, session, make_enterprise,
                                                                                make_account, bearer, monkeypatch):  # noqa: F811
    import vetting.api.idempotency as idempotency

    app.config["PROPAGATE_EXCEPTIONS"] = False
    database = state(app).database
    real_session, real_close = database.session, idempotency.close_request_session
    down = {"now": False}

    def session_or_gone():  # noqa: ANN202
        if down["now"]:
            raise _gone()
        return real_session()

    def close_then_go_down(*args):  # noqa: ANN002, ANN202
        real_close(*args)
        down["now"] = True  # the request is answered and committed; the key's bookkeeping meets no database

    monkeypatch.setattr(database, "session", session_or_gone)
    monkeypatch.setattr(idempotency, "close_request_session", close_then_go_down)
    ent = make_enterprise()
    before = session.scalar(select(func.count()).select_from(Assessment))
    headers = {**bearer(make_account("reviewer")), "Idempotency-Key": "outage-1"}
    resp = client.post("/api/v1/assessments?submit=true", json=payload(ent.id), headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert session.get(Assessment, resp.get_json()["id"]) is not None
    assert session.scalar(select(func.count()).select_from(Assessment)) == before + 1

    # The database is back, long after: the work was stored with the key marked carried out, so
    # a retry is not run a second time even though the answer itself was never recorded.
    down["now"] = False
    monkeypatch.setattr(idempotency, "close_request_session", real_close)
    key = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "outage-1"))
    assert key.carried_out and key.status_code is None
    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == key.id).values(created_at=utcnow() - 2 * ABANDONED))
    retry = client.post("/api/v1/assessments?submit=true", json=payload(ent.id), headers=headers)
    assert retry.status_code == 409 and retry.get_json()["conflicting_id"] == key.id, retry.get_data(as_text=True)
    assert "carried out" in retry.get_json()["message"]
    assert session.scalar(select(func.count()).select_from(Assessment)) == before + 1


def test_a_key_whose_request_stored_nothing_is_taken_over_once_abandoned(client, session, make_enterprise, make_account,
                                                                         bearer):  # noqa: F811
    account = make_account("reviewer")
    body = json.dumps(payload(make_enterprise().id)).encode()
    digest = hashlib.sha256(b"POST /api/v1/assessments\n" + body).hexdigest()
    placeholder = IdempotencyKey(account_id=account.id, key="died-1", method="POST", path="/api/v1/assessments",
                                 request_sha256=digest, created_at=utcnow() - timedelta(seconds=30))
    session.add(placeholder)
    session.flush()
    headers = {**bearer(account), "Idempotency-Key": "died-1", "Content-Type": "application/json"}
    early = client.post("/api/v1/assessments", data=body, headers=headers)
    assert early.status_code == 409 and "in progress" in early.get_json()["message"]
    placeholder.created_at = utcnow() - 2 * ABANDONED
    session.flush()
    before = session.scalar(select(func.count()).select_from(Assessment))
    taken_over = client.post("/api/v1/assessments", data=body, headers=headers)
    assert taken_over.status_code == 201, taken_over.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Assessment)) == before + 1
    replay = client.post("/api/v1/assessments", data=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == taken_over.get_json()["id"]
