"""The ruleset document: its marshmallow schema and the typed context of outcome conditions.

Validation errors name the path of the bad field (``criteria.3.weight: ...``). Outcome
conditions are rule-engine expressions, parsed and type-checked here against
:data:`CONDITION_TYPES` plus the document's named ``thresholds``; a condition that does not
parse or type-check rejects the document.
"""

from __future__ import annotations

from typing import Any

import rule_engine
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from rule_engine import DataType

LEVELS = ("0", "1", "2", "3", "4")
OUTCOMES = ("RED", "BLACK", "NONE")

#: ``aggregation.method``: "median" takes each criterion's median over all counted assessments;
#: "median_of_association_medians" gives each association one voice (see the engine).
AGGREGATION_METHODS = ("median", "median_of_association_medians")

#: Names a condition may use, besides the ruleset's own thresholds.
CONDITION_TYPES: dict[str, Any] = {
    "total": DataType.FLOAT,
    "min_pillar": DataType.FLOAT,
    "pillars": DataType.MAPPING(DataType.STRING, DataType.FLOAT),
    "coverage": DataType.FLOAT,
    "quorum_met": DataType.BOOLEAN,
    "counted": DataType.FLOAT,
    "associations": DataType.FLOAT,
    "independent": DataType.FLOAT,
    "knockouts": DataType.ARRAY(DataType.STRING),
    "knockout_count": DataType.FLOAT,
    "blockers": DataType.ARRAY(DataType.STRING),
    "blocker_count": DataType.FLOAT,
    "disputed": DataType.ARRAY(DataType.STRING),
    "scored": DataType.BOOLEAN,
}


class RulesetError(ValueError):
    """A ruleset document that cannot be used; the message names each bad path."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {', '.join(msgs)}" for path, msgs in sorted(errors.items())))


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into ``{"a.0.b": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "document"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(flatten_errors(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "document"] = [str(messages)]
    return out


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Rubric(fields.Dict):
    def __init__(self, **kw: Any) -> None:
        super().__init__(keys=fields.String(validate=validate.OneOf(LEVELS)), values=fields.String(validate=validate.Length(min=3)), **kw)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(value, dict):
            value = {str(k): v for k, v in value.items()}
        result = super()._deserialize(value, attr, data, **kwargs)
        missing = [lvl for lvl in LEVELS if lvl not in result]
        if missing:
            raise ValidationError(f"a text is required for every level 0–4; missing {', '.join(missing)}")
        return result


class PillarSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{1,4}$"))
    name = fields.String(required=True)
    weight = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))


class CriterionSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{1,4}[0-9]{1,2}$"))
    pillar = fields.String(required=True)
    name = fields.String(required=True)
    reference = fields.String(load_default=None)
    description = fields.String(load_default=None)
    weight = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    evidence_required_at_or_above = fields.Integer(load_default=None, validate=validate.Range(min=0, max=5))
    rubric = Rubric(required=True)


class AggregationSchema(_Strict):
    method = fields.String(required=True, validate=validate.OneOf(AGGREGATION_METHODS))
    na_renormalise_within_pillar = fields.Boolean(required=True)
    disputed_spread = fields.Integer(required=True, validate=validate.Range(min=1, max=4))


class QuorumSchema(_Strict):
    min_counted = fields.Integer(required=True, validate=validate.Range(min=1))
    min_associations = fields.Integer(required=True, validate=validate.Range(min=1))
    min_independent = fields.Integer(required=True, validate=validate.Range(min=0))


class CoverageSchema(_Strict):
    min_evidence_coverage = fields.Float(required=True, validate=validate.Range(min=0, max=1))


class KnockoutSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Z0-9_]{1,31}$"))
    title = fields.String(required=True)
    description = fields.String(load_default=None)
    evidence_required = fields.Boolean(load_default=True)
    repairable = fields.Boolean(load_default=True)


class BlockerSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Z0-9_]{1,31}$"))
    title = fields.String(required=True)


class OutcomeRowSchema(_Strict):
    when = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Z0-9_]{1,31}$"))
    grounds = fields.String(required=True)
    # The name of a threshold: when this row decides, every pillar scored below it is named
    # (reason code PILLAR_<code> and in the grounds). No default, so rows without it keep
    # exactly the document (and hash) they always had.
    name_pillars_below = fields.String()


class DurationsSchema(_Strict):
    red_months = fields.Integer(required=True, validate=validate.Range(min=1))
    black_months = fields.Integer(required=True, validate=validate.Range(min=1))
    objection_days = fields.Integer(required=True, validate=validate.Range(min=1))
    repair_min_months = fields.Integer(required=True, validate=validate.Range(min=0))
    repair_max_per_12_months = fields.Integer(required=True, validate=validate.Range(min=0))
    repair_max_per_60_months = fields.Integer(required=True, validate=validate.Range(min=0))


class RulesetSchema(_Strict):
    version = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$"))
    title = fields.String(required=True)
    effective_date = fields.Date(required=True)
    scale = Rubric(required=True)
    pillars = fields.List(fields.Nested(PillarSchema), required=True, validate=validate.Length(min=1))
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=validate.Length(min=1))
    aggregation = fields.Nested(AggregationSchema, required=True)
    quorum = fields.Nested(QuorumSchema, required=True)
    coverage = fields.Nested(CoverageSchema, required=True)
    knockouts = fields.List(fields.Nested(KnockoutSchema), required=True)
    red_blockers = fields.List(fields.Nested(BlockerSchema), required=True)
    thresholds = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,47}$")), values=fields.Float(), load_default=dict)
    outcomes = fields.List(fields.Nested(OutcomeRowSchema), required=True, validate=validate.Length(min=1))
    durations = fields.Nested(DurationsSchema, required=True)

    @validates_schema
    def _cross_checks(self, data: dict[str, Any], **_kw: Any) -> None:
        errors: dict[str, Any] = {}
        pillar_codes = [p["code"] for p in data.get("pillars", [])]
        if len(set(pillar_codes)) != len(pillar_codes):
            errors["pillars"] = ["pillar codes must be unique"]
        codes = [c["code"] for c in data.get("criteria", [])]
        crit_errors: dict[Any, Any] = {}
        if len(set(codes)) != len(codes):
            crit_errors["code"] = ["criterion codes must be unique"]
        for i, c in enumerate(data.get("criteria", [])):
            if c["pillar"] not in pillar_codes:
                crit_errors[i] = {"pillar": [f"unknown pillar '{c['pillar']}'"]}
        if crit_errors:
            errors["criteria"] = crit_errors
        for p in pillar_codes:
            if p not in {c["pillar"] for c in data.get("criteria", [])}:
                errors.setdefault("pillars", []).append(f"pillar {p} has no criteria")
        for key in ("knockouts", "red_blockers"):
            ks = [k["code"] for k in data.get(key, [])]
            if len(set(ks)) != len(ks):
                errors[key] = ["codes must be unique"]
        clash = set(data.get("thresholds", {})) & (set(CONDITION_TYPES) | {"min_evidence_coverage"})
        if clash:
            errors["thresholds"] = [f"names reserved for the engine: {', '.join(sorted(clash))}"]
        rows = data.get("outcomes", [])
        if rows and rows[-1]["when"].strip() != "true":
            errors.setdefault("outcomes", {})[len(rows) - 1] = {"when": ["the last row must be 'true' so every case has an outcome"]}
        thresholds = data.get("thresholds", {})
        for i, row in enumerate(rows):
            named = row.get("name_pillars_below")
            if named is not None and named not in thresholds:
                bucket = errors.setdefault("outcomes", {})
                bucket.setdefault(i, {})["name_pillars_below"] = [f"'{named}' is not one of the thresholds"]
        context = condition_context(named_values(data))
        for i, row in enumerate(rows):
            try:
                rule_engine.Rule(row["when"], context=context)
            except rule_engine.errors.RuleSyntaxError as exc:
                _row_error(errors, i, f"does not parse: {exc.message}")
            except rule_engine.errors.SymbolResolutionError as exc:
                _row_error(errors, i, f"unknown name '{exc.symbol_name}'")
            except rule_engine.errors.EngineError as exc:
                _row_error(errors, i, f"does not type-check: {exc.message}")
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise ValidationError(errors)


def _row_error(errors: dict[str, Any], i: int, message: str) -> None:
    bucket = errors.setdefault("outcomes", {})
    if isinstance(bucket, dict):
        bucket.setdefault(i, {}).setdefault("when", []).append(message)


def named_values(data: dict[str, Any]) -> dict[str, float]:
    """Values a condition may name: the ``thresholds`` and the coverage minimum."""
    values = {k: float(v) for k, v in (data.get("thresholds") or {}).items()}
    if data.get("coverage"):
        values["min_evidence_coverage"] = float(data["coverage"]["min_evidence_coverage"])
    return values


def condition_context(thresholds: dict[str, float]) -> rule_engine.Context:
    types = dict(CONDITION_TYPES)
    types.update({name: DataType.FLOAT for name in thresholds})
    return rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))


def load_document(document: Any) -> dict[str, Any]:
    """Validate a ruleset document and return it in normalised JSON-ready form."""
    if not isinstance(document, dict):
        raise RulesetError({"document": ["a ruleset document is a mapping"]})
    try:
        data = RulesetSchema().load(document)
    except ValidationError as exc:
        raise RulesetError(flatten_errors(exc.messages)) from None
    data["effective_date"] = data["effective_date"].isoformat()
    return data
