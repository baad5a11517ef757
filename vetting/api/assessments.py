"""Assessments: drafts, updates with If-Match, submission and withdrawal."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import MAX_ID, ApiErrorSchema, DecisionSummarySchema, IdField, StrictSchema
from vetting.errors import NotFound, PreconditionFailed
from vetting.models import Assessment, AssessmentStatus, Role
from vetting.services import assessments as service
from vetting.services.assessment_input import AssessmentInput
from vetting.web import request_session

blp = Blueprint("assessments", __name__, url_prefix="/api/v1/assessments", description="Assessments filed by reviewers")

REVIEWERS = (Role.REVIEWER, Role.ASSOCIATION_ADMIN)


class AssessmentSchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    project_id = fields.Integer(allow_none=True)
    association = fields.Function(lambda a: a.association.code)
    reviewer_id = fields.Integer()
    ruleset_version = fields.Function(lambda a: a.ruleset.version)
    status = fields.Function(lambda a: a.status.value)
    version = fields.Integer(metadata={"description": "send it back in If-Match to update"})
    supersedes_id = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)
    conflict = fields.Function(lambda a: None if a.conflict_declared is None else {"declared": a.conflict_declared, "note": a.conflict_note})
    scores = fields.Function(lambda a: _payload(a)["scores"])
    knockouts = fields.Function(lambda a: _payload(a)["knockouts"])
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)


class FiledSchema(AssessmentSchema):
    decision = fields.Nested(DecisionSummarySchema, allow_none=True,
                             metadata={"description": "the enterprise's new decision when filed with submit=true, else null"})


def _payload(a) -> dict:  # noqa: ANN001
    """The scores and knock-outs of an assessment as stored (a new filing carries them)."""
    return a.payload if isinstance(a, _Filed) and a.payload is not None else service.stored_payload(a)


class _Filed:
    """An assessment seen together with the decision its filing stored (for FiledSchema) and,
    for a filing submitted at once, its stored scores and knock-outs."""

    def __init__(self, assessment: Assessment, decision, payload: dict | None = None) -> None:  # noqa: ANN001
        self._assessment = assessment
        self.decision = decision
        self.payload = payload

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._assessment, name)


class FileQuery(StrictSchema):
    submit = fields.Boolean(load_default=False, metadata={
        "description": "submit at once: the assessment must be complete; it counts and the enterprise is re-evaluated"})


class AssessmentQuery(StrictSchema):
    enterprise_id = IdField()
    status = fields.String(validate=validate.OneOf([s.value for s in AssessmentStatus]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class AssessmentPatchInput(AssessmentInput):
    """The fields of a draft to change; any subset of AssessmentInput."""


class WithdrawInput(StrictSchema):
    reason = fields.String(required=True, metadata={"example": "the site visit covered another project"})


class SubmitResultSchema(Schema):
    assessment = fields.Nested(AssessmentSchema)
    decision = fields.Nested(DecisionSummarySchema)


def _visible(account, assessment: Assessment) -> bool:  # noqa: ANN001
    return account.role is Role.REGISTRAR or assessment.association_id == account.association_id


def own_assessment(fn):  # noqa: ANN001, ANN201
    """Refuse (404) another association's assessment before the request body is even read, so
    a caller learns nothing about assessments it may not see."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        assessment = request_session().get(Assessment, kwargs["assessment_id"])
        account = current_account()
        if assessment is None or account.association_id != assessment.association_id:
            raise NotFound(f"no assessment {kwargs['assessment_id']}")
        return fn(*args, **kwargs)

    return wrapper


def _etag(assessment: Assessment) -> str:
    return f'"{assessment.id}-{assessment.version}"'


def _if_match() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    try:
        return int(header.strip().strip('W/').strip('"').rsplit("-", 1)[-1])
    except ValueError:
        raise PreconditionFailed("If-Match must be the ETag of the assessment, e.g. \"12-3\"") from None


@blp.route("")
class Assessments(MethodView):
    @require_roles(Role.REVIEWER, Role.ASSOCIATION_ADMIN, Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(AssessmentQuery, location="query")
    @blp.response(200, AssessmentSchema(many=True))
    def get(self, args):  # noqa: ANN001, ANN201
        """Assessments visible to you: your association's (registrars: all)."""
        account = current_account()
        query = select(Assessment).order_by(Assessment.id)
        if account.role is not Role.REGISTRAR:
            query = query.where(Assessment.association_id == account.association_id)
        if "enterprise_id" in args:
            query = query.where(Assessment.enterprise_id == args["enterprise_id"])
        if "status" in args:
            query = query.where(Assessment.status == AssessmentStatus(args["status"]))
        return request_session().scalars(query.limit(args["limit"]).offset(args["offset"])).all()

    @require_roles(*REVIEWERS)
    @blp.doc(security=BEARER)
    @blp.arguments(FileQuery, location="query")
    @blp.arguments(AssessmentInput)
    @blp.response(201, FiledSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="each offending field named under 'errors'")
    def post(self, query, _args):  # noqa: ANN001, ANN201
        """File a draft assessment against the active ruleset; with ``submit=true``, file and
        submit it in one step and get the enterprise's new decision."""
        if query["submit"]:
            filed = service.file_submitted(request_session(), current_account(), request.get_json())
            return _Filed(filed.assessment, filed.decision, filed.payload), 201, {"ETag": _etag(filed.assessment)}
        assessment = service.create_draft(request_session(), current_account(), request.get_json())
        return _Filed(assessment, None), 201, {"ETag": _etag(assessment)}


class ValidateQuery(StrictSchema):
    complete = fields.Boolean(load_default=True, metadata={"description": "check as for submission (every criterion, a declaration)"})


class ValidationResultSchema(Schema):
    valid = fields.Boolean()
    ruleset_version = fields.String()
    complete = fields.Boolean()


@blp.route("/validate")
class ValidateView(MethodView):
    @require_roles(*REVIEWERS)
    @blp.doc(security=BEARER)
    @blp.arguments(ValidateQuery, location="query")
    @blp.arguments(AssessmentInput)
    @blp.response(200, ValidationResultSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="each offending field named under 'errors'")
    def post(self, query, _args):  # noqa: ANN001, ANN201
        """Check an assessment against the active ruleset without storing anything."""
        version = service.validate(request_session(), current_account(), request.get_json(), complete=query["complete"])
        return {"valid": True, "ruleset_version": version, "complete": query["complete"]}


class BatchInput(StrictSchema):
    records = fields.List(fields.Dict(), required=True, metadata={"description": "assessment payloads, each may carry idempotency_key"})
    atomic = fields.Boolean(load_default=False)


class BatchReportSchema(Schema):
    accepted = fields.Integer()
    skipped = fields.Integer()
    rejected = fields.Integer()
    decisions = fields.Integer()
    committed = fields.Boolean()
    accepted_records = fields.List(fields.Dict())
    skipped_records = fields.List(fields.Dict())
    rejected_records = fields.List(fields.Dict())


@blp.route("/batch")
class BatchView(MethodView):
    @require_roles(*REVIEWERS)
    @blp.doc(security=BEARER)
    @blp.arguments(BatchInput)
    @blp.response(200, BatchReportSchema)
    def post(self, args):  # noqa: ANN001, ANN201
        """File and submit many assessments at once; the report lists accepted, skipped (already
        imported under their idempotency_key) and rejected records with the reasons."""
        from vetting.services.bulk import import_assessments

        records = [(i + 1, r) for i, r in enumerate(args["records"])]
        return import_assessments(request_session(), current_account(), records, atomic=args["atomic"]).as_dict()


@blp.route("/<int:assessment_id>")
class AssessmentView(MethodView):
    @require_roles(Role.REVIEWER, Role.ASSOCIATION_ADMIN, Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, AssessmentSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, assessment_id: int):  # noqa: ANN201
        """One assessment; another association's is a 404."""
        assessment = request_session().get(Assessment, assessment_id)
        if assessment is None or not _visible(current_account(), assessment):
            raise NotFound(f"no assessment {assessment_id}")
        return assessment, 200, {"ETag": _etag(assessment)}

    @require_roles(*REVIEWERS)
    @own_assessment
    @blp.doc(security=BEARER, parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}])
    @blp.arguments(AssessmentPatchInput(partial=True))
    @blp.response(200, AssessmentSchema)
    @blp.alt_response(412, schema=ApiErrorSchema, description="stale or missing If-Match")
    @blp.alt_response(409, schema=ApiErrorSchema, description="only a draft can be changed")
    def patch(self, _args, assessment_id: int):  # noqa: ANN001, ANN201
        """Change a draft; If-Match must carry the ETag you read."""
        assessment = service.update_draft(request_session(), current_account(), assessment_id, request.get_json(),
                                          if_match=_if_match())
        return assessment, 200, {"ETag": _etag(assessment)}


@blp.route("/<int:assessment_id>/submit")
class SubmitView(MethodView):
    @require_roles(*REVIEWERS)
    @own_assessment
    @blp.doc(security=BEARER)
    @blp.response(200, SubmitResultSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, assessment_id: int):  # noqa: ANN201
        """Submit a draft; the enterprise is re-evaluated and the new decision returned."""
        assessment, decision = service.submit(request_session(), current_account(), assessment_id)
        return {"assessment": assessment, "decision": decision}


@blp.route("/<int:assessment_id>/withdraw")
class WithdrawView(MethodView):
    @require_roles(*REVIEWERS)
    @own_assessment
    @blp.doc(security=BEARER)
    @blp.arguments(WithdrawInput)
    @blp.response(200, SubmitResultSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="only a submitted assessment can be withdrawn")
    def post(self, args, assessment_id: int):  # noqa: ANN001, ANN201
        """Withdraw a submitted assessment (it stays readable); the enterprise is re-evaluated."""
        assessment, decision = service.withdraw(request_session(), current_account(), assessment_id, args["reason"])
        return {"assessment": assessment, "decision": decision}


@blp.route("/<int:assessment_id>/amend")
class AmendView(MethodView):
    @require_roles(*REVIEWERS)
    @own_assessment
    @blp.doc(security=BEARER)
    @blp.arguments(AssessmentInput)
    @blp.response(201, SubmitResultSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="only a submitted assessment can be amended")
    def post(self, _args, assessment_id: int):  # noqa: ANN001, ANN201
        """Replace a submitted assessment by a new, complete version; the old one stays readable
        as superseded, and the enterprise is re-evaluated."""
        assessment, decision = service.amend(request_session(), current_account(), assessment_id, request.get_json())
        return {"assessment": assessment, "decision": decision}
