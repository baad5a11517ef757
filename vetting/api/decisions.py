"""Decisions: read one with its full trace, replay it from its stored inputs (registrars)."""

from __future__ import annotations

from flask.views import MethodView

from vetting.api.auth import BEARER, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import DecisionSchema, ApiErrorSchema, ReplaySchema
from vetting.models import Role
from vetting.services import decisions as service
from vetting.web import request_session

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions", description="Engine decisions")


@blp.route("/<int:decision_id>")
class DecisionView(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, DecisionSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, decision_id: int):  # noqa: ANN201
        """A stored decision with its scores, trace and what it would take to move."""
        return service.get_decision(request_session(), decision_id)


@blp.route("/<int:decision_id>/replay")
class ReplayView(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, ReplaySchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, decision_id: int):  # noqa: ANN201
        """Recompute the decision from its stored inputs and ruleset and compare byte for byte."""
        return service.replay(request_session(), decision_id)
