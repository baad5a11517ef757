"""The JSON API under /api/v1 (flask-smorest); its OpenAPI document is /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api

from vetting import __version__
from vetting.api.schemas import ApiErrorSchema
from vetting.errors import ValidationError


def _nul_paths(value: object, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in ([f"{path}.{k}".lstrip(".")] if "\x00" in str(k) else [])
                + _nul_paths(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}.{i}".lstrip("."))]
    return []


def _refuse_nul() -> None:
    """A NUL character is never meaningful text, and PostgreSQL cannot store or compare it:
    refuse it in any query parameter or JSON field with a 422 naming where it was."""
    if not request.path.startswith("/api/"):
        return
    bad = [k for k, v in request.args.items(multi=True) if "\x00" in k or "\x00" in v]
    if request.is_json:
        bad += _nul_paths(request.get_json(silent=True), "")
    if bad:
        raise ValidationError("the request contains a NUL character", {name or "body": ["must not contain NUL characters"] for name in bad})


class VettingApi(Api):
    """The API with its own error body documented: every error answers with ApiErrorSchema.
    No catch-all ``default`` response: each operation lists the statuses it really returns."""

    ERROR_SCHEMA = ApiErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


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
    api = VettingApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "vt_<prefix>_<secret>"})
    from vetting.api import admin, assessments, decisions, enterprises, listings, releases, rulesets
    from vetting.api.responses import ErrorResponsesPlugin
    from vetting.api.examples import ExamplesPlugin

    for plugin in (ExamplesPlugin(), ErrorResponsesPlugin()):
        plugin.init_spec(api.spec)
        api.spec.plugins.append(plugin)

    blueprints = [module.blp for module in (rulesets, decisions, enterprises, assessments, admin, listings, releases)]
    for blp in blueprints + [listings.objections_blp, listings.repairs_blp, listings.lists_blp]:
        api.register_blueprint(blp)
    app.before_request(_refuse_nul)
    from vetting.api.idempotency import init_idempotency

    init_idempotency(app)
    return api
