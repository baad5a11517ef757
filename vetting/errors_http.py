"""Error responses: JSON for the API and probes, a plain page elsewhere; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import OperationalError
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from vetting.errors import M_, DomainError, N_

log = logging.getLogger("vetting")


def _wants_json() -> bool:
    path = request.path
    if path.startswith("/api/") or path in ("/healthz", "/readyz"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _respond(status: int, body: dict, headers: dict[str, str] | None = None, page_message: str | None = None):  # noqa: ANN202
    if _wants_json():
        resp = jsonify(body)
    else:
        message = body.get("message", "") if page_message is None else page_message
        resp = make_response(render_template("error.html", status=status, message=message))
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):  # noqa: ANN202
        retry_after = getattr(exc, "retry_after", None)
        return _respond(exc.status, exc.to_dict(), {"Retry-After": str(retry_after)} if retry_after else None)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # noqa: ANN202
        return _respond(400, {"code": "csrf_failed", "message": N_("The form expired or was not sent from this site; send it again.")})

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):  # noqa: ANN202
        from vetting.security import body_limit

        limit = body_limit(app)
        return _respond(413, {"code": "too_large", "message": M_("the request body is larger than %(limit)s bytes", limit=limit),
                              "limit": limit})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # noqa: ANN202
        # An exception raised outside the view (an after_request hook, say) reaches Flask's last
        # resort, which hands it here wrapped in a 500; a database that went away is still a 503.
        original = getattr(exc, "original_exception", None)
        if isinstance(original, OperationalError):
            return _db_down(original)
        body = {"code": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description or exc.name}
        data = getattr(exc, "data", None)  # webargs / flask-smorest validation details
        if isinstance(data, dict) and data.get("messages"):
            from vetting.rules.schema import flatten_errors

            messages = data["messages"]
            # {"json": {...}} / {"query": {...}}: drop the location, name fields by path
            merged: dict = {}
            for part in messages.values() if isinstance(messages, dict) else [messages]:
                merged.update(flatten_errors(part))
            body["errors"] = {k.replace(".value.", ".").removesuffix(".value"): v for k, v in merged.items()}
            body["message"] = "the request has errors; see 'errors' for each field"
        headers = {k: v for k, v in (exc.get_headers() or []) if k.lower() not in ("content-type",)}
        # On a page, a framework error's description adds nothing to the status in words.
        return _respond(exc.code or 500, body, headers, page_message=body["message"] if data else "")

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError):  # noqa: ANN202
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig is not None else exc)
        return _respond(503, {"code": "unavailable", "message": N_("the database is unavailable; retry shortly")}, {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # noqa: ANN202
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, {"code": "internal_error", "message": N_("an internal error occurred; it has been logged")})
