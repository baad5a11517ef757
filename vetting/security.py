"""Protections applied to every request and response.

- Response headers on everything the application answers (pages, JSON, release files, error
  responses and 304s): a Content-Security-Policy that allows no script at all (the pages use
  none) and styles only from this site's stylesheet, no framing, no MIME sniffing, a
  referrer that leaves the site as its origin only, a same-origin opener policy, and
  Strict-Transport-Security when the sign-in cookie is HTTPS-only (``VETTING_SECURE_COOKIES``).
- CSRF: every form POST (PUT, PATCH, DELETE) outside ``/api/`` must carry the session's
  Flask-WTF token, checked here before any view runs; a refusal is a 400 page that says
  what to do. The JSON API authenticates with bearer tokens, which a browser never sends on
  its own, and reads only JSON bodies, so it is exempt.
- Request size: a body larger than ``VETTING_MAX_CONTENT_LENGTH`` bytes is refused with 413
  before it is read; the bulk import takes up to ``VETTING_MAX_IMPORT_LENGTH``.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_wtf.csrf import CSRFProtect

#: The policy every response carries. Inline SVG charts are markup, which the policy allows.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"
#: Endpoints whose body may be larger than VETTING_MAX_CONTENT_LENGTH.
LARGE_BODIES = frozenset({"assessments.BatchView"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def body_limit(app: Flask) -> int:
    """The largest body the current request may send, in bytes."""
    if request.endpoint in LARGE_BODIES:
        return app.config["VETTING_MAX_IMPORT_LENGTH"]
    return app.config["VETTING_MAX_CONTENT_LENGTH"]


def init_security(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = app.config["VETTING_MAX_CONTENT_LENGTH"]
    # The check runs in the hook below, so that the API can be left out by path.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)
    headers = dict(HEADERS)
    if app.config["VETTING_SECURE_COOKIES"]:
        headers["Strict-Transport-Security"] = HSTS

    def _guard() -> None:
        limit = body_limit(app)
        request.max_content_length = limit  # also bounds a body sent without Content-Length
        if request.content_length is not None and request.content_length > limit:
            abort(413)
        # An unknown path or method keeps its 404 / 405; the API is exempt (see above).
        if request.method in _WRITES and request.routing_exception is None and not request.path.startswith("/api/"):
            csrf.protect()

    # First of all hooks: the body limit must be set before any hook reads the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        return response
