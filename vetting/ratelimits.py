"""Rate limits on public endpoints (Flask-Limiter): generous for reads, tight for sign-in and
for what the public may file (objections, repair requests). Counters live in memory by
default, per process; with several instances set VETTING_RATELIMIT_STORAGE_URL to a shared
store (``redis://host:6379``). A refused request is a 429 with Retry-After."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from vetting.caching import PUBLIC

SENSITIVE = ("work.sign_in_view", "objections.Objections", "repairs.Repairs", "registry.objection_form")


def init_ratelimits(app: Flask) -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["VETTING_RATELIMIT_STORAGE_URL"],
                      headers_enabled=True, strategy="sliding-window-counter")
    reads, sensitive = app.config["VETTING_RATELIMIT_PUBLIC"], app.config["VETTING_RATELIMIT_SENSITIVE"]
    for endpoint in sorted(PUBLIC):
        app.view_functions[endpoint] = limiter.limit(reads, methods=["GET"])(app.view_functions[endpoint])
    for endpoint in SENSITIVE:
        app.view_functions[endpoint] = limiter.limit(sensitive, methods=["POST"])(app.view_functions[endpoint])
    return limiter
