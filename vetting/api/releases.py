"""Releases over the API: the list (anyone) and publishing one now (registrars). A publish
with an ``Idempotency-Key`` is answered once: a retry with the same key and body gets the same
answer and publishes nothing (``vetting.api.idempotency``)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import ApiErrorSchema, StrictSchema
from vetting.errors import Conflict
from vetting.models import Role
from vetting.services import releases as service
from vetting.web import request_session, state

blp = Blueprint("releases", __name__, url_prefix="/api/v1/releases", description="Signed releases of the lists")


class ReleaseFileSchema(Schema):
    name = fields.String(required=True)
    rows = fields.Integer(required=True, metadata={"description": "data rows (CSV), entities, or resources described"})
    bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    url = fields.String(required=True)


class ReleaseSchema(Schema):
    release = fields.Integer(required=True)
    previous = fields.Integer(allow_none=True)
    generated_at = fields.String(required=True)
    as_of = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    delta_rows = fields.Integer(required=True)
    rulesets = fields.List(fields.String(), required=True)
    files = fields.List(fields.Nested(ReleaseFileSchema), required=True)
    signature = fields.Dict(required=True)


class PublishInput(StrictSchema):
    force = fields.Boolean(load_default=False, metadata={"description": "publish even when nothing changed"})


class PublishedSchema(Schema):
    published = fields.Boolean(required=True)
    message = fields.String(required=True)
    release = fields.Nested(ReleaseSchema, allow_none=True)


def _with_urls(manifest: dict) -> dict:
    number = manifest["release"]
    return {**manifest, "files": [{**f, "url": f"/releases/{number}/{f['name']}"} for f in manifest["files"]]}


@blp.route("")
class Releases(MethodView):
    @blp.response(200, ReleaseSchema(many=True))
    def get(self):  # noqa: ANN201
        """Every published release, newest first, with its files' sizes and SHA-256 checksums."""
        return [_with_urls(m) for m in service.listing(dict(current_app.config))]

    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(PublishInput)
    @blp.response(200, PublishedSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="another publisher took the release number first")
    @blp.alt_response(507, schema=ApiErrorSchema, description="the releases folder is out of space; the previous release is unchanged")
    def post(self, args):  # noqa: ANN001, ANN201
        """Publish a release now (skipped when nothing changed, unless forced). Send an
        `Idempotency-Key` header to make a retry safe: the same key and body get the first
        answer again and never publish a second release, even with `force`."""
        result = service.publish(state().database, dict(current_app.config), current_account(), force=args["force"],
                                 session=request_session())
        if result.lost:
            raise Conflict(result.message, conflicting_id=result.number)
        fresh = not result.skipped
        return {"published": fresh, "message": result.message, "release": _with_urls(result.manifest) if result.manifest else None}
