"""The application factory. Nothing is built at import: call ``create_app``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from vetting.clock import Clock, FixedClock
from vetting.config import load_config
from vetting.db import Database
from vetting.web import AppState, close_request_session, ids_in_range


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI application: configuration, database, API, pages, error handlers."""
    settings = load_config(config)
    app = Flask(
        "vetting",
        instance_path=settings["VETTING_INSTANCE_PATH"],
        instance_relative_config=False,
        static_folder=None,
    )
    app.config.update(settings)
    logging.getLogger("vetting").setLevel(settings["VETTING_LOG_LEVEL"])

    database = settings.get("VETTING_DATABASE") or Database.from_config(settings)
    clock = service_clock(settings)
    if clock is not None:
        set_session_clock(database, clock)
    app.extensions["vetting"] = AppState(database, clock)
    app.teardown_appcontext(close_request_session)
    app.url_value_preprocessor(ids_in_range)

    from vetting import health
    from vetting.api import init_api
    from vetting.errors_http import register_error_handlers
    from vetting.pages import bp as pages_bp

    app.register_blueprint(health.bp)
    init_api(app)
    from vetting.pages.registry import bp as registry_bp
    from vetting.pages.work import bp as work_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(work_bp)
    app.register_blueprint(registry_bp)
    from vetting.pages.releases import bp as releases_bp

    app.register_blueprint(releases_bp)
    _web_sessions(app)
    from vetting.caching import init_caching

    init_caching(app)
    from vetting.i18n import init_i18n

    init_i18n(app)  # after caching: its hook runs first, so caching sees the language cookie it sets
    from vetting.ratelimits import init_ratelimits

    init_ratelimits(app)
    from vetting.security import init_security

    init_security(app)  # after the rate limits: a refused form still counts against its client's budget
    register_error_handlers(app)
    if settings["VETTING_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["VETTING_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def service_clock(settings: Mapping[str, Any]) -> Clock | None:
    """The clock the configuration sets: a ``VETTING_CLOCK`` object (tests, embedding code), else
    a clock standing at ``VETTING_TODAY`` (a rehearsal); None means the system clock."""
    if settings.get("VETTING_CLOCK") is not None:
        return settings["VETTING_CLOCK"]
    if settings.get("VETTING_TODAY") is not None:
        return FixedClock(settings["VETTING_TODAY"])
    return None


def set_session_clock(database: Database, clock: Clock) -> None:
    """Every session ``database`` makes from now on (requests, commands, jobs, the sessions
    services open themselves) carries ``clock`` in ``session.info["clock"]``."""
    info = {**database.sessionmaker.kw.get("info", {}), "clock": clock}
    database.sessionmaker.configure(info=info)


def _web_sessions(app: Flask) -> None:
    """Signed session cookies for the pages (HttpOnly, SameSite=Lax, Secure when configured)
    and the CSRF token every form carries."""
    from datetime import timedelta

    from flask_wtf.csrf import generate_csrf

    app.config.update(
        SESSION_COOKIE_NAME="vetting_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["VETTING_SECURE_COOKIES"],
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    app.jinja_env.globals["csrf_token"] = generate_csrf

    @app.context_processor
    def _user() -> dict[str, Any]:
        from flask import session

        from vetting.pages.auth import current_user

        if "account_id" not in session:
            return {"web_user": None}
        try:
            return {"web_user": current_user()}
        except Exception:  # noqa: BLE001 - an error page must render even when the database is down
            return {"web_user": None}
