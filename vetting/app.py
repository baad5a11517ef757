"""The application factory. Nothing is built at import: call ``create_app``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from vetting.config import load_config
from vetting.db import Database
from vetting.web import AppState, close_request_session


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
    app.extensions["vetting"] = AppState(database)
    app.teardown_appcontext(close_request_session)

    from vetting import health
    from vetting.api import init_api
    from vetting.errors_http import register_error_handlers
    from vetting.pages import bp as pages_bp

    app.register_blueprint(health.bp)
    init_api(app)
    app.register_blueprint(pages_bp)
    register_error_handlers(app)
    return app
