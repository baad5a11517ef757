"""The assessment lifecycle: submitting and withdrawing re-evaluate the enterprise at once.

Each transition changes the assessment, stores the enterprise's new decision and appends the
audit events in one transaction: either all of it is committed or none of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from vetting.errors import Conflict, NotFound, PermissionDenied, ValidationError
from vetting.models import Account, Assessment, AssessmentStatus, Decision, Role
from vetting.models.types import utcnow
from vetting.services import audit
from vetting.services.actors import Actor
from vetting.services.evaluation import evaluate_enterprise


def _load_for_action(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(f"no assessment {assessment_id}")
    if isinstance(actor, Account):
        same_association = actor.association_id == assessment.association_id
        if actor.role is Role.REGISTRAR or not same_association:
            # Another association's assessment is not even acknowledged to exist.
            raise NotFound(f"no assessment {assessment_id}")
        if actor.role is Role.REVIEWER and actor.id != assessment.reviewer_id:
            raise PermissionDenied("only the reviewer who wrote it or an association admin can do this")
    return assessment


def submit(session: Session, actor: Actor, assessment_id: int) -> tuple[Assessment, Decision]:
    """Submit a draft: it starts counting, and the enterprise is re-evaluated."""
    assessment = _load_for_action(session, actor, assessment_id)
    if assessment.status is not AssessmentStatus.DRAFT:
        raise Conflict(f"assessment {assessment_id} is {assessment.status.value}, not a draft", conflicting_id=assessment_id)
    if assessment.conflict_declared is None:
        raise ValidationError("declare a conflict of interest (true or false) before submitting",
                              {"conflict_declared": ["a declaration is required"]})
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = utcnow()
    session.flush()
    audit.record(session, actor, "assessment.submit", "assessment", assessment.id, {"enterprise_id": assessment.enterprise_id})
    decision = evaluate_enterprise(session, actor, assessment.enterprise_id, trigger=f"assessment.submit:{assessment.id}")
    audit.record(session, actor, "decision.store", "decision", decision.id,
                 {"enterprise_id": decision.enterprise_id, "outcome": decision.outcome.value, "reasons": decision.reason_codes})
    session.commit()
    return assessment, decision


def withdraw(session: Session, actor: Actor, assessment_id: int, reason: str) -> tuple[Assessment, Decision]:
    """Withdraw a submitted assessment: it stays readable but stops counting; re-evaluate."""
    if not (reason or "").strip():
        raise ValidationError("say why the assessment is withdrawn", {"reason": ["a reason is required"]})
    assessment = _load_for_action(session, actor, assessment_id)
    if assessment.status is not AssessmentStatus.SUBMITTED:
        raise Conflict(f"assessment {assessment_id} is {assessment.status.value}; only a submitted one can be withdrawn",
                       conflicting_id=assessment_id)
    assessment.status = AssessmentStatus.WITHDRAWN
    assessment.withdrawn_at = utcnow()
    assessment.withdraw_reason = reason.strip()
    session.flush()
    audit.record(session, actor, "assessment.withdraw", "assessment", assessment.id,
                 {"enterprise_id": assessment.enterprise_id, "reason": assessment.withdraw_reason})
    decision = evaluate_enterprise(session, actor, assessment.enterprise_id, trigger=f"assessment.withdraw:{assessment.id}")
    audit.record(session, actor, "decision.store", "decision", decision.id,
                 {"enterprise_id": decision.enterprise_id, "outcome": decision.outcome.value, "reasons": decision.reason_codes})
    session.commit()
    return assessment, decision
