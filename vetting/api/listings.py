"""Listings and objections: the registrar's queue and actions, and the public objection."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import MAX_ID, ApiErrorSchema, StrictSchema
from vetting.models import Listing, ListingStatus, Role
from vetting.services import listings as service
from vetting.web import request_session

blp = Blueprint("listings", __name__, url_prefix="/api/v1/listings", description="Listings and their due process (registrars)")
objections_blp = Blueprint("objections", __name__, url_prefix="/api/v1/objections", description="Objections to listings")
lists_blp = Blueprint("lists", __name__, url_prefix="/api/v1/lists", description="The red and the black list as they stand")
repairs_blp = Blueprint("repairs", __name__, url_prefix="/api/v1/repair-requests",
                        description="Repair requests: a black-listed enterprise applies for removal after remediation")


class ListingSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    kind = fields.String(metadata={"description": "listing (put on the list) or removal (take off it)"})
    enterprise_id = fields.Integer()
    list = fields.Function(lambda x: x.list_type.value)
    status = fields.Function(lambda x: x.status.value)
    decision_id = fields.Integer()
    reason_codes = fields.List(fields.String())
    grounds = fields.String()
    proposed_at = fields.DateTime()
    notice = fields.Function(
        lambda x: "pending" if x.status is ListingStatus.PROPOSED and x.notified_on is None else "delivered" if x.notified_on else None,
        metadata={"description": "for a proposal: 'pending' until the notice reached the enterprise (nothing can be "
                                 "confirmed and the window has not opened), then 'delivered'"})
    notified_on = fields.Date(allow_none=True, metadata={"description": "the day the enterprise was notified; the window runs from it"})
    objection_days = fields.Integer(allow_none=True)
    objection_deadline = fields.Date(allow_none=True, metadata={"description": "the window's last day; null until notified"})
    confirmed_at = fields.DateTime(allow_none=True)
    effective_from = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)


class ListingQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in ListingStatus]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class ReasonInput(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class EvidenceItem(StrictSchema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=32))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class NotifiedInput(StrictSchema):
    """What the public quotes to act on a listing: its reference and the notice's address."""

    reference = fields.String(required=True, metadata={"description": "the listing reference quoted in the notice"})
    contact_email = fields.String(required=True, metadata={"description": "the address the notice was sent to"})
    contact_name = fields.String(load_default=None, validate=validate.Length(max=200))
    evidence = fields.List(fields.Nested(EvidenceItem), load_default=list)


class ObjectionInput(NotifiedInput):
    grounds = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class ObjectionSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    listing_id = fields.Integer()
    status = fields.Function(lambda o: o.status.value)
    filed_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class DecideInput(StrictSchema):
    upheld = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


@blp.route("")
class Listings(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ListingQuery, location="query")
    @blp.response(200, ListingSchema(many=True))
    def get(self, args):  # noqa: ANN001, ANN201
        """Listings, newest first; ``status=proposed`` is the queue waiting for confirmation."""
        query = select(Listing).order_by(Listing.id.desc())
        if "status" in args:
            query = query.where(Listing.status == ListingStatus(args["status"]))
        return request_session().scalars(query.limit(args["limit"]).offset(args["offset"])).all()


@blp.route("/<int:listing_id>/confirm")
class Confirm(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, ListingSchema)
    @blp.alt_response(409, schema=ApiErrorSchema,
                      description="not proposed, the enterprise not yet notified, the window still open, or an objection open")
    @blp.alt_response(403, schema=ApiErrorSchema, description="four eyes: you triggered this proposal")
    def post(self, listing_id: int):  # noqa: ANN201
        """Confirm a proposal once the enterprise was notified and its objection window passed;
        it becomes active."""
        return service.confirm(request_session(), current_account(), listing_id)


class ServiceInput(StrictSchema):
    method = fields.String(required=True, validate=validate.OneOf(service.SERVICE_METHODS),
                           metadata={"description": "how the notice reached the enterprise"})
    served_on = fields.Date(required=True, metadata={"description": "the day it reached the enterprise; the window runs from it"})
    note = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                         metadata={"description": "the proof: tracking number, signed receipt, who received it"})
    contact_email = fields.String(load_default=None, validate=validate.Length(max=254),
                                  metadata={"description": "an address the enterprise gave; it may object with the reference"})


@blp.route("/<int:listing_id>/service")
class Service(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ServiceInput)
    @blp.response(200, ListingSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not proposed, or the enterprise was notified already")
    def post(self, args, listing_id: int):  # noqa: ANN001, ANN201
        """Record that the notice of a proposal reached the enterprise by another channel (post,
        courier, in person): the objection window runs from that day."""
        return service.record_service(request_session(), current_account(), listing_id, **args)


@blp.route("/<int:listing_id>/revoke")
class Revoke(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ReasonInput)
    @blp.response(200, ListingSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, args, listing_id: int):  # noqa: ANN001, ANN201
        """Revoke a proposed or active listing, with the reason."""
        return service.revoke(request_session(), current_account(), listing_id, args["reason"])


@objections_blp.route("")
class Objections(MethodView):
    @objections_blp.arguments(ObjectionInput)
    @objections_blp.response(201, ObjectionSchema)
    @objections_blp.alt_response(422, schema=ApiErrorSchema, description="unknown reference or email, missing grounds")
    @objections_blp.alt_response(409, schema=ApiErrorSchema, description="the window has closed or the listing has ended")
    def post(self, args):  # noqa: ANN001, ANN201
        """Object to a proposed or active listing (no account: the reference and the contact
        email of the notice). An open objection holds the proposal."""
        return service.file_objection(request_session(), **args)


@objections_blp.route("/<int:objection_id>/decide")
class Decide(MethodView):
    @require_roles(Role.REGISTRAR)
    @objections_blp.doc(security=BEARER)
    @objections_blp.arguments(DecideInput)
    @objections_blp.response(200, ObjectionSchema)
    @objections_blp.alt_response(409, schema=ApiErrorSchema, description="already decided")
    def post(self, args, objection_id: int):  # noqa: ANN001, ANN201
        """Uphold (the proposal is withdrawn, an active listing removed) or reject an objection."""
        return service.decide_objection(request_session(), current_account(), objection_id, upheld=args["upheld"],
                                        reason=args["reason"])


class RepairInput(NotifiedInput):
    remediation = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class RepairSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    listing_id = fields.Integer()
    status = fields.Function(lambda r: r.status.value)
    filed_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class RepairDecideInput(StrictSchema):
    granted = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


@repairs_blp.route("")
class Repairs(MethodView):
    @repairs_blp.arguments(RepairInput)
    @repairs_blp.response(201, RepairSchema)
    @repairs_blp.alt_response(422, schema=ApiErrorSchema, description="unknown reference or email, missing remediation")
    @repairs_blp.alt_response(409, schema=ApiErrorSchema,
                              description="too early or beyond the ruleset's limits ('earliest' names the first date allowed), "
                                          "non-repairable, or not an active black listing")
    def post(self, args):  # noqa: ANN001, ANN201
        """Apply for removal from the black list after remediation."""
        return service.file_repair(request_session(), **args)


@repairs_blp.route("/<int:request_id>/decide")
class DecideRepair(MethodView):
    @require_roles(Role.REGISTRAR)
    @repairs_blp.doc(security=BEARER)
    @repairs_blp.arguments(RepairDecideInput)
    @repairs_blp.response(200, RepairSchema)
    @repairs_blp.alt_response(409, schema=ApiErrorSchema, description="already decided")
    def post(self, args, request_id: int):  # noqa: ANN001, ANN201
        """Grant (the listing is removed) or refuse a repair request, with reasons."""
        return service.decide_repair(request_session(), current_account(), request_id, granted=args["granted"], reason=args["reason"])


class ListQuery(StrictSchema):
    country = fields.String(validate=validate.Length(equal=2))
    sector = fields.String()
    sort = fields.String(load_default="name", validate=validate.OneOf(sorted(service.SORTS)))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class ListEntrySchema(Schema):
    enterprise_id = fields.Integer()
    legal_name = fields.String()
    chinese_name = fields.String(allow_none=True)
    country = fields.String()
    sector = fields.String()
    listing_reference = fields.String()
    effective_from = fields.Date()
    expires_on = fields.Date()
    reason_codes = fields.List(fields.String())
    grounds = fields.String()
    total_score = fields.Float(allow_none=True)


class ListPageSchema(Schema):
    list = fields.String()
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    entries = fields.List(fields.Nested(ListEntrySchema))


@lists_blp.route("/<any(red, black):list_type>")
class ListView(MethodView):
    @lists_blp.arguments(ListQuery, location="query")
    @lists_blp.response(200, ListPageSchema)
    def get(self, args, list_type: str):  # noqa: ANN001, ANN201
        """Every enterprise on the list now, with why, since when and until when; filterable by
        host country and sector, sortable by name, since, expires or score."""
        page = service.active_list(request_session(), list_type, **args)
        entries = [{"enterprise_id": e.id, "legal_name": e.legal_name, "chinese_name": e.chinese_name, "country": e.country,
                    "sector": e.sector, "listing_reference": x.reference, "effective_from": x.effective_from,
                    "expires_on": x.expires_on, "reason_codes": x.reason_codes, "grounds": x.grounds, "total_score": score}
                   for x, e, score in page.entries]
        return {"list": list_type, "total": page.total, "limit": args["limit"], "offset": args["offset"], "entries": entries}
