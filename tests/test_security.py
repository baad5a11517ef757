"""Security: response headers, the session cookie, CSRF on every form, locks after repeated
sign-in and token failures, request size limits, error responses without internals, and
hostile names shown as text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, serve_notice
from vetting.models import Account, ApiToken, AuditEvent, Decision, Project
from vetting.services import assessments, listings
from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor

TEMPLATES = Path(__file__).resolve().parents[1] / "vetting" / "pages" / "templates"
CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CSRF_MESSAGE = "The form expired or was not sent from this site"


def _app(engine, session_factory, tmp_path, **extra):
    from vetting.app import create_app
    from vetting.db import Database

    database = Database(engine)
    database.sessionmaker = session_factory
    return create_app({"VETTING_INSTANCE_PATH": str(tmp_path / "i"), "VETTING_SECRET_KEY": "k", "VETTING_DATABASE": database,
                       "TESTING": True, **extra})


@pytest.fixture()
def app(engine, session_factory, tmp_path):  # noqa: ANN201
    """The suite's application with a sign-in rate limit loose enough for the lock tests to
    reach the lock (both count failed sign-ins; the lock is what these tests are about)."""
    return _app(engine, session_factory, tmp_path, VETTING_RATELIMIT_SENSITIVE="1000 per minute")


class _Forms(HTMLParser):
    """Each <form>: its method, action and the inputs inside it (name → (type, value))."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        a = dict(attrs)
        if tag == "form":
            self._open = {"method": (a.get("method") or "get").lower(), "action": a.get("action"), "inputs": {}}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and a.get("name"):
            self._open["inputs"][a["name"]] = (a.get("type"), a.get("value"))

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        if tag == "form":
            self._open = None


def _post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "post"]


def _csrf(client, url: str) -> str:
    forms = _post_forms(client.get(url).get_data(as_text=True))
    assert forms, f"no form on {url}"
    return forms[0]["inputs"]["csrf_token"][1]


def _sign_in(client, email, password=PASSWORD):
    return client.post("/signin", data={"email": email, "password": password, "next": "", "csrf_token": _csrf(client, "/signin")})


# -- 1. headers ---------------------------------------------------------------------------------

def _assert_security_headers(resp, *, hsts: bool = False) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'none'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["form-action"] == ["'self'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert resp.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert ("Strict-Transport-Security" in resp.headers) is hsts


def test_every_kind_of_response_carries_the_security_headers(client):
    answers = {
        "page": client.get("/"),
        "json": client.get("/api/v1/rulesets/active"),
        "stylesheet": client.get("/static/site.css"),
        "probe": client.get("/healthz"),
        "missing page": client.get("/no-such-page"),
        "missing API path": client.get("/api/v1/no-such-thing"),
        "API refusal": client.get("/api/v1/accounts"),
        "method not allowed": client.delete("/"),
    }
    etag = answers["json"].headers["ETag"]
    answers["not modified"] = client.get("/api/v1/rulesets/active", headers={"If-None-Match": etag})
    assert answers["not modified"].status_code == 304
    assert [answers[k].status_code for k in ("missing page", "missing API path", "API refusal", "method not allowed")] == [404, 404, 401, 405]
    for name, resp in answers.items():
        try:
            _assert_security_headers(resp)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r}") from exc
        finally:
            resp.close()


def test_hsts_only_when_the_cookie_is_https_only(engine, session_factory, tmp_path):
    secure = _app(engine, session_factory, tmp_path, VETTING_SECURE_COOKIES="true").test_client()
    resp = secure.get("/", base_url="https://localhost")
    _assert_security_headers(resp, hsts=True)
    assert int(re.match(r"max-age=(\d+)", resp.headers["Strict-Transport-Security"]).group(1)) >= 180 * 24 * 3600


def test_templates_have_no_inline_script_handlers_or_styles():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script|<style|javascript:", text, re.I), path.name
        assert not re.search(r"\s(on[a-z]+|style)\s*=", text, re.I), path.name


def test_the_charts_render_as_inline_svg_styled_from_the_stylesheet(client):
    page = client.get("/statistics").get_data(as_text=True)
    assert "<svg" in page and 'class="axis"' in page
    assert not re.search(r"\sstyle\s*=", page) and "<script" not in page
    with client.get("/static/site.css") as resp:
        css = resp.get_data(as_text=True)
    assert ".bar" in css and ".track" in css


def test_release_files_are_served_with_nosniff(app, session, clock, make_enterprise):
    from vetting.services.releases import publish

    make_enterprise(legal_name="Release Header Works Co., Ltd.")
    published = publish(app.extensions["vetting"].database, dict(app.config), SystemActor("test"), force=True)
    client = app.test_client()
    for url in (f"/releases/{published.number}/listings.csv", f"/releases/{published.number}/index.json",
                "/releases/latest/listings.csv"):
        with client.get(url) as resp:
            assert resp.status_code == 200, url
            _assert_security_headers(resp)


# -- 2. the session cookie ----------------------------------------------------------------------

def _cookie_attributes(resp) -> tuple[str, set[str]]:
    header = next(v for v in resp.headers.getlist("Set-Cookie") if v.startswith("vetting_session="))
    parts = [p.strip() for p in header.split(";")]
    return parts[0], {p.split("=")[0].lower() if "=" in p and not p.lower().startswith("samesite") else p.lower() for p in parts[1:]}


def test_the_sign_in_cookie_is_httponly_lax_and_secure_when_configured(client, person, engine, session_factory, tmp_path):
    reviewer = person()
    signed = _sign_in(client, reviewer.email)
    assert signed.status_code == 302
    _value, attributes = _cookie_attributes(signed)
    assert {"httponly", "samesite=lax", "path"} <= attributes and "secure" not in attributes

    secure = _app(engine, session_factory, tmp_path, VETTING_SECURE_COOKIES="1").test_client()
    form = _post_forms(secure.get("/signin", base_url="https://localhost").get_data(as_text=True))[0]
    resp = secure.post("/signin", base_url="https://localhost", headers={"Referer": "https://localhost/signin"},
                       data={"email": reviewer.email, "password": PASSWORD, "csrf_token": form["inputs"]["csrf_token"][1]})
    assert resp.status_code == 302
    _value, attributes = _cookie_attributes(resp)
    assert {"httponly", "samesite=lax", "secure"} <= attributes


# -- 3. CSRF ------------------------------------------------------------------------------------

def test_every_post_form_in_the_templates_carries_a_csrf_token():
    found = 0
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I):
            found += 1
            assert "csrf_token" in match.group(1), f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}"
    assert found >= 10


@pytest.fixture()
def proposed(session, clock, make_association, make_account, make_enterprise):
    """A proposed black listing with an objection waiting for a registrar."""
    reviewer = make_account("reviewer", association=make_association())
    ent = make_enterprise(legal_name="Form Check Harbour Co., Ltd.", contact_email="c@formcheck.example")
    assessments.file_and_submit(session, reviewer, {
        "enterprise_id": ent.id, "conflict": {"declared": False},
        "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
        "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]})
    listing = listings.open_proposal(session, ent.id)
    serve_notice(session, make_account("registrar"), listing)
    listings.file_objection(session, reference=listing.reference, contact_email="c@formcheck.example",
                            grounds="the eviction predates our contract")
    return listing


def test_each_rendered_form_carries_its_hidden_csrf_token(app, session, person, proposed):
    reviewer, registrar = person("reviewer"), person("registrar")
    issue_token(session, SystemActor("test"), reviewer)
    pages = {None: ["/signin", "/objections/new"],
             reviewer: ["/review", "/review/assessments/new", "/account/tokens"],
             registrar: ["/registry/accounts", f"/registry/listings/{proposed.id}"]}
    seen = 0
    for who, urls in pages.items():
        client = app.test_client()
        if who is not None:
            assert _sign_in(client, who.email).status_code == 302
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 200, url
            forms = _post_forms(resp.get_data(as_text=True))
            assert forms, url
            for form in forms:
                kind, value = form["inputs"].get("csrf_token", (None, None))
                assert kind == "hidden" and value and len(value) > 20, f"{url}: form to {form['action']}"
                seen += 1
    # sign-in, objection, sign-out on each signed-in page, the assessment, token and revoke
    # forms, account creation and disabling, listing confirm, revoke and the objection decision
    assert seen >= 15


def _post_endpoints(app) -> list[str]:
    """A URL for every POST route outside the API, with made-up values for its arguments."""
    values = {"int": "1", "string": "x", "default": "x"}
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for converter, _arg in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
            choices = re.search(r"any\(([^)]*)\)", rule.rule)
            value = choices.group(1).split(",")[0].strip() if converter == "any" and choices else values.get(converter or "default", "x")
            url = re.sub(r"<[^>]+>", value, url, count=1)
        urls.append(url)
    return urls


def test_a_post_without_its_token_is_refused_with_a_page_that_says_why(app, session, person, proposed):
    registrar = person("registrar")
    client = app.test_client()
    assert _sign_in(client, registrar.email).status_code == 302
    urls = _post_endpoints(app)
    assert {"/signin", "/signout", "/account/tokens", "/registry/accounts", "/objections/new"} <= set(urls)
    for url in urls:
        for data in ({}, {"csrf_token": "forged"}):
            resp = client.post(url, data=data)
            assert resp.status_code == 400, url
            html = resp.get_data(as_text=True)
            assert CSRF_MESSAGE in html and "Traceback" not in html, url
            _assert_security_headers(resp)
    # nothing happened: still signed in, no token, no account, no objection
    assert client.get("/review").status_code == 200
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.account_id == registrar.id)) == 0
    refused = client.post("/registry/accounts", data={"email": "new@example.org", "role": "registrar"})
    assert refused.status_code == 400 and session.scalar(select(Account).where(Account.email == "new@example.org")) is None
    zh = client.post("/account/tokens?lang=zh", data={"name": "x"})
    assert zh.status_code == 400 and "表单已过期" in zh.get_data(as_text=True)
    as_json = client.post("/account/tokens", data={"name": "x"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["code"] == "csrf_failed"


def test_the_bearer_token_api_needs_no_csrf_token_and_ignores_the_cookie(client, session, person):
    reviewer = person()
    token = issue_token(session, SystemActor("test"), reviewer)
    made = client.post(f"/api/v1/accounts/{reviewer.id}/tokens", json={"name": "ci"}, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code in (200, 201), made.get_json()
    assert _sign_in(client, reviewer.email).status_code == 302
    by_cookie = client.post(f"/api/v1/accounts/{reviewer.id}/tokens", json={"name": "cookie"})
    assert by_cookie.status_code == 401


# -- 4. locks after repeated failures -------------------------------------------------------------

def _lock_events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_repeated_failed_sign_ins_lock_the_email_then_it_unlocks(client, session, clock, person):
    reviewer = person()
    for _ in range(5):
        assert _sign_in(client, reviewer.email, "not the password").status_code == 401
    locked = _sign_in(client, reviewer.email)  # the right password, while locked
    assert locked.status_code == 429
    assert 15 * 60 - 1 <= int(locked.headers["Retry-After"]) <= 15 * 60  # whole seconds, rounded down on the way out
    html = locked.get_data(as_text=True)
    assert "too many failed sign-ins for this email; retry after 09:15 UTC" in html
    assert client.get("/review").status_code == 401
    events = _lock_events(session, "account.lock")
    assert len(events) == 1 and events[0].subject_type == "account" and events[0].subject_id == str(reviewer.id)
    zh = client.post("/signin?lang=zh", data={"email": reviewer.email, "password": PASSWORD, "csrf_token": _csrf(client, "/signin")})
    assert zh.status_code == 429 and "登录失败次数过多" in zh.get_data(as_text=True) and "09:15" in zh.get_data(as_text=True)
    clock.advance(minutes=14, seconds=59)
    assert _sign_in(client, reviewer.email).status_code == 429
    clock.advance(seconds=1)
    assert _sign_in(client, reviewer.email).status_code == 302


def test_only_failures_within_the_window_count_and_a_success_resets_them(client, clock, person):
    reviewer = person()
    for _ in range(4):
        assert _sign_in(client, reviewer.email, "wrong").status_code == 401
    clock.advance(minutes=15)  # the window has passed: those four no longer count
    for _ in range(4):
        assert _sign_in(client, reviewer.email, "wrong").status_code == 401
    assert _sign_in(client, reviewer.email).status_code == 302  # success clears the count
    client.post("/signout", data={"csrf_token": _csrf(client, "/review")})
    for _ in range(4):
        assert _sign_in(client, reviewer.email, "wrong").status_code == 401
    assert _sign_in(client, reviewer.email).status_code == 302


def test_an_unknown_email_locks_like_a_registered_one(client, session, clock, person):
    other = person()
    for _ in range(5):
        assert _sign_in(client, "Nobody@Example.org", "guess").status_code == 401
    locked = _sign_in(client, "nobody@example.org", "guess")
    assert locked.status_code == 429 and "retry after" in locked.get_data(as_text=True)
    events = _lock_events(session, "account.lock")
    assert [(e.subject_type, e.subject_id) for e in events] == [("email", "nobody@example.org")]
    assert _sign_in(client, other.email).status_code == 302  # other emails are not affected


def test_the_sign_in_lock_follows_its_settings(engine, session_factory, session, tmp_path, person):
    app = _app(engine, session_factory, tmp_path, VETTING_SIGNIN_MAX_FAILURES="2", VETTING_SIGNIN_LOCKOUT="1")
    client = app.test_client()
    reviewer = person()
    assert [_sign_in(client, reviewer.email, "wrong").status_code for _ in range(2)] == [401, 401]
    locked = _sign_in(client, reviewer.email)
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 60


def test_bad_lock_and_size_settings_are_refused_by_name(tmp_path):
    from vetting.config import load_config

    for name, value in (("VETTING_SIGNIN_MAX_FAILURES", "five"), ("VETTING_TOKEN_LOCKOUT", "0"), ("VETTING_MAX_CONTENT_LENGTH", "-1")):
        with pytest.raises(ValueError, match=name):
            load_config({"VETTING_INSTANCE_PATH": str(tmp_path), "VETTING_SECRET_KEY": "k", name: value}, environ={})
    defaults = load_config({"VETTING_INSTANCE_PATH": str(tmp_path), "VETTING_SECRET_KEY": "k"}, environ={})
    assert (defaults["VETTING_SIGNIN_MAX_FAILURES"], defaults["VETTING_SIGNIN_FAILURE_WINDOW"], defaults["VETTING_SIGNIN_LOCKOUT"]) == (5, 15, 15)
    assert (defaults["VETTING_TOKEN_MAX_FAILURES"], defaults["VETTING_TOKEN_FAILURE_WINDOW"], defaults["VETTING_TOKEN_LOCKOUT"]) == (20, 10, 10)
    assert defaults["VETTING_MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


def test_repeated_invalid_tokens_lock_the_client_address(client, session, clock, person):
    reviewer = person()
    good = {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), reviewer)}"}
    url = f"/api/v1/accounts/{reviewer.id}/tokens"
    assert client.get(url, headers=good).status_code == 200
    assert client.get(url).status_code == 401  # no token at all is not a guess
    statuses = [client.get(url, headers={"Authorization": f"Bearer vt_guess_{i}"}).status_code for i in range(20)]
    assert statuses == [401] * 20
    refused = client.get(url, headers=good)  # even a valid token, from that address
    assert refused.status_code == 429 and 10 * 60 - 1 <= int(refused.headers["Retry-After"]) <= 10 * 60
    body = refused.get_json()
    assert body["code"] == "too_many_requests" and "retry after 09:10 UTC" in body["message"] and body["retry_after"] == 600
    _assert_security_headers(refused)
    assert client.get(url, headers=good, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200
    events = _lock_events(session, "client.lock")
    assert [(e.subject_type, e.subject_id) for e in events] == [("client", "127.0.0.1")]
    clock.advance(minutes=10)
    assert client.get(url, headers=good).status_code == 200


def test_token_failures_outside_the_window_do_not_add_up(client, session, clock, person):
    reviewer = person()
    good = {"Authorization": f"Bearer {issue_token(session, SystemActor('test'), reviewer)}"}
    url = f"/api/v1/accounts/{reviewer.id}/tokens"
    for _ in range(2):
        for i in range(19):
            assert client.get(url, headers={"Authorization": f"Bearer not-a-token-{i}"}).status_code == 401
        clock.advance(minutes=10)
    assert client.get(url, headers=good).status_code == 200
    assert _lock_events(session, "client.lock") == []


# -- 5. request size ------------------------------------------------------------------------------

@pytest.fixture()
def small(engine, session_factory, tmp_path):
    return _app(engine, session_factory, tmp_path, VETTING_MAX_CONTENT_LENGTH="1000", VETTING_MAX_IMPORT_LENGTH="200000")


def test_an_oversized_api_body_gets_413_json(small):
    client = small.test_client()
    body = {"reference": "L2027-0001", "contact_email": "x@example.org", "grounds": "g" * 2000}
    resp = client.post("/api/v1/objections", json=body)
    assert resp.status_code == 413
    payload = resp.get_json()
    assert payload["code"] == "too_large" and "1000 bytes" in payload["message"] and payload["limit"] == 1000
    _assert_security_headers(resp)
    within = client.post("/api/v1/objections", json=dict(body, grounds="g"))
    assert within.status_code != 413


def test_an_oversized_form_gets_an_html_413_page(small):
    client = small.test_client()
    resp = client.post("/objections/new", data={"grounds": "g" * 5000})
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "Too large" in html and "1000 bytes" in html and "Traceback" not in html
    zh = client.post("/objections/new?lang=zh", data={"grounds": "g" * 5000})
    assert zh.status_code == 413 and "请求内容超过" in zh.get_data(as_text=True)


def test_the_bulk_import_takes_larger_bodies_up_to_its_own_limit(small, session, make_enterprise, make_account):
    client = small.test_client()
    ent = make_enterprise()
    reviewer = make_account("reviewer")
    auth = {"Authorization": f"Bearer {issue_token(session, SystemActor('t'), reviewer)}"}
    records = [{"idempotency_key": f"big{i}", "enterprise_id": ent.id, "reviewer": reviewer.email, "conflict": {"declared": False},
                "summary": "s" * 100,
                "scores": {c: {"score": 3, "evidence": [{"kind": "document", "reference": f"ref {c}"}]} for c in CRITERIA}}
               for i in range(3)]
    assert len(json.dumps({"records": records})) > 1000
    resp = client.post("/api/v1/assessments/batch", json={"records": records}, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 3
    too_big = client.post("/api/v1/assessments/batch", json={"records": records, "pad": "x" * 200_000}, headers=auth)
    assert too_big.status_code == 413 and too_big.get_json()["limit"] == 200000


# -- 6. errors without internals ------------------------------------------------------------------

def test_an_unexpected_error_shows_nothing_of_its_cause(app, caplog):
    @app.get("/api/v1/_explode")
    def explode_api():  # noqa: ANN202
        raise RuntimeError("secret internals /srv/vetting/db.py password=hunter2")

    @app.get("/_explode")
    def explode_page():  # noqa: ANN202
        raise KeyError("secret internals")

    client = app.test_client()
    api = client.get("/api/v1/_explode")
    assert api.status_code == 500 and api.mimetype == "application/json"
    assert api.get_json() == {"code": "internal_error", "message": "an internal error occurred; it has been logged"}
    page = client.get("/_explode")
    assert page.status_code == 500 and page.mimetype == "text/html"
    for resp in (api, page):
        text = resp.get_data(as_text=True)
        for leak in ("secret", "hunter2", "Traceback", "RuntimeError", "KeyError", ".py"):
            assert leak not in text, leak
        _assert_security_headers(resp)
    assert "an internal error occurred" in page.get_data(as_text=True)
    assert "secret internals" in caplog.text  # the log keeps what the answer leaves out


# -- 7. hostile names are text --------------------------------------------------------------------

@pytest.fixture()
def hostile(session, clock, make_association, make_account, make_enterprise):
    from vetting.models import EnterpriseAlias
    from vetting.services.search import index_enterprises

    reviewer = make_account("reviewer", association=make_association())
    registrar = make_account("registrar")
    ent = make_enterprise(legal_name=f"Quokkabridge {SCRIPT} Works {IMG} Co., Ltd.", chinese_name=f"袋鼠桥{SCRIPT}{IMG}",
                          contact_email="c@quokka.example", sector="transport")
    ent.aliases.append(EnterpriseAlias(name=f"Quokka {IMG}"))
    ent.projects.append(Project(name=f"Berth {SCRIPT}", host_country="KE", sector="transport"))
    session.flush()
    index_enterprises(session, [ent.id])
    assessments.file_and_submit(session, reviewer, {
        "enterprise_id": ent.id, "conflict": {"declared": False},
        "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
        "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]})
    serve_notice(session, registrar, listings.open_proposal(session, ent.id))
    clock.advance(days=16)
    listing = listings.confirm(session, registrar, listings.open_proposal(session, ent.id).id)
    grounds = f"Confirmed {SCRIPT} at the site {IMG}"
    listing.grounds = grounds
    decision = session.get(Decision, listing.decision_id)
    decision.document = json.dumps(dict(json.loads(decision.document), grounds=grounds))
    session.flush()
    return ent, listing


def _assert_shown_as_text(html: str, where: str) -> None:
    assert "<script" not in html.lower() and "<img" not in html.lower() and "onerror=alert(1)>" not in html, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, where


def test_hostile_names_and_grounds_are_escaped_on_every_page(client, hostile):
    ent, listing = hostile
    pages = {
        "search by the Chinese name": "/search?q=袋鼠桥",
        "search by the whole name, echoed in the box": "/search?" + urlencode({"q": ent.legal_name}),
        "enterprise": f"/enterprises/{ent.id}",
        "enterprise in Chinese": f"/enterprises/{ent.id}?lang=zh",
        "black list": "/lists/black",
    }
    for where, url in pages.items():
        resp = client.get(url)
        assert resp.status_code == 200, where
        html = resp.get_data(as_text=True)
        _assert_shown_as_text(html, where)
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html, where
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "Confirmed &lt;script&gt;alert(1)&lt;/script&gt; at the site" in page  # the grounds
    assert "袋鼠桥&lt;script&gt;" in page
    # statistics show codes and counts only (host countries, sectors, criteria), never names
    stats = client.get("/statistics").get_data(as_text=True)
    assert "Quokka" not in stats and "<script" not in stats


def test_hostile_names_are_plain_data_in_the_api(client, hostile):
    ent, listing = hostile
    detail = client.get(f"/api/v1/enterprises/{ent.id}")
    assert detail.mimetype == "application/json" and detail.headers["X-Content-Type-Options"] == "nosniff"
    body = detail.get_json()
    assert body["legal_name"] == f"Quokkabridge {SCRIPT} Works {IMG} Co., Ltd."
    assert body["chinese_name"] == f"袋鼠桥{SCRIPT}{IMG}"
    black = client.get("/api/v1/lists/black").get_json()
    entry = next(e for e in black["entries"] if e["enterprise_id"] == ent.id)
    assert entry["grounds"] == f"Confirmed {SCRIPT} at the site {IMG}" and entry["legal_name"] == body["legal_name"]
    found = client.get("/api/v1/enterprises", query_string={"q": "袋鼠桥"}).get_json()
    assert [hit["enterprise"]["legal_name"] for hit in found["results"]] == [body["legal_name"]]
