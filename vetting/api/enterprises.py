"""The enterprise registry (registration by reviewers and registrars)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import jsonify, redirect, request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError

from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import MAX_ID, ApiErrorSchema, DecisionSummarySchema, IdField, StrictSchema
from vetting.models import Role
from vetting.services import enterprises as service
from vetting.web import request_session

if TYPE_CHECKING:
    from vetting.services.search import EnterpriseCard, Hit

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1/enterprises", description="Enterprises")


class IdentifierOut(Schema):
    scheme = fields.String()
    value = fields.String()


class ProjectOut(Schema):
    id = fields.Integer()
    name = fields.String()
    host_country = fields.String()
    sector = fields.String()
    equator_category = fields.Function(lambda p: getattr(p.equator_category, "value", p.equator_category))
    brigc_class = fields.Function(lambda p: getattr(p.brigc_class, "value", p.brigc_class))
    start_year = fields.Integer(allow_none=True)


class EnterpriseOut(Schema):
    id = fields.Integer()
    legal_name = fields.String()
    chinese_name = fields.String(allow_none=True)
    aliases = fields.List(fields.String(), attribute="alias_names")
    identifiers = fields.List(fields.Nested(IdentifierOut))
    country = fields.String()
    sector = fields.String()
    projects = fields.List(fields.Nested(ProjectOut))


class DuplicateOut(Schema):
    id = fields.Integer()
    legal_name = fields.String()
    chinese_name = fields.String(allow_none=True)
    similarity = fields.Float()


class RegisteredOut(Schema):
    enterprise = fields.Nested(EnterpriseOut)
    possible_duplicates = fields.List(fields.Nested(DuplicateOut), metadata={
        "description": "enterprises in the same country with a near-identical name; check before filing"})


class SearchQuery(StrictSchema):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "a name in any script or form: legal name, Chinese name, pinyin, alias"})
    identifier = fields.String(metadata={"description": "scheme:value, e.g. uscc:91110000… (exact)"})
    country = fields.String(validate=validate.Length(equal=2))
    sector = fields.String()
    list = fields.String(validate=validate.OneOf(["red", "black"]))
    min_score = fields.Float(load_default=0.6, validate=validate.Range(min=0, max=1))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))

    @validates_schema
    def _one_of(self, data, **_kw):  # noqa: ANN001, ANN202
        if bool(data.get("q")) == bool(data.get("identifier")):
            raise MarshmallowValidationError("give either q (a name) or identifier (scheme:value)", field_name="q")


class HitOut(Schema):
    enterprise = fields.Nested(EnterpriseOut)
    score = fields.Float(metadata={"description": "0 to 1"})
    matched_name = fields.String()
    explanation = fields.String()
    list = fields.String(allow_none=True)


class SearchOut(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    results = fields.List(fields.Nested(HitOut))


def card_json(card: EnterpriseCard) -> dict:
    """What ``EnterpriseOut`` dumps of a card, built directly: an identifier lookup is a hot
    path and the schema walk costs more than the lookup's query. A test holds the two equal."""
    return {"id": card.id, "legal_name": card.legal_name, "chinese_name": card.chinese_name, "aliases": list(card.alias_names),
            "identifiers": [{"scheme": i.scheme, "value": i.value} for i in card.identifiers],
            "country": card.country, "sector": card.sector,
            "projects": [{"id": p.id, "name": p.name, "host_country": p.host_country, "sector": p.sector,
                          "equator_category": p.equator_category, "brigc_class": p.brigc_class, "start_year": p.start_year}
                         for p in card.projects]}


def identifier_answer(hit: Hit, limit: int) -> dict:
    """The ``SearchOut`` answer to an identifier lookup (one result, offset 0)."""
    return {"total": 1, "limit": limit, "offset": 0,
            "results": [{"enterprise": card_json(hit.enterprise), "score": float(hit.match.score), "matched_name": hit.match.name,
                         "explanation": hit.match.explanation, "list": hit.list}]}


@blp.route("")
class Enterprises(MethodView):
    @blp.arguments(SearchQuery(), location="query")
    @blp.response(200, SearchOut)
    @blp.alt_response(422, schema=ApiErrorSchema, description="neither or both of q and identifier, or an invalid identifier")
    @blp.alt_response(404, schema=ApiErrorSchema, description="a valid identifier that no enterprise holds")
    def get(self, args):  # noqa: ANN001, ANN201
        """Find enterprises by name (ranked, each result with its score and why it matched) or
        by identifier (exact)."""
        from vetting.services import search

        session = request_session()
        if args.get("identifier"):
            return jsonify(identifier_answer(search.by_identifier(session, args["identifier"]), args["limit"]))
        results = search.search(session, args["q"], country=args.get("country"), sector=args.get("sector"),
                                list_type=args.get("list"), min_score=args["min_score"], limit=args["limit"], offset=args["offset"])
        hits = [{"enterprise": h.enterprise, "score": h.match.score, "matched_name": h.match.name,
                 "explanation": h.match.explanation, "list": h.list} for h in results.hits]
        return {"total": results.total, "limit": args["limit"], "offset": args["offset"], "results": hits}

    @require_roles(Role.REVIEWER, Role.ASSOCIATION_ADMIN, Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(service.EnterpriseInput)
    @blp.response(201, RegisteredOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="an identifier is already registered; conflicting_id names the holder")
    @blp.alt_response(422, schema=ApiErrorSchema, description="each offending field named under 'errors'")
    def post(self, _args):  # noqa: ANN001, ANN201
        """Register an enterprise with its names, identifiers and projects."""
        return service.register(request_session(), current_account(), request.get_json())




class StatusSchema(Schema):
    on = fields.Date(attribute="day", metadata={"description": "the date the status is for (today, or as_of)"})
    list = fields.String(allow_none=True, metadata={"description": "red, black, or null when on neither list"})
    listing_id = fields.Integer(allow_none=True)
    since = fields.Date(allow_none=True)
    until = fields.Date(allow_none=True, metadata={"description": "the listing's last day (it counts through this day, never after)"})
    suspended = fields.String(allow_none=True, metadata={
        "description": "'red' while the enterprise's red listing is suspended pending review of a knock-out black proposal "
                       "(it is then on neither list); null otherwise"})


class EnterpriseDetail(EnterpriseOut):
    decision = fields.Nested(DecisionSummarySchema, allow_none=True, metadata={"description": "the latest decision"})
    grounds = fields.String(allow_none=True)
    status = fields.Nested(StatusSchema, metadata={"description": "the list the enterprise is on, from the listing history"})


class StatusQuery(StrictSchema):
    as_of = fields.Date(metadata={"description": "answer for this past date (YYYY-MM-DD)"})


class MergeIn(StrictSchema):
    into = IdField(required=True, metadata={"description": "the surviving enterprise"})
    reason = fields.String(required=True)


@blp.route("/<int:enterprise_id>")
class EnterpriseView(MethodView):
    @blp.arguments(StatusQuery, location="query")
    @blp.response(200, EnterpriseDetail)
    @blp.alt_response(308, description="the id was merged into another enterprise; follow Location")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args, enterprise_id: int):  # noqa: ANN001, ANN201
        """An enterprise with its names, identifiers, projects, latest decision and the list it
        is on (today, or on the ``as_of`` date)."""
        from vetting.services.listings import public_status

        session = request_session()
        enterprise, merged = service.resolve(session, enterprise_id)
        if merged:
            return redirect(url_for("enterprises.EnterpriseView", enterprise_id=enterprise.id, **request.args), code=308)
        seen = public_status(session, enterprise.id, args.get("as_of"))
        enterprise.status, enterprise.decision, enterprise.grounds = seen.status, seen.decision, seen.grounds
        return enterprise


@blp.route("/<int:enterprise_id>/merge")
class MergeView(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(MergeIn)
    @blp.response(200, EnterpriseOut)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, args, enterprise_id: int):  # noqa: ANN001, ANN201
        """Merge this enterprise into another; its assessments, listings and history follow and
        its id answers with a 308 redirect to the survivor from now on."""
        return service.merge(request_session(), current_account(), enterprise_id, args["into"], args["reason"])
