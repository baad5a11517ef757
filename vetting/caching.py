"""HTTP caching of public reads: an ETag on every successful public GET (a matching
If-None-Match gets 304 with no body) and a short shared Cache-Control. Anything answered for a
signed-in person or a bearer token is marked private and not stored."""

from __future__ import annotations

from flask import Flask, Response, request, session

#: Endpoints whose answers are the same for everyone (cached here, rate-limited as public reads).
PUBLIC = frozenset({
    "pages.home", "pages.enterprise", "pages.search", "pages.list_page", "pages.method", "pages.statistics", "rulesets.ActiveRuleset", "enterprises.Enterprises",
    "enterprises.EnterpriseView", "lists.ListView", "api-docs.openapi_json",
})
MAX_AGE = 60


def init_caching(app: Flask) -> None:
    @app.after_request
    def _cache(response: Response) -> Response:
        # A response that sets a cookie (a language chosen with ?lang=) is never shared.
        personal = "Authorization" in request.headers or "account_id" in session or "Set-Cookie" in response.headers
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or request.endpoint not in PUBLIC or personal:
            if personal or request.method not in ("GET", "HEAD"):
                response.headers.setdefault("Cache-Control", "private, no-store")
            return response
        if response.direct_passthrough:
            return response
        response.add_etag()  # unless the view set its own
        etag, _weak = response.get_etag()
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.vary.add("Cookie")
        # The one precondition a public read answers (RFC 9110, 13.1.2; weak comparison):
        # werkzeug leaves out the body and the content headers of a 304 when it sends it.
        if request.if_none_match.contains_weak(etag):
            response.status_code = 304
        return response
