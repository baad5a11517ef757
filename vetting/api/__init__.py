"""The JSON API under /api/v1 (flask-smorest); its OpenAPI document is /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from vetting import __version__


def init_api(app: Flask) -> Api:
    app.config.setdefault("API_TITLE", "vetting")
    app.config.setdefault("API_VERSION", __version__)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Red and black lists of enterprises that invest and build abroad, "
                "reviewed by accredited associations and scored by a published ruleset."
            },
            "servers": [{"url": "/"}],
        },
    )
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "vt_<prefix>_<secret>"})
    from vetting.api import admin, assessments, decisions, enterprises, listings, releases, rulesets
    from vetting.api.examples import ExamplesPlugin

    examples = ExamplesPlugin()
    examples.init_spec(api.spec)
    api.spec.plugins.append(examples)

    for module in (rulesets, decisions, enterprises, assessments, admin, listings, releases):
        api.register_blueprint(module.blp)
    api.register_blueprint(listings.objections_blp)
    api.register_blueprint(listings.repairs_blp)
    api.register_blueprint(listings.lists_blp)
    from vetting.api.idempotency import init_idempotency

    init_idempotency(app)
    return api
