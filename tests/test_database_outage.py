"""The database going away around a request: a 503 with Retry-After, never a 500, and an answer
already given stands. (bench/restart_drill.py restarts PostgreSQL under load; these are the
cases it found, reproduced without a restart.)"""

from flask import request
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.test_api_assessments import bearer, payload  # noqa: F401 - bearer is a fixture
from vetting.models import Assessment
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
    resp = client.post("/api/v1/assessments?submit=true", json=payload(ent.id),
                       headers={**bearer(make_account("reviewer")), "Idempotency-Key": "outage-1"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert session.get(Assessment, resp.get_json()["id"]) is not None
    assert session.scalar(select(func.count()).select_from(Assessment)) == before + 1
