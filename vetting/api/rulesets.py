"""Rulesets: the active one (public), storing, simulating and activating (registrars)."""

from __future__ import annotations

from flask.views import MethodView

from vetting.api.auth import BEARER, current_account, require_roles
from vetting.api.blueprint import Blueprint
from vetting.api.schemas import (
    ApiErrorSchema,
    RulesetCreateSchema,
    RulesetSchema,
    SimulationSchema,
)
from vetting.models import Role
from vetting.services import rulesets as service
from vetting.services.decisions import simulate_stored
from vetting.web import request_session

blp = Blueprint("rulesets", __name__, url_prefix="/api/v1/rulesets", description="Scoring rulesets")


@blp.route("/active")
class ActiveRuleset(MethodView):
    @blp.response(200, RulesetSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="no ruleset is active")
    def get(self):  # noqa: ANN201
        """The ruleset decisions are made under now, with its full document."""
        return service.active_ruleset(request_session())


@blp.route("")
class Rulesets(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.arguments(RulesetCreateSchema)
    @blp.response(201, RulesetSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="the version exists with other content")
    @blp.alt_response(422, schema=ApiErrorSchema, description="the document does not validate")
    def post(self, body):  # noqa: ANN001, ANN201
        """Store a new ruleset version as a draft (it changes nothing until activated)."""
        return service.create_ruleset(request_session(), current_account(), body["document"])


@blp.route("/<int:ruleset_id>/simulate")
class SimulateRuleset(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, SimulationSchema)
    def post(self, ruleset_id: int):  # noqa: ANN201
        """Evaluate every enterprise's current inputs under this ruleset and the active one;
        return the old→new outcome matrix and the changed enterprises. Writes nothing."""
        return simulate_stored(request_session(), ruleset_id)


@blp.route("/<int:ruleset_id>/activate")
class ActivateRuleset(MethodView):
    @require_roles(Role.REGISTRAR)
    @blp.doc(security=BEARER)
    @blp.response(200, RulesetSchema)
    def post(self, ruleset_id: int):  # noqa: ANN201
        """Make this ruleset the active one and re-evaluate every enterprise under it."""
        return service.activate_ruleset(request_session(), current_account(), ruleset_id)
