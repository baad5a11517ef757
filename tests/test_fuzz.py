"""Property-based tests of the JSON API against its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json is called in-process, with generated valid and invalid
input, by three callers: anonymous, a reviewer and a registrar. Each response must be free of
server errors and must match what the document promises: a documented status code, the
documented content type and a body that fits the documented schema.

Each generated call runs inside a savepoint that is rolled back, so what one example writes
cannot change what the next one sees.
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vetting.models import Assessment, AssessmentStatus, CriterionScore, Membership
from vetting.services.accounts import issue_token
from vetting.services.actors import SystemActor
from vetting.services.evaluation import evaluate_enterprise
from vetting.services.rulesets import active_ruleset

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Documented examples and randomly generated cases; the coverage phase (every boundary of every
# parameter) would multiply the calls far beyond what a test run can afford.
CONFIG = {
    "phases": {
        "examples": {"enabled": True},
        "fuzzing": {"enabled": True},
        "coverage": {"enabled": False},
        "stateful": {"enabled": False},
    },
}



def _document() -> dict:
    """The OpenAPI document, read from an application that is never given a database: the
    document depends on the code alone, and the operations must be known when tests are
    collected."""
    from vetting.app import create_app

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"VETTING_DATABASE_URL": "sqlite://", "VETTING_INSTANCE_PATH": instance, "VETTING_SECRET_KEY": "fuzz"})
        try:
            response = app.test_client().get("/api/v1/openapi.json")
            assert response.status_code == 200, response.status_code
            return response.get_json()
        finally:
            app.extensions["vetting"].database.dispose()


schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture()
def caller(request, session, make_association, make_account, make_enterprise) -> tuple[dict[str, str], dict]:  # noqa: ANN001
    """One caller's headers, and rows the generated paths may name: an association with a
    member enterprise, its decision, a draft assessment, the active ruleset, an account and its
    token (the caller's own when signed in)."""
    association = make_association(code="FUZZ")
    enterprise = make_enterprise()
    session.add(Membership(association_id=association.id, enterprise_id=enterprise.id))
    reviewer = make_account("reviewer", association=association)
    account = make_account("registrar") if request.param == "registrar" else reviewer
    token = issue_token(session, SystemActor("test"), account)
    ruleset = active_ruleset(session)
    draft = Assessment(enterprise_id=enterprise.id, association_id=association.id, reviewer_id=reviewer.id,
                       ruleset_id=ruleset.id, status=AssessmentStatus.DRAFT, conflict_declared=False)
    draft.scores = [CriterionScore(criterion=c, score=2) for c in ("E1", "S1", "G1", "P1")]
    session.add(draft)
    session.flush()
    decision = evaluate_enterprise(session, SystemActor("test"), enterprise.id, trigger="test")
    session.commit()
    rows = {"enterprise_id": enterprise.id, "code": association.code, "account_id": account.id, "prefix": account.tokens[0].prefix,
            "ruleset_id": ruleset.id, "assessment_id": draft.id, "decision_id": decision.id}
    headers = {} if request.param == "anonymous" else {"Authorization": f"Bearer {token}"}
    return headers, rows


def _aim_at_rows(case, rows: dict) -> None:  # noqa: ANN001
    """Point about half of the generated path parameters at rows that exist (chosen by the
    generated value, so a failing example replays the same way); random ids alone would
    only ever reach the 404 of each operation."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in rows and len(str(value)) % 2 == 0:
            case.path_parameters[name] = rows[name]


# A handful of examples per operation and caller keeps the file to about a minute per database.
# Health checks: `function_scoped_fixture` - the app, its database savepoint and the caller are
# per-test fixtures on purpose, and every example is isolated in its own savepoint instead;
# `too_slow` - generating request bodies from the larger schemas (assessments, rulesets) can be
# slow on a loaded machine, which says nothing about the API.
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@schema.parametrize()
@pytest.mark.parametrize("caller", ["anonymous", "reviewer", "registrar"], indirect=True)
def test_api_conforms_to_its_document(case, app, connection, caller):  # noqa: ANN001
    headers, rows = caller
    _aim_at_rows(case, rows)
    savepoint = connection.begin_nested()
    try:
        response = case.call(app=app, headers=headers)
    finally:
        savepoint.rollback()
    case.validate_response(response, checks=CHECKS, headers=headers)
