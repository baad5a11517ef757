"""The application factory, probes and error responses."""

import json

from sqlalchemy import text

from tests.conftest import scratch_database
from vetting import migrate
from vetting.app import create_app
from vetting.db import make_engine


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_readyz_when_migrated(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["revision"] == migrate.head_revision()


def test_readyz_refuses_an_unmigrated_database(tmp_path):
    with scratch_database(tmp_path, "ready") as url:
        app = create_app({"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i"), "VETTING_SECRET_KEY": "x"})
        try:
            resp = app.test_client().get("/readyz")
            assert resp.status_code == 503
            body = resp.get_json()
            assert body["status"] == "unavailable" and "vetting db upgrade" in body["reason"]
            assert resp.headers["Retry-After"]
            engine = make_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            assert app.test_client().get("/readyz").status_code == 200
        finally:
            app.extensions["vetting"].database.dispose()


def test_readyz_reports_an_unreachable_database(tmp_path):
    app = create_app({
        "VETTING_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "VETTING_INSTANCE_PATH": str(tmp_path / "i"),
        "VETTING_SECRET_KEY": "x",
        "VETTING_DB_TIMEOUT": 1,
    })
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert "unreachable" in resp.get_json()["reason"]
    app.extensions["vetting"].database.dispose()


def test_secret_key_is_generated_once_with_private_permissions(tmp_path):
    instance = tmp_path / "inst"
    first = create_app({"VETTING_INSTANCE_PATH": str(instance)})
    second = create_app({"VETTING_INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert first.config["VETTING_DATABASE_URL"] == f"sqlite:///{instance.resolve() / 'vetting.sqlite3'}"
    assert first.config["VETTING_DEMO"] is True
    for a in (first, second):
        a.extensions["vetting"].database.dispose()


def test_environment_is_read_by_the_factory_not_at_import(tmp_path, monkeypatch):
    monkeypatch.setenv("VETTING_INSTANCE_PATH", str(tmp_path / "env-inst"))
    monkeypatch.setenv("VETTING_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    monkeypatch.setenv("VETTING_SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["VETTING_DATABASE_URL"].startswith("postgresql")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["VETTING_DEMO"] is False
    app.extensions["vetting"].database.dispose()


def test_openapi_document(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = json.loads(resp.data)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "vetting"


def test_api_errors_are_json_without_internals(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["code"] == "not_found" and body["message"]


def test_unexpected_errors_hide_the_stack_trace(app):
    @app.get("/api/v1/_boom")
    def boom():  # noqa: ANN202
        raise RuntimeError("secret internals")

    resp = app.test_client().get("/api/v1/_boom")
    assert resp.status_code == 500
    assert b"secret internals" not in resp.data and b"Traceback" not in resp.data
    assert resp.get_json()["code"] == "internal_error"


def test_home_page_renders(client, session):
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"Active ruleset" in resp.data
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_missing_page_is_html(client):
    resp = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"


def test_an_id_beyond_the_database_range_is_a_404_on_every_route(app, client):
    """Every GET route with an integer in its path, API and pages: an id no row can have is a
    404 (JSON under /api/, a page elsewhere), never a 500 from the database driver."""
    import re

    tried = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "<int:" not in rule.rule:
            continue
        path = re.sub(r"<[^>]+>", "x", re.sub(r"<int:[a-z_]+>", str(2**63 + 5), rule.rule))
        resp = client.get(path)
        # signed-in pages answer 401 before looking anything up; what matters is no 500
        assert resp.status_code in (401, 404), (path, resp.status_code)
        if path.startswith("/api/") and resp.status_code == 404:
            assert resp.get_json()["code"] == "not_found"
        tried += 1
    assert tried >= 5
