"""Assessment input: the payload reviewers send (API, form or bulk file), checked against the
ruleset the assessment is filed under.

Structure is checked by a marshmallow schema that refuses unknown fields; content by the
ruleset: known criterion codes, scores 0–4 or ``n/a`` with a justification, evidence where the
rubric requires it, known knock-out codes, evidence for a confirmed knock-out, and (to submit)
every criterion answered and a conflict-of-interest declaration. Every problem is reported
under the path of the field that has it (``scores.E1.score``), all at once.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError as MarshmallowError, fields, validate

from vetting.errors import ValidationError
from vetting.rules.schema import flatten_errors

EVIDENCE_KINDS = ("document", "url", "site_visit", "interview", "audit_report", "registry_extract")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class EvidenceInput(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(EVIDENCE_KINDS))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    description = fields.String(load_default=None, validate=validate.Length(max=2000))
    sha256 = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ScoreField(fields.Field):
    """0–4 or the string ``n/a``."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if value == "n/a":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise MarshmallowError("must be an integer from 0 to 4, or \"n/a\"")
        return value


class ScoreInput(_Strict):
    score = ScoreField(required=True)
    justification = fields.String(load_default=None, validate=validate.Length(max=4000))
    evidence = fields.List(fields.Nested(EvidenceInput), load_default=list)


class KnockoutInput(_Strict):
    code = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["confirmed", "alleged"]))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    evidence = fields.List(fields.Nested(EvidenceInput), load_default=list)


class ConflictInput(_Strict):
    declared = fields.Boolean(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class AssessmentInput(_Strict):
    # ids are 32-bit integers in the database: anything beyond names no row
    enterprise_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    project_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    summary = fields.String(load_default=None, validate=validate.Length(max=8000))
    conflict = fields.Nested(ConflictInput, load_default=None)
    scores = fields.Dict(keys=fields.String(), values=fields.Nested(ScoreInput), load_default=dict)
    knockouts = fields.List(fields.Nested(KnockoutInput), load_default=list)


def parse(payload: Any, ruleset_document: dict[str, Any], *, complete: bool, partial: bool = False) -> dict[str, Any]:
    """Validate ``payload``; raise ValidationError listing every bad field path.

    ``complete`` requires every criterion and a conflict declaration (submission);
    ``partial`` accepts a subset of the top-level fields (an update)."""
    try:
        schema = AssessmentInput()
        # an update may leave out top-level fields, but what it sends must be whole
        data = schema.load(payload or {}, partial=tuple(schema.fields) if partial else False)
    except MarshmallowError as exc:
        flat = {k.replace(".value.", ".").removesuffix(".value"): v for k, v in flatten_errors(exc.messages).items()}
        raise ValidationError("the assessment has errors; see 'errors' for each field", flat) from None
    errors: dict[str, list[str]] = {}
    criteria = {c["code"]: c for c in ruleset_document["criteria"]}
    knockouts = {k["code"]: k for k in ruleset_document["knockouts"]}
    for code, entry in (data.get("scores") or {}).items():
        spec = criteria.get(code)
        if spec is None:
            errors[f"scores.{code}"] = [f"unknown criterion '{code}' (the ruleset has {', '.join(criteria)})"]
            continue
        if entry["score"] is None and not (entry.get("justification") or "").strip():
            errors.setdefault(f"scores.{code}.justification", []).append("n/a needs a justification")
        threshold = spec.get("evidence_required_at_or_above")
        if entry["score"] is not None and threshold is not None and entry["score"] >= threshold and not entry["evidence"]:
            errors.setdefault(f"scores.{code}.evidence", []).append(
                f"a score of {entry['score']} needs evidence (the rubric requires it from {threshold})")
    seen: set[str] = set()
    for i, ko in enumerate(data.get("knockouts") or []):
        spec = knockouts.get(ko["code"])
        if spec is None:
            errors[f"knockouts.{i}.code"] = [f"unknown knock-out '{ko['code']}' (the ruleset has {', '.join(knockouts)})"]
            continue
        if ko["code"] in seen:
            errors[f"knockouts.{i}.code"] = [f"knock-out {ko['code']} is reported twice"]
        seen.add(ko["code"])
        if ko["status"] == "confirmed" and spec.get("evidence_required", True) and not ko["evidence"]:
            errors[f"knockouts.{i}.evidence"] = ["a confirmed knock-out needs evidence"]
    if complete:
        missing = [c for c in criteria if c not in (data.get("scores") or {})]
        if missing:
            errors.setdefault("scores", []).append(f"every criterion must be scored or marked n/a; missing {', '.join(missing)}")
        if data.get("conflict") is None:
            errors.setdefault("conflict", []).append("a conflict-of-interest declaration is required (declared: true or false)")
    if errors:
        raise ValidationError("the assessment has errors; see 'errors' for each field", errors)
    return data
