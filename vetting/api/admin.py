"""Registrar administration: associations, accounts, tokens and the audit log."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import MAX_ID, ApiErrorSchema, IdField, StrictSchema
from vetting.models import Role
from vetting.services import accounts as service
from vetting.services import audit, memberships
from vetting.web import request_session

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Associations, accounts, tokens, audit log")

EVERYONE = (Role.REVIEWER, Role.ASSOCIATION_ADMIN, Role.REGISTRAR)


class AssociationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_zh = fields.String(allow_none=True)
    country = fields.String()
    status = fields.Function(lambda a: a.status.value)
    accredited_at = fields.DateTime()
    suspended_at = fields.DateTime(allow_none=True)


class AssociationIn(StrictSchema):
    code = fields.String(required=True, metadata={"example": "SILK"})
    name = fields.String(required=True, metadata={"example": "Silk Road Builders Chamber"})
    name_zh = fields.String(load_default=None)
    country = fields.String(required=True, metadata={"example": "CN"})


class ReasonIn(StrictSchema):
    reason = fields.String(required=True, metadata={"example": "accreditation audit pending"})


class AccountOut(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    role = fields.Function(lambda a: a.role.value)
    association = fields.Function(lambda a: a.association.code if a.association else None)
    status = fields.Function(lambda a: a.status.value)
    created_at = fields.DateTime()


class AccountIn(StrictSchema):
    email = fields.String(required=True, metadata={"example": "rev.li@silk.example"})
    role = fields.String(required=True, metadata={"example": "reviewer"})
    association = fields.String(load_default=None, metadata={"example": "SILK"})
    display_name = fields.String(load_default=None)


class NewAccountOut(Schema):
    account = fields.Nested(AccountOut)
    token = fields.String(metadata={"description": "the bearer token, shown only in this response"})


class TokenOut(Schema):
    prefix = fields.String()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenIn(StrictSchema):
    name = fields.String(load_default="default")


class NewTokenOut(Schema):
    token = fields.String(metadata={"description": "shown only in this response"})
    prefix = fields.String()
    name = fields.String()


class AuditQuery(StrictSchema):
    action = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    actor_id = IdField()
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID),
                              metadata={"description": "return events with a larger id (paging)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.String()
    action = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    summary = fields.Function(lambda e: __import__("json").loads(e.summary))
    prev_hash = fields.String()
    hash = fields.String()


@blp.route("/associations")
class Associations(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, AssociationOut(many=True))
    def get(self):  # noqa: ANN201
        """Every association with its accreditation status."""
        return service.list_associations(request_session(), current_account())

    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(AssociationIn)
    @blp.response(201, AssociationOut)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, args):  # noqa: ANN001, ANN201
        """Accredit an association."""
        return service.accredit_association(request_session(), current_account(), **args)


@blp.route("/associations/<string:code>/suspend")
class SuspendAssociation(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ReasonIn)
    @blp.response(200, AssociationOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the association is already suspended")
    def post(self, args, code: str):  # noqa: ANN001, ANN201
        """Suspend an association: its accounts' tokens stop working at once."""
        return service.set_association_status(request_session(), current_account(), code, suspended=True, reason=args["reason"])


@blp.route("/associations/<string:code>/reinstate")
class ReinstateAssociation(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ReasonIn)
    @blp.response(200, AssociationOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the association is already accredited")
    def post(self, args, code: str):  # noqa: ANN001, ANN201
        """Reinstate a suspended association."""
        return service.set_association_status(request_session(), current_account(), code, suspended=False, reason=args["reason"])


@blp.route("/accounts")
class Accounts(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, AccountOut(many=True))
    def get(self):  # noqa: ANN201
        """Every account."""
        return service.list_accounts(request_session(), current_account())

    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(AccountIn)
    @blp.response(201, NewAccountOut)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no association has the code given; 'field' names it")
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, args):  # noqa: ANN001, ANN201
        """Create an account; the response carries its first bearer token, once."""
        created = service.create_account(request_session(), current_account(), email=args["email"], role=args["role"],
                                         association_code=args["association"], display_name=args["display_name"])
        return {"account": created.account, "token": created.token}


@blp.route("/accounts/<int:account_id>/disable")
class DisableAccount(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ReasonIn)
    @blp.response(200, AccountOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="a registrar cannot disable their own account")
    def post(self, args, account_id: int):  # noqa: ANN001, ANN201
        """Disable an account: its tokens stop working."""
        return service.set_account_status(request_session(), current_account(), account_id, disabled=True, reason=args["reason"])


@blp.route("/accounts/<int:account_id>/enable")
class EnableAccount(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(ReasonIn)
    @blp.response(200, AccountOut)
    def post(self, args, account_id: int):  # noqa: ANN001, ANN201
        """Re-enable a disabled account."""
        return service.set_account_status(request_session(), current_account(), account_id, disabled=False, reason=args["reason"])


@blp.route("/accounts/<int:account_id>/tokens")
class Tokens(MethodView):
    @require_roles(*EVERYONE)
    @blp.doc(security=BEARER)
    @blp.response(200, TokenOut(many=True))
    def get(self, account_id: int):  # noqa: ANN201
        """An account's tokens, by prefix only (your own, or any for registrars)."""
        return service.list_tokens(request_session(), current_account(), account_id)

    @require_roles(*EVERYONE)
    @blp.doc(security=BEARER)
    @blp.arguments(TokenIn)
    @blp.response(201, NewTokenOut)
    def post(self, args, account_id: int):  # noqa: ANN001, ANN201
        """Create a token; it is shown only in this response."""
        row, token = service.create_token(request_session(), current_account(), account_id, args["name"])
        return {"token": token, "prefix": row.prefix, "name": row.name}


@blp.route("/accounts/<int:account_id>/tokens/<string:prefix>")
class TokenView(MethodView):
    @require_roles(*EVERYONE)
    @blp.doc(security=BEARER)
    @blp.response(200, TokenOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the token is already revoked")
    def delete(self, account_id: int, prefix: str):  # noqa: ANN201
        """Revoke a token."""
        return service.revoke_token(request_session(), current_account(), account_id, prefix)


@blp.route("/accounts/<int:account_id>/tokens/<string:prefix>/rotate")
class RotateToken(MethodView):
    @require_roles(*EVERYONE)
    @blp.doc(security=BEARER)
    @blp.response(201, NewTokenOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the token is already revoked")
    def post(self, account_id: int, prefix: str):  # noqa: ANN201
        """Revoke a token and issue its replacement (shown only in this response)."""
        row, token = service.rotate_token(request_session(), current_account(), account_id, prefix)
        return {"token": token, "prefix": row.prefix, "name": row.name}


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditOut(many=True))
    def get(self, args):  # noqa: ANN001, ANN201
        """The audit log in order, filtered; page with after_id."""
        return audit.list_events(request_session(), **args)


class MembershipOut(Schema):
    association = fields.Function(lambda m: m.association.code)
    enterprise_id = fields.Integer()
    since = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True, metadata={"description": "the first day it no longer holds (a registrar confirmed the end)"})
    end_requested_on = fields.Date(allow_none=True, metadata={"description": "an end asked for, waiting for a registrar"})
    end_reason = fields.String(allow_none=True)


class MembershipIn(StrictSchema):
    since = fields.Date(load_default=None)


class MembershipEndIn(StrictSchema):
    reason = fields.String(load_default=None, validate=validate.Length(max=4000))


@blp.route("/associations/<string:code>/members/<int:enterprise_id>")
class MemberView(MethodView):
    @require_roles(Role.ASSOCIATION_ADMIN, Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(MembershipIn)
    @blp.response(200, MembershipOut)
    def put(self, args, code: str, enterprise_id: int):  # noqa: ANN001, ANN201
        """Declare that the enterprise is a member of the association (idempotent)."""
        return memberships.declare(request_session(), current_account(), code, enterprise_id, args["since"])

    @require_roles(Role.ASSOCIATION_ADMIN, Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(MembershipEndIn, location="query")
    @blp.response(202, MembershipOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="an end was asked for already")
    def delete(self, args, code: str, enterprise_id: int):  # noqa: ANN001, ANN201
        """Ask for the membership to end. It ends when a registrar (not the one who asked)
        confirms it, from that day; assessments filed before keep their standing."""
        return memberships.request_end(request_session(), current_account(), code, enterprise_id, args["reason"])


@blp.route("/associations/<string:code>/members/<int:enterprise_id>/end")
class MemberEnd(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, MembershipOut)
    @blp.alt_response(409, schema=ApiErrorSchema, description="no end was asked for")
    @blp.alt_response(403, schema=ApiErrorSchema, description="four eyes: you asked for this end")
    def post(self, code: str, enterprise_id: int):  # noqa: ANN201
        """Confirm the end of a membership: from today the enterprise is not a member."""
        return memberships.confirm_end(request_session(), current_account(), code, enterprise_id)
