"""The permission matrix: every route of the application, every role.

Built from the application's URL map: a route missing from ACCESS fails the test, so no
endpoint can be added without deciding who may call it. Each call runs in a savepoint that is
rolled back, so one role's call cannot change what the next one sees.
"""

import pytest

from vetting.models import Assessment, AssessmentStatus, CriterionScore, Decision, Membership
from vetting.services.accounts import issue_token, session_fingerprint
from vetting.services.actors import SystemActor
from vetting.services.evaluation import evaluate_enterprise
from vetting.services.rulesets import active_ruleset

PUBLIC = {"anonymous", "reviewer_a", "reviewer_b", "admin_a", "registrar"}
SIGNED_IN = {"reviewer_a", "reviewer_b", "admin_a", "registrar"}
REGISTRAR = {"registrar"}
OWN_ASSOCIATION = {"reviewer_a", "admin_a"}

#: (method, rule) -> roles that may call it. The suspended account may call only PUBLIC routes.
ACCESS = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/v1/rulesets/active"): PUBLIC,
    ("POST", "/api/v1/rulesets"): REGISTRAR,
    ("POST", "/api/v1/rulesets/<int:ruleset_id>/simulate"): REGISTRAR,
    ("POST", "/api/v1/rulesets/<int:ruleset_id>/activate"): REGISTRAR,
    ("GET", "/api/v1/decisions/<int:decision_id>"): REGISTRAR,
    ("GET", "/api/v1/decisions/<int:decision_id>/replay"): REGISTRAR,
    ("POST", "/api/v1/enterprises"): SIGNED_IN,
    ("GET", "/api/v1/enterprises"): PUBLIC | {"suspended"},
    ("GET", "/api/v1/enterprises/<int:enterprise_id>"): PUBLIC | {"suspended"},
    ("POST", "/api/v1/enterprises/<int:enterprise_id>/merge"): REGISTRAR,
    ("GET", "/api/v1/assessments"): SIGNED_IN,
    ("POST", "/api/v1/assessments"): {"reviewer_a", "reviewer_b", "admin_a"},
    ("POST", "/api/v1/assessments/batch"): {"reviewer_a", "reviewer_b", "admin_a"},
    ("POST", "/api/v1/assessments/validate"): {"reviewer_a", "reviewer_b", "admin_a"},
    ("GET", "/api/v1/assessments/<int:assessment_id>"): OWN_ASSOCIATION | REGISTRAR,
    ("PATCH", "/api/v1/assessments/<int:assessment_id>"): OWN_ASSOCIATION,
    ("POST", "/api/v1/assessments/<int:assessment_id>/submit"): OWN_ASSOCIATION,
    ("POST", "/api/v1/assessments/<int:assessment_id>/withdraw"): OWN_ASSOCIATION,
    ("POST", "/api/v1/assessments/<int:assessment_id>/amend"): OWN_ASSOCIATION,
    ("GET", "/api/v1/associations"): REGISTRAR,
    ("POST", "/api/v1/associations"): REGISTRAR,
    ("POST", "/api/v1/associations/<string:code>/suspend"): REGISTRAR,
    ("POST", "/api/v1/associations/<string:code>/reinstate"): REGISTRAR,
    ("PUT", "/api/v1/associations/<string:code>/members/<int:enterprise_id>"): {"admin_a", "registrar"},
    ("DELETE", "/api/v1/associations/<string:code>/members/<int:enterprise_id>"): {"admin_a", "registrar"},
    ("POST", "/api/v1/associations/<string:code>/members/<int:enterprise_id>/end"): REGISTRAR,
    ("GET", "/api/v1/accounts"): REGISTRAR,
    ("POST", "/api/v1/accounts"): REGISTRAR,
    ("POST", "/api/v1/accounts/<int:account_id>/disable"): REGISTRAR,
    ("POST", "/api/v1/accounts/<int:account_id>/enable"): REGISTRAR,
    ("GET", "/api/v1/accounts/<int:account_id>/tokens"): {"reviewer_a", "registrar"},
    ("POST", "/api/v1/accounts/<int:account_id>/tokens"): {"reviewer_a", "registrar"},
    ("DELETE", "/api/v1/accounts/<int:account_id>/tokens/<string:prefix>"): {"reviewer_a", "registrar"},
    ("POST", "/api/v1/accounts/<int:account_id>/tokens/<string:prefix>/rotate"): {"reviewer_a", "registrar"},
    ("GET", "/api/v1/audit-events"): REGISTRAR,
    ("GET", "/api/v1/listings"): REGISTRAR,
    ("GET", "/api/v1/releases"): PUBLIC | {"suspended"},
    ("POST", "/api/v1/releases"): REGISTRAR,
    ("GET", "/releases"): PUBLIC | {"suspended"},
    ("GET", "/releases/signing-key.pem"): PUBLIC | {"suspended"},
    ("GET", "/releases/<int:number>/<name>"): PUBLIC | {"suspended"},
    ("GET", "/releases/latest/<name>"): PUBLIC | {"suspended"},
    ("GET", "/api/v1/lists/<any(red, black):list_type>"): PUBLIC | {"suspended"},
    ("GET", "/search"): PUBLIC | {"suspended"},
    ("GET", "/method"): PUBLIC | {"suspended"},
    ("GET", "/statistics"): PUBLIC | {"suspended"},
    ("GET", "/lists/<any(red, black):list_type>"): PUBLIC | {"suspended"},
    ("POST", "/api/v1/listings/<int:listing_id>/confirm"): REGISTRAR,
    ("POST", "/api/v1/listings/<int:listing_id>/revoke"): REGISTRAR,
    ("POST", "/api/v1/listings/<int:listing_id>/service"): REGISTRAR,
    ("POST", "/api/v1/objections"): PUBLIC,
    ("POST", "/api/v1/objections/<int:objection_id>/decide"): REGISTRAR,
    ("POST", "/api/v1/repair-requests"): PUBLIC,
    ("POST", "/api/v1/repair-requests/<int:request_id>/decide"): REGISTRAR,
    # pages (a signed session cookie instead of a bearer token)
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): PUBLIC,
    ("GET", "/review"): SIGNED_IN,
    ("GET", "/review/assessments/new"): {"reviewer_a", "reviewer_b", "admin_a"},
    ("POST", "/review/assessments/new"): {"reviewer_a", "reviewer_b", "admin_a"},
    ("GET", "/review/assessments/<int:assessment_id>"): OWN_ASSOCIATION | REGISTRAR,
    ("POST", "/review/assessments/<int:assessment_id>"): OWN_ASSOCIATION,
    ("GET", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/<prefix>/revoke"): SIGNED_IN,
    ("GET", "/registry"): REGISTRAR,
    ("GET", "/registry/listings/<int:listing_id>"): REGISTRAR,
    ("POST", "/registry/listings/<int:listing_id>/<any(confirm, revoke):step>"): REGISTRAR,
    ("POST", "/registry/listings/<int:listing_id>/service"): REGISTRAR,
    ("POST", "/registry/<any(objections, repairs):kind>/<int:item_id>/decide"): REGISTRAR,
    ("GET", "/objections/new"): PUBLIC,
    ("GET", "/enterprises/<int:enterprise_id>"): PUBLIC | {"suspended"},
    ("POST", "/objections/new"): PUBLIC,
    ("GET", "/registry/accounts"): REGISTRAR,
    ("POST", "/registry/accounts"): REGISTRAR,
    ("POST", "/registry/accounts/<int:account_id>/<any(disable, enable):change>"): REGISTRAR,
}

ROLES = ["anonymous", "reviewer_a", "reviewer_b", "admin_a", "registrar", "suspended"]
CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def _routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule))
    return out


def test_every_route_has_a_decision(app):
    undecided = sorted(set(_routes(app)) - set(ACCESS))
    assert not undecided, f"routes without a permission decision: {undecided}"
    stale = sorted(set(ACCESS) - set(_routes(app)))
    assert not stale, f"permission decisions for routes that do not exist: {stale}"


@pytest.fixture()
def world(session, make_association, make_account, make_enterprise):
    a = make_association(code="PERMA")
    b = make_association(code="PERMB")
    suspended_assoc = make_association(code="PERMS")
    people = {
        "reviewer_a": make_account("reviewer", association=a),
        "reviewer_b": make_account("reviewer", association=b),
        "admin_a": make_account("association_admin", association=a),
        "registrar": make_account("registrar"),
        "suspended": make_account("reviewer", association=suspended_assoc),
    }
    tokens = {role: issue_token(session, SystemActor("test"), acc) for role, acc in people.items()}
    cookies = {role: {"account_id": acc.id, "fingerprint": session_fingerprint(acc)} for role, acc in people.items()}
    from vetting.models import AssociationStatus

    suspended_assoc.status = AssociationStatus.SUSPENDED
    ent = make_enterprise()
    session.add(Membership(association_id=a.id, enterprise_id=ent.id))
    ruleset = active_ruleset(session)
    draft = Assessment(enterprise_id=ent.id, association_id=a.id, reviewer_id=people["reviewer_a"].id, ruleset_id=ruleset.id,
                       status=AssessmentStatus.DRAFT, conflict_declared=False)
    draft.scores = [CriterionScore(criterion=c, score=2) for c in CRITERIA]
    session.add(draft)
    session.flush()
    decision: Decision = evaluate_enterprise(session, SystemActor("test"), ent.id, trigger="test")
    session.flush()
    prefix = people["reviewer_a"].tokens[0].prefix
    values = {"ruleset_id": ruleset.id, "decision_id": decision.id, "assessment_id": draft.id, "code": "PERMA",
              "enterprise_id": ent.id, "account_id": people["reviewer_a"].id, "prefix": prefix, "filename": "site.css",
              "change": "disable", "listing_id": 1, "objection_id": 1, "request_id": 1, "kind": "objections", "item_id": 1, "step": "confirm", "list_type": "black",
              "number": 1, "name": "listings.csv"}
    return tokens, values, cookies


def _url(rule, values):
    import re

    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, client, connection, world, role):
    tokens, values, cookies = world
    # The pages' forms carry a CSRF token (checked before any view: test_security.py); send
    # one, so that what is checked here is who may do what.
    import re

    form_page = client.get("/objections/new").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form_page).group(1)
    if role != "anonymous":
        with client.session_transaction() as web_session:
            web_session.update(cookies[role])
    failures = []
    for method, rule in _routes(app):
        allowed = ACCESS[(method, rule)]
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
        if rule != "/signout":  # signing out would end the session the other routes are tried with
            headers["X-CSRFToken"] = csrf
        nested = connection.begin_nested()
        try:
            resp = client.open(_url(rule, values), method=method, json={} if method in ("POST", "PUT", "PATCH") else None,
                               headers=headers)
        finally:
            nested.rollback()
        status = resp.status_code
        resp.close()
        if status >= 500:
            failures.append(f"{method} {rule} as {role}: {status}")
        elif role in allowed and status in (401, 403):
            failures.append(f"{method} {rule} as {role}: refused with {status} but should be allowed")
        elif role not in allowed and (role != "suspended" or allowed != PUBLIC) and status not in (401, 403, 404):
            failures.append(f"{method} {rule} as {role}: {status} but should be refused")
        elif role in ("anonymous", "suspended") and role not in allowed and allowed != PUBLIC and status != 401:
            failures.append(f"{method} {rule} as {role}: {status}, expected 401")
    assert not failures, "\n".join(failures)
