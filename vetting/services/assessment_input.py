"""Assessment input: the payload reviewers send (API, form or bulk file), checked against the
ruleset the assessment is filed under.

Structure is checked by a marshmallow schema that refuses unknown fields; content by the
ruleset: known criterion codes, scores 0–4 or ``n/a`` with a justification, evidence where the
rubric requires it, known knock-out codes, evidence for a confirmed knock-out, and (to submit)
every criterion answered and a conflict-of-interest declaration. Every problem is reported
under the path of the field that has it (``scores.E1.score``), all at once.
"""

from __future__ import annotations

import re
from functools import cache
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


@cache
def _schema() -> AssessmentInput:
    """One schema instance, reused: building one copies every declared field and its nested
    schemas, which costs more than loading a payload. Loading does not change the instance."""
    return AssessmentInput()


# The common case, read without the schema. A bulk import spends more time in the schema's
# generic machinery (some 40 nested loads per assessment) than in anything else, so a payload
# that is plainly well formed (exact JSON types, known fields only, values within the schema's
# limits) is read by :func:`_well_formed` into exactly what the schema would load; anything
# else, including every payload with an error, goes through the schema, which alone words the
# errors. ``tests/test_assessment_input.py`` holds the two to the same result.
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_ID = 2**31 - 1


def _text(value: Any, longest: int, *, shortest: int = 0, nullable: bool = True) -> bool:
    if value is None:
        return nullable
    return type(value) is str and shortest <= len(value) <= longest


def _evidence(items: Any) -> list[dict] | None:
    if type(items) is not list:
        return None
    out = []
    for item in items:
        if type(item) is not dict or not item.keys() <= _EVIDENCE_KEYS or item.get("kind") not in EVIDENCE_KINDS \
                or not _text(item.get("reference"), 1000, shortest=1, nullable=False) \
                or not _text(item.get("description"), 2000):
            return None
        sha = item.get("sha256")
        if sha is not None and not (type(sha) is str and _SHA256.match(sha)):
            return None
        out.append({"kind": item["kind"], "reference": item["reference"], "description": item.get("description"), "sha256": sha})
    return out


_EVIDENCE_KEYS = frozenset({"kind", "reference", "description", "sha256"})
_SCORE_KEYS = frozenset({"score", "justification", "evidence"})
_KNOCKOUT_KEYS = frozenset({"code", "status", "description", "evidence"})
_TOP_KEYS = frozenset({"enterprise_id", "project_id", "summary", "conflict", "scores", "knockouts"})


def _well_formed(payload: Any) -> dict[str, Any] | None:
    """What the schema loads from ``payload`` if it is plainly well formed, else None."""
    if type(payload) is not dict or not payload.keys() <= _TOP_KEYS:
        return None
    enterprise_id, project_id = payload.get("enterprise_id"), payload.get("project_id")
    if type(enterprise_id) is not int or not 1 <= enterprise_id <= _MAX_ID:
        return None
    if project_id is not None and (type(project_id) is not int or not 1 <= project_id <= _MAX_ID):
        return None
    if not _text(payload.get("summary"), 8000):
        return None
    conflict = payload.get("conflict")
    if conflict is not None:
        if type(conflict) is not dict or not conflict.keys() <= {"declared", "note"} or type(conflict.get("declared")) is not bool \
                or not _text(conflict.get("note"), 2000):
            return None
        conflict = {"declared": conflict["declared"], "note": conflict.get("note")}
    scores = {}
    given = payload.get("scores", {})
    if type(given) is not dict:
        return None
    for code, entry in given.items():
        if type(code) is not str or type(entry) is not dict or not entry.keys() <= _SCORE_KEYS or "score" not in entry:
            return None
        score = entry["score"]
        if score == "n/a":
            score = None
        elif type(score) is not int or not 0 <= score <= 4:
            return None
        if not _text(entry.get("justification"), 4000):
            return None
        evidence = _evidence(entry.get("evidence", []))
        if evidence is None:
            return None
        scores[code] = {"score": score, "justification": entry.get("justification"), "evidence": evidence}
    knockouts = []
    given = payload.get("knockouts", [])
    if type(given) is not list:
        return None
    for entry in given:
        if type(entry) is not dict or not entry.keys() <= _KNOCKOUT_KEYS or type(entry.get("code")) is not str \
                or entry.get("status") not in ("confirmed", "alleged") or not _text(entry.get("description", ""), 4000, nullable=False):
            return None
        evidence = _evidence(entry.get("evidence", []))
        if evidence is None:
            return None
        knockouts.append({"code": entry["code"], "status": entry["status"], "description": entry.get("description", ""),
                          "evidence": evidence})
    return {"enterprise_id": enterprise_id, "project_id": project_id, "summary": payload.get("summary"), "conflict": conflict,
            "scores": scores, "knockouts": knockouts}


def parse(payload: Any, ruleset_document: dict[str, Any], *, complete: bool, partial: bool = False) -> dict[str, Any]:
    """Validate ``payload``; raise ValidationError listing every bad field path.

    ``complete`` requires every criterion and a conflict declaration (submission);
    ``partial`` accepts a subset of the top-level fields (an update)."""
    try:
        data = None if partial else _well_formed(payload)
        if data is None:
            schema = _schema()
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
