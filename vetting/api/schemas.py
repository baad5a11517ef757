"""Marshmallow schemas shared by the API blueprints. Input schemas refuse unknown fields."""

from __future__ import annotations

import json

from marshmallow import RAISE, Schema, fields, validate

from vetting.web import MAX_ID  # the largest id a row can have; schemas bound ids with it


def IdField(**kwargs) -> fields.Integer:  # noqa: ANN003, N802
    """An integer naming a row: a value no row can have is a 422 naming the field, rather than
    a query the database refuses."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class JsonText(fields.Field):
    """A column holding canonical JSON text, dumped as the JSON value it encodes."""

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001, ANN202
        return None if value is None else json.loads(value)


class ApiErrorSchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "the request cannot be accepted"})
    errors = fields.Dict(metadata={"description": "field path → messages"})
    conflicting_id = fields.Raw(metadata={"description": "the id of what the request conflicts with (409)"})
    retry_after = fields.Integer(metadata={"description": "seconds to wait before retrying (429)"})
    field = fields.String(metadata={"description": "the request field naming what was not found (404)"})
    earliest = fields.Date(metadata={"description": "the first date the request may be filed (409)"})


class RulesetSchema(Schema):
    id = fields.Integer()
    version = fields.String(metadata={"example": "2026.1"})
    title = fields.String()
    content_hash = fields.String(metadata={"description": "SHA-256 of the canonical JSON document"})
    status = fields.Function(lambda r: r.status.value)
    effective_date = fields.Date()
    activated_at = fields.DateTime(allow_none=True)
    document = JsonText()


class RulesetSummarySchema(RulesetSchema):
    class Meta:
        exclude = ("document",)


class RulesetCreateSchema(StrictSchema):
    document = fields.Dict(required=True, metadata={"description": "the ruleset document (same structure as the YAML)"})


class DecisionSchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    ruleset_id = fields.Integer()
    outcome = fields.Function(lambda d: d.outcome.value, metadata={"example": "NONE"})
    reason_codes = fields.List(fields.String())
    total_score = fields.Float(allow_none=True)
    pillar_scores = fields.Dict()
    input_hash = fields.String()
    engine_version = fields.String()
    trigger = fields.String()
    created_at = fields.DateTime()
    document = JsonText(metadata={"description": "the full decision: scores, trace, what it would take"})


class DecisionSummarySchema(DecisionSchema):
    """A decision without its full document."""

    class Meta:
        exclude = ("document",)


class ReplaySchema(Schema):
    decision_id = fields.Integer()
    identical = fields.Boolean()
    stored_sha256 = fields.String()
    replayed_sha256 = fields.String()
    outcome = fields.String()
    replayed_outcome = fields.String()
    differences = fields.List(fields.String())


class SimulationSchema(Schema):
    current_version = fields.String()
    candidate_version = fields.String()
    candidate_hash = fields.String()
    enterprises = fields.Integer()
    matrix = fields.Dict(metadata={"description": "old outcome → new outcome → count"})
    changed = fields.List(fields.Dict())
