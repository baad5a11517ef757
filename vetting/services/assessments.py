"""The assessment lifecycle: submitting and withdrawing re-evaluate the enterprise at once.

Each transition changes the assessment, stores the enterprise's new decision and appends the
audit events in one transaction: either all of it is committed or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import Conflict, NotFound, PermissionDenied, ValidationError
from vetting.models import Account, Assessment, AssessmentStatus, Decision, Role, Ruleset
from vetting.services import audit
from vetting.services.actors import Actor
from vetting.services.evaluation import evaluate_enterprise
from vetting.services.memberships import fix_standing
from vetting.services.rulesets import document_of


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

    from vetting.models import Ruleset
    from vetting.services.assessment_input import parse

    ruleset = session.get(Ruleset, assessment.ruleset_id)
    parse(stored_payload(assessment), document_of(ruleset), complete=True)
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = clock.now(session)
    fix_standing(session, assessment)
    session.flush()
    decision = _reevaluate(session, actor, assessment.enterprise_id, f"assessment.submit:{assessment.id}", [
        ("assessment.submit", "assessment", assessment.id, {"enterprise_id": assessment.enterprise_id})])
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
    assessment.withdrawn_at = clock.now(session)
    assessment.withdraw_reason = reason.strip()
    session.flush()
    decision = _reevaluate(session, actor, assessment.enterprise_id, f"assessment.withdraw:{assessment.id}", [
        ("assessment.withdraw", "assessment", assessment.id, {"enterprise_id": assessment.enterprise_id, "reason": assessment.withdraw_reason})])
    return assessment, decision


def _reevaluate(session: Session, actor: Actor, enterprise_id: int, trigger: str, events: list, ruleset: Ruleset | None = None) -> Decision:
    """Re-evaluate the enterprise after a change and commit, with the change's audit ``events``,
    the proposal's if any and the decision's appended together at the end: the audit chain is
    locked from the first append to the commit, so appending last keeps concurrent submissions
    from waiting on each other's evaluation."""
    decision = evaluate_enterprise(session, actor, enterprise_id, trigger=trigger, ruleset=ruleset, audit_events=events)
    events.append(("decision.store", "decision", decision.id,
                   {"enterprise_id": decision.enterprise_id, "outcome": decision.outcome.value, "reasons": decision.reason_codes}))
    audit.append_many(session, actor, events)
    session.commit()
    return decision


# -- drafts ------------------------------------------------------------------------------------

def _require_reviewer(actor: Actor) -> Account:
    if not isinstance(actor, Account) or actor.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN):
        raise PermissionDenied("only reviewers and association admins file assessments")
    return actor


def check_targets(session: Session, enterprise_id: int, project_id: int | None) -> tuple[int, int | None]:
    """The enterprise an assessment names exists and was not merged away, and its project (if
    any) belongs to it; else a 422 naming the field."""
    from vetting.models import Enterprise, Project

    with session.no_autoflush:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise ValidationError("the assessment has errors", {"enterprise_id": [f"no enterprise {enterprise_id}"]})
        if enterprise.merged_into_id is not None:
            raise ValidationError("the assessment has errors", {"enterprise_id": [
                f"enterprise {enterprise.id} was merged into {enterprise.merged_into_id}; file against that one"]})
        if project_id is not None:
            project = session.get(Project, project_id)
            if project is None or project.enterprise_id != enterprise.id:
                raise ValidationError("the assessment has errors", {"project_id": ["not a project of this enterprise"]})
    return enterprise.id, project_id


def _apply(session: Session, assessment: Assessment, data: dict) -> None:
    """Write parsed input onto an assessment (replacing scores/findings/evidence if given)."""
    from vetting.models import CriterionScore, EvidenceReference, FindingStatus, KnockoutFinding

    if "enterprise_id" in data or data.get("project_id") is not None:
        enterprise_id, project_id = check_targets(session, data.get("enterprise_id", assessment.enterprise_id), data.get("project_id"))
        assessment.enterprise_id = enterprise_id
        if project_id is not None:
            assessment.project_id = project_id
    if "summary" in data:
        assessment.summary = data["summary"]
    if data.get("conflict") is not None:
        assessment.conflict_declared = data["conflict"]["declared"]
        assessment.conflict_note = data["conflict"].get("note")
    if "scores" in data or "knockouts" in data:
        keep_scores = "scores" not in data
        keep_findings = "knockouts" not in data
        if not keep_scores:
            assessment.scores.clear()
        if not keep_findings:
            assessment.findings.clear()
        assessment.evidence[:] = [e for e in assessment.evidence
                                  if (keep_scores and e.criterion is not None) or (keep_findings and e.finding_id is not None)]
        if assessment.id is not None:
            session.flush()
        for code, entry in (data.get("scores") or {}).items():
            assessment.scores.append(CriterionScore(criterion=code, score=entry["score"], justification=entry.get("justification")))
            for ev in entry["evidence"]:
                assessment.evidence.append(EvidenceReference(criterion=code, kind=ev["kind"], reference=ev["reference"],
                                                             description=ev.get("description"), sha256=ev.get("sha256")))
        for ko in data.get("knockouts") or []:
            finding = KnockoutFinding(code=ko["code"], status=FindingStatus(ko["status"]), description=ko.get("description") or "")
            assessment.findings.append(finding)
            for ev in ko["evidence"]:
                assessment.evidence.append(EvidenceReference(finding=finding, kind=ev["kind"], reference=ev["reference"],
                                                             description=ev.get("description"), sha256=ev.get("sha256")))


def create_draft(session: Session, actor: Actor, payload: dict) -> Assessment:
    """File a draft assessment against the active ruleset; it counts only once submitted."""

    from vetting.services.assessment_input import parse
    from vetting.services.rulesets import active_ruleset

    account = _require_reviewer(actor)
    ruleset = active_ruleset(session)
    data = parse(payload, document_of(ruleset), complete=False)
    assessment = Assessment(association_id=account.association_id, reviewer_id=account.id, ruleset_id=ruleset.id,
                            status=AssessmentStatus.DRAFT)
    with session.no_autoflush:
        _apply(session, assessment, data)
    session.add(assessment)
    session.flush()
    audit.record(session, actor, "assessment.create", "assessment", assessment.id,
                 {"enterprise_id": assessment.enterprise_id, "ruleset": ruleset.version})
    session.commit()
    return assessment


@dataclass
class Submitted:
    """A new assessment filed and submitted in one step, the decision it moved, and its scores
    and knock-outs in the form :func:`stored_payload` gives (built from what was stored)."""

    assessment: Assessment
    decision: Decision
    payload: dict


def file_and_submit(session: Session, actor: Actor, payload: dict) -> tuple[Assessment, Decision]:
    """File a complete assessment and submit it in one transaction: it counts at once, and the
    enterprise is re-evaluated (what :func:`create_draft` then :func:`submit` do, in one step)."""
    filed = file_submitted(session, actor, payload)
    return filed.assessment, filed.decision


def file_submitted(session: Session, actor: Actor, payload: dict) -> Submitted:
    """:func:`file_and_submit`, with the stored scores and knock-outs for the answer.

    The assessment's row goes through the ORM; its score, evidence and finding rows are
    inserted as rows (some forty per assessment, which the unit of work would otherwise track
    object by object). Its collections stay unloaded and read what was stored when used."""

    from vetting.services.assessment_input import parse
    from vetting.services.rulesets import active_ruleset

    account = _require_reviewer(actor)
    ruleset = active_ruleset(session)
    data = parse(payload, document_of(ruleset), complete=True)
    enterprise_id, project_id = check_targets(session, data["enterprise_id"], data.get("project_id"))
    assessment = Assessment(association_id=account.association_id, reviewer_id=account.id, ruleset=ruleset,
                            status=AssessmentStatus.SUBMITTED, submitted_at=clock.now(session),
                            enterprise_id=enterprise_id, project_id=project_id, summary=data.get("summary"),
                            conflict_declared=data["conflict"]["declared"], conflict_note=data["conflict"].get("note"))
    fix_standing(session, assessment)
    session.add(assessment)
    session.flush()
    finding_ids = insert_children(session, [(assessment.id, data)])
    decision = _reevaluate(session, actor, assessment.enterprise_id, f"assessment.submit:{assessment.id}", [
        ("assessment.create", "assessment", assessment.id, {"enterprise_id": assessment.enterprise_id, "ruleset": ruleset.version}),
        ("assessment.submit", "assessment", assessment.id, {"enterprise_id": assessment.enterprise_id}),
    ], ruleset)
    return Submitted(assessment, decision, payload_of(data, finding_ids))


def insert_children(session: Session, items: list[tuple[int, dict]]) -> list[int]:
    """Insert the score, knock-out finding and evidence rows of parsed assessments
    (``(assessment id, parsed input)`` pairs), a statement per table; returns the new findings'
    ids in input order."""
    from vetting.models import CriterionScore, EvidenceReference, FindingStatus, KnockoutFinding
    from vetting.services.rows import insert_rows

    scores, evidence, findings, finding_evidence = [], [], [], []
    for assessment_id, data in items:
        for code, entry in data["scores"].items():
            scores.append({"assessment_id": assessment_id, "criterion": code, "score": entry["score"],
                           "justification": entry.get("justification")})
            evidence += [{"assessment_id": assessment_id, "criterion": code, "finding_id": None, "kind": ev["kind"],
                          "reference": ev["reference"], "description": ev.get("description"), "sha256": ev.get("sha256")}
                         for ev in entry.get("evidence") or ()]
        for ko in data.get("knockouts") or ():
            findings.append({"assessment_id": assessment_id, "code": ko["code"], "status": FindingStatus(ko["status"]),
                             "description": ko.get("description") or ""})
            finding_evidence.append((assessment_id, ko.get("evidence") or ()))
    insert_rows(session, CriterionScore, scores)
    finding_ids = insert_rows(session, KnockoutFinding, findings, return_ids=True)
    for finding_id, (assessment_id, refs) in zip(finding_ids, finding_evidence):
        evidence += [{"assessment_id": assessment_id, "criterion": None, "finding_id": finding_id, "kind": ev["kind"],
                      "reference": ev["reference"], "description": ev.get("description"), "sha256": ev.get("sha256")}
                     for ev in refs]
    insert_rows(session, EvidenceReference, evidence)
    return finding_ids


def payload_of(data: dict, finding_ids: list[int]) -> dict:
    """What :func:`stored_payload` reads back for an assessment stored by
    :func:`insert_children` from parsed input ``data`` (its findings' ids in ``finding_ids``)."""
    scores = {}
    for code, entry in sorted(data["scores"].items()):  # stored scores are read in criterion order
        out = {"score": "n/a" if entry["score"] is None else entry["score"],
               "evidence": [{"kind": ev["kind"], "reference": ev["reference"]} for ev in entry.get("evidence") or ()]}
        if entry.get("justification") is not None:
            out = {"score": out["score"], "justification": entry["justification"], "evidence": out["evidence"]}
        scores[code] = out
    knockouts = [{"code": ko["code"], "status": ko["status"], "description": ko.get("description") or "",
                  "evidence": [{"kind": ev["kind"], "reference": ev["reference"]} for ev in ko.get("evidence") or ()]}
                 for ko, _id in zip(data.get("knockouts") or (), finding_ids)]
    payload: dict = {"enterprise_id": data["enterprise_id"], "scores": scores, "knockouts": knockouts}
    if data.get("conflict") is not None:
        payload["conflict"] = {"declared": data["conflict"]["declared"], "note": data["conflict"].get("note")}
    return payload


def update_draft(session: Session, actor: Actor, assessment_id: int, payload: dict, *, if_match: int | None) -> Assessment:
    """Change a draft. ``if_match`` must be the version the caller read (else 412)."""

    from vetting.errors import PreconditionFailed
    from vetting.models import Ruleset
    from vetting.services.assessment_input import parse

    assessment = _load_for_action(session, actor, assessment_id)
    if if_match is None:
        raise PreconditionFailed("send If-Match with the ETag you read, so a concurrent change is not overwritten")
    if assessment.version != if_match:
        raise PreconditionFailed(f"assessment {assessment_id} changed since you read it (version {assessment.version}, "
                                 f"yours {if_match}); read it again", current_version=assessment.version)
    if assessment.status is not AssessmentStatus.DRAFT:
        raise Conflict(f"assessment {assessment_id} is {assessment.status.value}; amend it instead", conflicting_id=assessment_id)
    payload = dict(payload or {})
    payload.setdefault("enterprise_id", assessment.enterprise_id)
    ruleset = session.get(Ruleset, assessment.ruleset_id)
    data = parse(payload, document_of(ruleset), complete=False, partial=True)
    _apply(session, assessment, {k: v for k, v in data.items() if k in payload})
    assessment.updated_at = clock.now(session)
    session.flush()
    audit.record(session, actor, "assessment.update", "assessment", assessment.id, {"fields": sorted(payload)})
    session.commit()
    return assessment


def stored_payload(assessment: Assessment) -> dict:
    """The stored assessment in input form (to re-check it at submission)."""
    by_criterion: dict[str, list[dict]] = {}
    by_finding: dict[int, list[dict]] = {}
    for e in assessment.evidence:
        item = {"kind": e.kind, "reference": e.reference}
        if e.finding_id is not None:
            by_finding.setdefault(e.finding_id, []).append(item)
        elif e.criterion is not None:
            by_criterion.setdefault(e.criterion, []).append(item)
    payload: dict = {
        "enterprise_id": assessment.enterprise_id,
        "scores": {s.criterion: {"score": "n/a" if s.score is None else s.score, "justification": s.justification,
                                 "evidence": by_criterion.get(s.criterion, [])} for s in assessment.scores},
        "knockouts": [{"code": f.code, "status": f.status.value, "description": f.description, "evidence": by_finding.get(f.id, [])}
                      for f in assessment.findings],
    }
    if assessment.conflict_declared is not None:
        payload["conflict"] = {"declared": assessment.conflict_declared, "note": assessment.conflict_note}
    for entry in payload["scores"].values():
        if entry["justification"] is None:
            del entry["justification"]
    return payload


def amend(session: Session, actor: Actor, assessment_id: int, payload: dict) -> tuple[Assessment, Decision]:
    """Replace a submitted assessment by a new version: the new one is submitted and counts, the
    old one becomes ``superseded`` and stays readable; the enterprise is re-evaluated."""

    from vetting.services.assessment_input import parse
    from vetting.services.rulesets import active_ruleset

    old = _load_for_action(session, actor, assessment_id)
    if old.status is not AssessmentStatus.SUBMITTED:
        raise Conflict(f"assessment {assessment_id} is {old.status.value}; only a submitted one can be amended",
                       conflicting_id=assessment_id)
    ruleset = active_ruleset(session)
    payload = dict(payload or {})
    payload.setdefault("enterprise_id", old.enterprise_id)
    if payload["enterprise_id"] != old.enterprise_id:
        raise ValidationError("an amendment is about the same enterprise", {"enterprise_id": [f"must be {old.enterprise_id}"]})
    data = parse(payload, document_of(ruleset), complete=True)
    new = Assessment(association_id=old.association_id, reviewer_id=actor.id if isinstance(actor, Account) else old.reviewer_id,
                     ruleset_id=ruleset.id, status=AssessmentStatus.SUBMITTED, supersedes_id=old.id,
                     project_id=old.project_id, submitted_at=clock.now(session))
    with session.no_autoflush:
        _apply(session, new, data)
        fix_standing(session, new, amended_from=old.standing)
    old.status = AssessmentStatus.SUPERSEDED
    session.flush()
    session.add(new)
    session.flush()
    decision = _reevaluate(session, actor, new.enterprise_id, f"assessment.amend:{new.id}", [
        ("assessment.amend", "assessment", new.id, {"supersedes": old.id, "enterprise_id": new.enterprise_id})])
    return new, decision


@dataclass(frozen=True)
class Filed:
    """What filing from the web form did: the assessment, and when it was submitted, the
    enterprise's decision before and after."""

    assessment: Assessment
    before: Decision | None
    after: Decision | None


def file(session: Session, actor: Actor, payload: dict, *, submit_now: bool, assessment_id: int | None = None,
         if_match: int | None = None) -> Filed:
    """Save a draft (new, or ``assessment_id`` at version ``if_match``) and, with
    ``submit_now``, submit it. A submission is checked for completeness before anything is
    written, so a refused submission leaves no half-saved change behind."""

    from vetting.services.assessment_input import parse
    from vetting.services.evaluation import latest_decision
    from vetting.services.rulesets import active_ruleset

    if submit_now and assessment_id is None:
        before = latest_decision(session, payload.get("enterprise_id")) if isinstance(payload.get("enterprise_id"), int) else None
        assessment, after = file_and_submit(session, actor, payload)
        return Filed(assessment, before, after)
    if submit_now:
        parse(payload, document_of(active_ruleset(session)), complete=True)
    if assessment_id is None:
        assessment = create_draft(session, actor, payload)
    else:
        assessment = update_draft(session, actor, assessment_id, payload, if_match=if_match)
    if not submit_now:
        return Filed(assessment, None, None)
    before = latest_decision(session, assessment.enterprise_id)
    assessment, after = submit(session, actor, assessment.id)
    return Filed(assessment, before, after)


@dataclass(frozen=True)
class DashboardRow:
    assessment: Assessment
    before: Decision | None  # the enterprise's decision just before this assessment's submission
    after: Decision | None  # the decision its submission (or amendment) stored
    current: Decision | None  # the enterprise's latest decision


def dashboard(session: Session, actor: Actor, *, limit: int = 100, assessment_id: int | None = None) -> list[DashboardRow]:
    """The assessments an account works with (its association's; registrars: everyone's),
    newest first, each with the decision it moved; with ``assessment_id``, just that one."""
    from sqlalchemy import func, or_, select
    from sqlalchemy.orm import load_only

    light = load_only(Decision.id, Decision.enterprise_id, Decision.outcome, Decision.reason_codes, Decision.total_score,
                      Decision.trigger, Decision.created_at)
    account = actor if isinstance(actor, Account) else None
    query = select(Assessment).order_by(Assessment.id.desc()).limit(limit)
    if account is not None and account.role is not Role.REGISTRAR:
        query = query.where(Assessment.association_id == account.association_id)
    if assessment_id is not None:
        query = query.where(Assessment.id == assessment_id)
    assessments = session.scalars(query).all()
    if not assessments:
        return []
    triggers = {f"assessment.submit:{a.id}": a.id for a in assessments} | {f"assessment.amend:{a.id}": a.id for a in assessments}
    moved = {triggers[d.trigger]: d for d in session.scalars(select(Decision).options(light).where(Decision.trigger.in_(list(triggers))))}
    enterprise_ids = {a.enterprise_id for a in assessments}
    latest_ids = select(func.max(Decision.id)).where(Decision.enterprise_id.in_(enterprise_ids)).group_by(Decision.enterprise_id)
    current = {d.enterprise_id: d for d in session.scalars(select(Decision).options(light).where(Decision.id.in_(latest_ids)))}
    before: dict[int, Decision] = {}
    if moved:
        conditions = [(Decision.enterprise_id == d.enterprise_id) & (Decision.id < d.id) for d in moved.values()]
        earlier = session.scalars(select(Decision).options(light).where(or_(*conditions)).order_by(Decision.id)).all()
        for aid, d in moved.items():
            candidates = [e for e in earlier if e.enterprise_id == d.enterprise_id and e.id < d.id]
            if candidates:
                before[aid] = candidates[-1]
    return [DashboardRow(a, before.get(a.id), moved.get(a.id), current.get(a.enterprise_id)) for a in assessments]


def visible(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """An assessment the actor may read: its association's (registrars: any); else 404."""
    assessment = session.get(Assessment, assessment_id)
    account = actor if isinstance(actor, Account) else None
    if assessment is None or (account is not None and account.role is not Role.REGISTRAR
                              and account.association_id != assessment.association_id):
        raise NotFound(f"no assessment {assessment_id}")
    return assessment


def validate(session: Session, actor: Actor, payload: dict, *, complete: bool = True) -> str:
    """Check ``payload`` as :func:`create_draft` (``complete``: as :func:`submit`) would,
    writing nothing; returns the version of the ruleset it was checked against."""

    from vetting.services.assessment_input import parse
    from vetting.services.rulesets import active_ruleset

    _require_reviewer(actor)
    ruleset = active_ruleset(session)
    data = parse(payload, document_of(ruleset), complete=complete)
    check_targets(session, data["enterprise_id"], data.get("project_id"))
    return ruleset.version
