"""Submitting and withdrawing an assessment re-evaluates the enterprise in the same transaction."""

import json

import pytest
from sqlalchemy import func, select

from vetting.errors import Conflict, NotFound, ValidationError
from vetting.models import Assessment, AssessmentStatus, CriterionScore, Decision, EvidenceReference, Membership
from vetting.services import assessments as service
from vetting.services.rulesets import active_ruleset

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


@pytest.fixture()
def make_assessment(session, make_account):
    def _make(enterprise, reviewer, score=3, conflict=False, status=AssessmentStatus.DRAFT):
        a = Assessment(enterprise_id=enterprise.id, association_id=reviewer.association_id, reviewer_id=reviewer.id,
                       ruleset_id=active_ruleset(session).id, status=status, conflict_declared=conflict)
        for c in CRITERIA:
            a.scores.append(CriterionScore(criterion=c, score=score))
            a.evidence.append(EvidenceReference(criterion=c, kind="document", reference=f"report {c}"))
        session.add(a)
        session.flush()
        return a

    return _make


def test_submissions_move_the_decision_and_withdrawal_moves_it_back(session, make_enterprise, make_account, make_assessment):
    ent = make_enterprise()
    reviewers = [make_account("reviewer") for _ in range(3)]
    session.add(Membership(association_id=reviewers[0].association_id, enterprise_id=ent.id))
    drafts = [make_assessment(ent, r) for r in reviewers]
    outcomes = []
    for draft, reviewer in zip(drafts, reviewers):
        _a, decision = service.submit(session, reviewer, draft.id)
        outcomes.append((decision.outcome.value, decision.reason_codes))
    assert outcomes[0] == ("NONE", ["QUORUM_NOT_MET"]) and outcomes[1] == ("NONE", ["QUORUM_NOT_MET"])
    assert outcomes[2] == ("RED", ["MEETS_RED"])
    _a, decision = service.withdraw(session, reviewers[1], drafts[1].id, "the site visit report was for another project")
    assert decision.outcome.value == "NONE"
    doc = json.loads(decision.document)
    assert {"assessment": drafts[1].id, "association": reviewers[1].association.code, "reason": "withdrawn"} in doc["assessments"]["excluded"]
    assert session.scalar(select(func.count()).select_from(Decision).where(Decision.enterprise_id == ent.id)) == 4


def test_lifecycle_rules(session, make_enterprise, make_account, make_assessment):
    ent = make_enterprise()
    reviewer = make_account("reviewer")
    other = make_account("reviewer")
    draft = make_assessment(ent, reviewer)
    with pytest.raises(NotFound):
        service.submit(session, other, draft.id)
    with pytest.raises(ValidationError):
        service.withdraw(session, reviewer, draft.id, " ")
    with pytest.raises(Conflict):
        service.withdraw(session, reviewer, draft.id, "not submitted yet")
    draft.conflict_declared = None
    with pytest.raises(ValidationError) as err:
        service.submit(session, reviewer, draft.id)
    assert "conflict" in err.value.errors
    draft.conflict_declared = True
    service.submit(session, reviewer, draft.id)
    with pytest.raises(Conflict):
        service.submit(session, reviewer, draft.id)
    assert session.get(Assessment, draft.id).status is AssessmentStatus.SUBMITTED
