"""Evaluation: build the engine's facts from stored rows, run the engine, store the decision.

Facts are loaded with a handful of set-based queries per batch of enterprises (never one query
per assessment), so re-evaluating the whole register scales with the number of rows, not the
number of round trips. The stored decision keeps the canonical facts it was computed from, so
anyone can replay it later and get the byte-identical document.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vetting import clock, rules
from vetting.errors import NotFound
from vetting.models import (
    Assessment,
    AssessmentStatus,
    Association,
    CriterionScore,
    Decision,
    Enterprise,
    EvidenceReference,
    KnockoutFinding,
    Membership,
    Outcome,
    Project,
    Ruleset,
)
from vetting.services.actors import SYSTEM, Actor, actor_id
from vetting.services.rulesets import active_ruleset

#: Statuses that are inputs to a decision. Drafts are private work in progress and are not.
_INPUT_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.WITHDRAWN, AssessmentStatus.SUPERSEDED)


_compiled_cache: dict[str, rules.CompiledRuleset] = {}


def compiled(ruleset: Ruleset) -> rules.CompiledRuleset:
    """The compiled form of a stored ruleset (cached by content hash, which never changes)."""
    hit = _compiled_cache.get(ruleset.content_hash)
    if hit is None:
        hit = rules.compile_ruleset(json.loads(ruleset.document))
        if hit.hash != ruleset.content_hash:
            raise RuntimeError(f"ruleset {ruleset.version} does not hash to its stored content hash")
        _compiled_cache[ruleset.content_hash] = hit
    return hit


def load_facts(session: Session, enterprise_ids: Sequence[int]) -> dict[int, rules.EnterpriseFacts]:
    """Facts for each of ``enterprise_ids`` in six set-based queries."""
    ids = list(enterprise_ids)
    members: dict[int, set[str]] = defaultdict(set)
    for ent_id, code in session.execute(
        select(Membership.enterprise_id, Association.code)
        .join(Association, Association.id == Membership.association_id)
        .where(Membership.enterprise_id.in_(ids), Membership.ended_on.is_(None))
    ):
        members[ent_id].add(code)

    projects: dict[int, list[rules.ProjectFacts]] = defaultdict(list)
    for row in session.execute(
        select(Project.id, Project.enterprise_id, Project.host_country, Project.equator_category, Project.brigc_class)
        .where(Project.enterprise_id.in_(ids)).order_by(Project.id)
    ):
        projects[row.enterprise_id].append(
            rules.ProjectFacts(
                id=row.id, host_country=row.host_country,
                equator_category=row.equator_category.value if row.equator_category else None,
                brigc_class=row.brigc_class.value if row.brigc_class else None,
            )
        )

    assessment_rows = session.execute(
        select(Assessment.id, Assessment.enterprise_id, Association.code, Assessment.status, Assessment.conflict_declared,
               Assessment.project_id, Assessment.submitted_at)
        .join(Association, Association.id == Assessment.association_id)
        .where(Assessment.enterprise_id.in_(ids), Assessment.status.in_(_INPUT_STATUSES))
        .order_by(Assessment.id)
    ).all()
    a_ids = [r.id for r in assessment_rows]

    # Rows are unpacked as tuples and facts built positionally: this loop runs once per
    # stored score and evidence row, so it is kept free of per-row attribute lookups.
    Evidence, Score, Finding = rules.Evidence, rules.CriterionScore, rules.KnockoutFinding
    evidence_by_criterion: dict[tuple[int, str], list[rules.Evidence]] = {}
    evidence_by_finding: dict[int, list[rules.Evidence]] = defaultdict(list)
    scores: dict[int, list[rules.CriterionScore]] = defaultdict(list)
    findings: dict[int, list[rules.KnockoutFinding]] = defaultdict(list)
    for chunk in _chunks(a_ids, 5000):
        for aid, criterion, finding_id, kind, reference in session.execute(
            select(EvidenceReference.assessment_id, EvidenceReference.criterion, EvidenceReference.finding_id,
                   EvidenceReference.kind, EvidenceReference.reference)
            .where(EvidenceReference.assessment_id.in_(chunk)).order_by(EvidenceReference.id)
        ):
            if finding_id is not None:
                evidence_by_finding[finding_id].append(Evidence(kind, reference))
            elif criterion is not None:
                key = (aid, criterion)
                found = evidence_by_criterion.get(key)
                if found is None:
                    evidence_by_criterion[key] = [Evidence(kind, reference)]
                else:
                    found.append(Evidence(kind, reference))
        get_evidence = evidence_by_criterion.get
        for aid, criterion, score, justification in session.execute(
            select(CriterionScore.assessment_id, CriterionScore.criterion, CriterionScore.score, CriterionScore.justification)
            .where(CriterionScore.assessment_id.in_(chunk)).order_by(CriterionScore.assessment_id, CriterionScore.criterion)
        ):
            ev = get_evidence((aid, criterion))
            scores[aid].append(Score(criterion, score, justification, tuple(ev) if ev else ()))
        for fid, aid, code, status, description in session.execute(
            select(KnockoutFinding.id, KnockoutFinding.assessment_id, KnockoutFinding.code, KnockoutFinding.status,
                   KnockoutFinding.description)
            .where(KnockoutFinding.assessment_id.in_(chunk)).order_by(KnockoutFinding.id)
        ):
            findings[aid].append(Finding(code, status.value, tuple(evidence_by_finding.get(fid, ())), description or ""))

    assessments: dict[int, list[rules.AssessmentFacts]] = defaultdict(list)
    for r in assessment_rows:
        assessments[r.enterprise_id].append(
            rules.AssessmentFacts(
                id=r.id,
                association=r.code,
                status=r.status.value,
                conflict_declared=bool(r.conflict_declared),
                scores=tuple(scores.get(r.id, ())),
                knockouts=tuple(findings.get(r.id, ())),
                project_id=r.project_id,
                submitted_at=r.submitted_at.isoformat() if r.submitted_at else None,
            )
        )
    return {
        ent_id: rules.EnterpriseFacts(
            enterprise_id=ent_id,
            member_associations=frozenset(members.get(ent_id, ())),
            projects=tuple(projects.get(ent_id, ())),
            assessments=tuple(assessments.get(ent_id, ())),
        )
        for ent_id in ids
    }


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _decision_values(ruleset: Ruleset, facts: rules.EnterpriseFacts, result: rules.Decision, trigger: str,
                     actor: Actor | None, now: datetime) -> dict:
    return {
        "enterprise_id": facts.enterprise_id,
        "ruleset_id": ruleset.id,
        "outcome": Outcome(result.outcome),
        "reason_codes": list(result.reason_codes),
        "total_score": result.total,
        "pillar_scores": dict(result.pillars),
        "document": rules.decision_bytes(result).decode("utf-8"),
        "inputs": result.inputs.decode("utf-8"),
        "input_hash": result.input_hash,
        "engine_version": rules.ENGINE_VERSION,
        "trigger": trigger,
        "triggered_by_id": actor_id(actor) if actor is not None else None,
        "created_at": now,
    }


def evaluate_enterprise(session: Session, actor: Actor, enterprise_id: int, *, trigger: str,
                        ruleset: Ruleset | None = None) -> Decision:
    """Evaluate one enterprise under the active ruleset and store the decision (flushes only:
    the calling service owns the transaction)."""
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    ruleset = ruleset or active_ruleset(session)
    facts = load_facts(session, [enterprise_id])[enterprise_id]
    result = rules.evaluate(compiled(ruleset), facts)
    decision = Decision(**_decision_values(ruleset, facts, result, trigger, actor, clock.now(session)))
    session.add(decision)
    session.flush()
    from vetting.services import listings

    listings.on_decision(session, actor or SYSTEM, decision)
    return decision


@dataclass
class BulkResult:
    evaluated: int = 0
    seconds_loading: float = 0.0
    seconds_engine: float = 0.0
    seconds_storing: float = 0.0


def evaluate_many(session: Session, actor: Actor | None, enterprise_ids: Iterable[int], *, trigger: str,
                  ruleset: Ruleset | None = None, batch: int = 2000, progress=None) -> BulkResult:  # noqa: ANN001
    """Evaluate many enterprises in batches and store every decision (flushes per batch)."""
    import time

    ruleset = ruleset or active_ruleset(session)
    engine_rules = compiled(ruleset)
    out = BulkResult()
    ids = list(enterprise_ids)
    for chunk in _chunks(ids, batch):
        t0 = time.perf_counter()
        facts = load_facts(session, chunk)
        t1 = time.perf_counter()
        # The engine allocates many short-lived trees and no reference cycles; pausing the
        # cyclic collector for a batch stops it from re-scanning the session's objects.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            results = [(f, rules.evaluate(engine_rules, f)) for f in facts.values()]
        finally:
            if gc_was_enabled:
                gc.enable()
        t2 = time.perf_counter()
        now = clock.now(session)
        ids = list(session.scalars(insert(Decision).returning(Decision.id, sort_by_parameter_order=True),
                                   [_decision_values(ruleset, f, r, trigger, actor, now) for f, r in results]))
        _propose(session, actor, [(f.enterprise_id, r.outcome, i) for (f, r), i in zip(results, ids)])
        t3 = time.perf_counter()
        out.evaluated += len(results)
        out.seconds_loading += t1 - t0
        out.seconds_engine += t2 - t1
        out.seconds_storing += t3 - t2
        if progress:
            progress(len(results))
    return out


def _propose(session: Session, actor: Actor | None, outcomes: list[tuple[int, str, int]]) -> None:
    """Hand the decisions that call for a change of list to the listings service, reading the
    batch's current listings and proposals in one query."""
    from vetting.models import Listing, ListingStatus, ListType
    from vetting.services import listings

    enterprise_ids = [e for e, _o, _d in outcomes]
    active: dict[int, ListType] = {}
    proposed: dict[int, tuple[str, ListType]] = {}
    for ent_id, status, list_type, kind in session.execute(
        select(Listing.enterprise_id, Listing.status, Listing.list_type, Listing.kind)
        .where(Listing.enterprise_id.in_(enterprise_ids), Listing.status.in_([ListingStatus.ACTIVE, ListingStatus.PROPOSED]))
    ):
        if status is ListingStatus.ACTIVE:
            active[ent_id] = list_type
        else:
            proposed[ent_id] = (kind, list_type)
    for ent_id, outcome, decision_id in outcomes:
        if proposed.get(ent_id) == listings.called_for(outcome, active.get(ent_id)):
            continue  # nothing to propose or withdraw: the listings service would do nothing
        listings.on_decision(session, actor or SYSTEM, session.get(Decision, decision_id))


def latest_decision(session: Session, enterprise_id: int) -> Decision | None:
    return session.scalar(
        select(Decision).where(Decision.enterprise_id == enterprise_id).order_by(Decision.id.desc()).limit(1)
    )


def reevaluate_all(session: Session, actor: Actor | None, *, count_only: bool = False, progress=None):  # noqa: ANN001, ANN201
    """Re-evaluate every (unmerged) enterprise under the active ruleset and commit."""
    from sqlalchemy import func

    from vetting.services import audit
    from vetting.services.actors import SystemActor

    where = Enterprise.merged_into_id.is_(None)
    if count_only:
        return session.scalar(select(func.count()).select_from(Enterprise).where(where))
    ids = session.scalars(select(Enterprise.id).where(where).order_by(Enterprise.id)).all()
    result = evaluate_many(session, actor, ids, trigger="reevaluate", progress=progress)
    audit.record(session, actor or SystemActor("cli"), "decisions.reevaluate", "ruleset",
                 active_ruleset(session).version, {"enterprises": result.evaluated})
    session.commit()
    return result
