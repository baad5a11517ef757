"""Evaluation: build the engine's facts from stored rows, run the engine, store the decision.

Facts are loaded with a handful of set-based queries per batch of enterprises (never one query
per assessment), so re-evaluating the whole register scales with the number of rows, not the
number of round trips. The stored decision keeps the canonical facts it was computed from, so
anyone can replay it later and get the byte-identical document.

On PostgreSQL the bulk path reads the scores and evidence aggregated as JSON per assessment and
writes decisions with COPY; on other databases it uses plain queries and a bulk INSERT. Both
give the same facts and store the same rows.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from sqlalchemy import BindParameter, ColumnElement, Integer, Text, any_, bindparam, literal, select, text, union_all
from sqlalchemy.dialects import postgresql
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
    Listing,
    Membership,
    Objection,
    Outcome,
    Project,
    RepairRequest,
    RequestStatus,
    Ruleset,
)
from vetting.services.actors import SYSTEM, Actor, actor_id
from vetting.services.rows import chunks, insert_rows
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
    """Facts for each of ``enterprise_ids`` in a handful of set-based queries.

    On PostgreSQL the scores and their evidence, most of the rows, come aggregated per
    assessment (:func:`_load_scores_aggregated`); elsewhere row by row. Both give equal facts in
    the same order (the inputs hash of a decision depends on it)."""
    ids = list(enterprise_ids)
    if len(ids) <= _FEW and _aggregates_scores(session):
        return _facts(ids, *_load_few(session, ids))
    among = _among_for(session)
    members: dict[int, set[str]] = defaultdict(set)
    for ent_id, code in session.execute(
        select(Membership.enterprise_id, Association.code)
        .join(Association, Association.id == Membership.association_id)
        .where(among(Membership.enterprise_id, ids), Membership.ended_on.is_(None))
    ):
        members[ent_id].add(code)

    projects: dict[int, list[rules.ProjectFacts]] = defaultdict(list)
    for row in session.execute(
        select(Project.id, Project.enterprise_id, Project.host_country, Project.equator_category, Project.brigc_class)
        .where(among(Project.enterprise_id, ids)).order_by(Project.id)
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
               Assessment.project_id, Assessment.submitted_at, Assessment.standing)
        .join(Association, Association.id == Assessment.association_id)
        .where(among(Assessment.enterprise_id, ids), Assessment.status.in_(_INPUT_STATUSES))
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
    aggregate = _aggregates_scores(session)
    for chunk in chunks(a_ids, 5000):
        if aggregate:
            _load_scores_aggregated(session, chunk, scores, evidence_by_finding)
        else:
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
            .where(among(KnockoutFinding.assessment_id, chunk)).order_by(KnockoutFinding.id)
        ):
            findings[aid].append(Finding(code, status.value, tuple(evidence_by_finding.get(fid, ())), description or ""))

    challenges: dict[int, list[rules.DecidedChallenge]] = defaultdict(list)
    for row in session.execute(_challenges_query(among, ids)):
        challenges[row[0]].append(_challenge(*row[1:]))
    return _facts(ids, members, projects, assessment_rows, scores, findings, challenges)


def _challenges_query(among: Callable[[ColumnElement, Sequence[int]], ColumnElement[bool]], ids: Sequence[int]):  # noqa: ANN202
    """Upheld objections and granted repairs on the enterprises' listings, with the outcome and
    reason codes of the decision each listing was proposed on: (enterprise id, kind,
    reference, outcome, reason codes, decided at)."""
    objections = (select(Listing.enterprise_id, literal("objection_upheld"), Objection.reference, Decision.outcome,
                         Decision.reason_codes, Objection.decided_at)
                  .join(Listing, Listing.id == Objection.listing_id).join(Decision, Decision.id == Listing.decision_id)
                  .where(among(Listing.enterprise_id, ids), Objection.status == RequestStatus.UPHELD))
    repairs = (select(Listing.enterprise_id, literal("repair_granted"), RepairRequest.reference, Decision.outcome,
                      Decision.reason_codes, RepairRequest.decided_at)
               .join(Listing, Listing.id == RepairRequest.listing_id).join(Decision, Decision.id == Listing.decision_id)
               .where(among(Listing.enterprise_id, ids), RepairRequest.status == RequestStatus.GRANTED))
    return union_all(objections, repairs)


def _challenge(kind: str, reference: str, outcome: Outcome | str, reason_codes: list[str], decided_at: datetime) -> rules.DecidedChallenge:
    return rules.DecidedChallenge(kind=kind, reference=reference, outcome=getattr(outcome, "value", outcome),
                                  reason_codes=tuple(reason_codes), decided_at=_iso(decided_at))


def _iso(at: datetime | None) -> str | None:
    """The one text form of a stored instant in the facts (aware, UTC)."""
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).isoformat()


def _facts(ids: list[int], members: dict[int, set[str]], projects: dict[int, list[rules.ProjectFacts]],
           assessment_rows: Sequence, scores: dict[int, list[rules.CriterionScore]],
           findings: dict[int, list[rules.KnockoutFinding]],
           challenges: dict[int, list[rules.DecidedChallenge]]) -> dict[int, rules.EnterpriseFacts]:
    """The facts of each of ``ids`` from what :func:`load_facts` read, in its orders."""
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
                submitted_at=_iso(r.submitted_at),
                standing=r.standing,
            )
        )
    return {
        ent_id: rules.EnterpriseFacts(
            enterprise_id=ent_id,
            member_associations=frozenset(members.get(ent_id, ())),
            projects=tuple(projects.get(ent_id, ())),
            assessments=tuple(assessments.get(ent_id, ())),
            challenges=tuple(challenges.get(ent_id, ())),
        )
        for ent_id in ids
    }


def _id_array(ids: Sequence[int]) -> BindParameter:
    return bindparam(None, list(ids), type_=postgresql.ARRAY(Integer))


def _among_for(session: Session) -> Callable[[ColumnElement, Sequence[int]], ColumnElement[bool]]:
    """``column IN (ids)``, written for the session's database. On PostgreSQL it is
    ``column = ANY(:array)``: one parameter instead of thousands, which SQLAlchemy and the driver
    otherwise render and parse again for every batch."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda column, ids: column == any_(_id_array(ids))
    return lambda column, ids: column.in_(ids)


def _aggregates_scores(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# The scores and the evidence on criteria, which are the bulk of the facts (19 scores and some
# 15 evidence references per assessment), read as one JSON array per assessment: the database
# groups the rows (its index on assessment_id already yields them grouped) and orjson parses
# each array in C, instead of some 35 result rows per assessment going through the driver and
# SQLAlchemy one by one. The orders within an array are the orders of the row-by-row queries
# (scores by criterion, in the database's collation; evidence by id). Joining the two in SQL
# costs the database more than matching them up here.
_SCORES_BY_ASSESSMENT = text("""
SELECT assessment_id, json_agg(json_build_array(criterion, score, justification) ORDER BY criterion)::text
FROM assessment_scores WHERE assessment_id = ANY(:ids) GROUP BY assessment_id
""").bindparams(bindparam("ids", type_=postgresql.ARRAY(Integer)))
_CRITERION_EVIDENCE_BY_ASSESSMENT = text("""
SELECT assessment_id, json_agg(json_build_array(criterion, kind, reference) ORDER BY id)::text
FROM evidence_references WHERE assessment_id = ANY(:ids) AND finding_id IS NULL AND criterion IS NOT NULL
GROUP BY assessment_id
""").bindparams(bindparam("ids", type_=postgresql.ARRAY(Integer)))


def _load_scores_aggregated(session: Session, assessment_ids: Sequence[int],
                            scores: dict[int, list[rules.CriterionScore]],
                            evidence_by_finding: dict[int, list[rules.Evidence]]) -> None:
    """The PostgreSQL form of the score and evidence queries of :func:`load_facts`: the same
    facts, read as one JSON array of scores and one of evidence per assessment."""
    Evidence = rules.Evidence
    ids = list(assessment_ids)
    # Evidence on knock-out findings is rare: it is read row by row, as the generic path does.
    for finding_id, kind, reference in session.execute(
        select(EvidenceReference.finding_id, EvidenceReference.kind, EvidenceReference.reference)
        .where(EvidenceReference.assessment_id == any_(_id_array(ids)), EvidenceReference.finding_id.is_not(None))
        .order_by(EvidenceReference.id)
    ):
        evidence_by_finding[finding_id].append(Evidence(kind, reference))
    loads = orjson.loads
    _scores_from_json(((aid, loads(document)) for aid, document in session.execute(_CRITERION_EVIDENCE_BY_ASSESSMENT, {"ids": ids})),
                      ((aid, loads(document)) for aid, document in session.execute(_SCORES_BY_ASSESSMENT, {"ids": ids})), scores)


def _scores_from_json(evidence_arrays: Iterable[tuple[int, list]], score_arrays: Iterable[tuple[int, list]],
                      scores: dict[int, list[rules.CriterionScore]]) -> None:
    """Scores with their evidence from the per-assessment arrays of the aggregated queries:
    ``[criterion, kind, reference]`` in evidence id order and ``[criterion, score, justification]``
    in criterion order. The evidence arrays are read first, as the queries are run."""
    Evidence, Score = rules.Evidence, rules.CriterionScore
    evidence: dict[int, dict[str, list[rules.Evidence]]] = {}
    for aid, items in evidence_arrays:
        by_criterion: dict[str, list[rules.Evidence]] = {}
        for criterion, kind, reference in items:
            found = by_criterion.get(criterion)
            if found is None:
                by_criterion[criterion] = [Evidence(kind, reference)]
            else:
                found.append(Evidence(kind, reference))
        evidence[aid] = by_criterion
    no_evidence: dict[str, list[rules.Evidence]] = {}
    for aid, items in score_arrays:
        get_evidence = evidence.get(aid, no_evidence).get
        out = []
        for criterion, score, justification in items:
            ev = get_evidence(criterion)
            out.append(Score(criterion, score, justification, tuple(ev) if ev else ()))
        scores[aid] = out


#: Up to this many enterprises (the one a submission re-evaluates, say), PostgreSQL reads
#: everything in one statement: the seven reads of :func:`load_facts` as seven JSON arrays of one
#: row, in the same orders. One round trip instead of seven is most of the time a single
#: evaluation spends reading.
_FEW = 20
_FACTS_IN_ONE = text("""
WITH a AS (
  SELECT a.id, a.enterprise_id, s.code, a.status, a.conflict_declared, a.project_id,
         to_char(a.submitted_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS submitted_at, a.standing
  FROM assessments a JOIN associations s ON s.id = a.association_id
  WHERE a.enterprise_id = ANY(:ids) AND a.status = ANY(:statuses)
)
SELECT
  (SELECT json_agg(json_build_array(m.enterprise_id, s.code)) FROM memberships m JOIN associations s ON s.id = m.association_id
   WHERE m.enterprise_id = ANY(:ids) AND m.ended_on IS NULL)::text,
  (SELECT json_agg(json_build_array(p.id, p.enterprise_id, p.host_country, p.equator_category, p.brigc_class) ORDER BY p.id)
   FROM projects p WHERE p.enterprise_id = ANY(:ids))::text,
  (SELECT json_agg(json_build_array(id, enterprise_id, code, status, conflict_declared, project_id, submitted_at, standing)
   ORDER BY id) FROM a)::text,
  (SELECT json_agg(json_build_array(e.finding_id, e.kind, e.reference) ORDER BY e.id) FROM evidence_references e
   WHERE e.assessment_id IN (SELECT id FROM a) AND e.finding_id IS NOT NULL)::text,
  (SELECT json_agg(json_build_array(assessment_id, doc)) FROM (
     SELECT assessment_id, json_agg(json_build_array(criterion, kind, reference) ORDER BY id) AS doc FROM evidence_references
     WHERE assessment_id IN (SELECT id FROM a) AND finding_id IS NULL AND criterion IS NOT NULL GROUP BY assessment_id) t)::text,
  (SELECT json_agg(json_build_array(assessment_id, doc)) FROM (
     SELECT assessment_id, json_agg(json_build_array(criterion, score, justification) ORDER BY criterion) AS doc
     FROM assessment_scores WHERE assessment_id IN (SELECT id FROM a) GROUP BY assessment_id) t)::text,
  (SELECT json_agg(json_build_array(f.id, f.assessment_id, f.code, f.status, f.description) ORDER BY f.id)
   FROM knockout_findings f WHERE f.assessment_id IN (SELECT id FROM a))::text,
  (SELECT json_agg(json_build_array(t.enterprise_id, t.kind, t.reference, t.outcome, t.reason_codes,
                                    to_char(t.decided_at, 'YYYY-MM-DD"T"HH24:MI:SS.US')) ORDER BY t.decided_at, t.reference)
   FROM (SELECT l.enterprise_id, 'objection_upheld' AS kind, o.reference, d.outcome, d.reason_codes, o.decided_at
         FROM objections o JOIN listings l ON l.id = o.listing_id JOIN decisions d ON d.id = l.decision_id
         WHERE l.enterprise_id = ANY(:ids) AND o.status = 'upheld'
         UNION ALL
         SELECT l.enterprise_id, 'repair_granted', r.reference, d.outcome, d.reason_codes, r.decided_at
         FROM repair_requests r JOIN listings l ON l.id = r.listing_id JOIN decisions d ON d.id = l.decision_id
         WHERE l.enterprise_id = ANY(:ids) AND r.status = 'granted') t)::text
""").bindparams(bindparam("ids", type_=postgresql.ARRAY(Integer)), bindparam("statuses", type_=postgresql.ARRAY(Text)))


@dataclass(frozen=True)
class _AssessmentRow:
    id: int
    enterprise_id: int
    code: str
    status: AssessmentStatus
    conflict_declared: bool
    project_id: int | None
    submitted_at: datetime | None
    standing: str | None


def _load_few(session: Session, ids: list[int]) -> tuple:
    """What :func:`load_facts` reads, for a few enterprises on PostgreSQL, in one statement."""
    row = session.execute(_FACTS_IN_ONE, {"ids": ids, "statuses": [s.value for s in _INPUT_STATUSES]}).one()
    (members_json, projects_json, assessments_json, finding_evidence_json, evidence_json, scores_json, findings_json,
     challenges_json) = (orjson.loads(v) if v is not None else [] for v in row)
    members: dict[int, set[str]] = defaultdict(set)
    for ent_id, code in members_json:
        members[ent_id].add(code)
    projects: dict[int, list[rules.ProjectFacts]] = defaultdict(list)
    for project_id, ent_id, host_country, equator_category, brigc_class in projects_json:
        projects[ent_id].append(rules.ProjectFacts(id=project_id, host_country=host_country, equator_category=equator_category,
                                                   brigc_class=brigc_class))
    assessment_rows = [
        _AssessmentRow(aid, ent_id, code, AssessmentStatus(status), conflict, project_id, _utc(submitted), standing)
        for aid, ent_id, code, status, conflict, project_id, submitted, standing in assessments_json
    ]
    challenges: dict[int, list[rules.DecidedChallenge]] = defaultdict(list)
    for ent_id, kind, reference, outcome, reason_codes, decided_at in challenges_json:
        challenges[ent_id].append(_challenge(kind, reference, outcome, reason_codes, _utc(decided_at)))
    evidence_by_finding: dict[int, list[rules.Evidence]] = defaultdict(list)
    for finding_id, kind, reference in finding_evidence_json:
        evidence_by_finding[finding_id].append(rules.Evidence(kind, reference))
    scores: dict[int, list[rules.CriterionScore]] = defaultdict(list)
    _scores_from_json(evidence_json, scores_json, scores)
    findings: dict[int, list[rules.KnockoutFinding]] = defaultdict(list)
    for finding_id, aid, code, status, description in findings_json:
        findings[aid].append(rules.KnockoutFinding(code, status, tuple(evidence_by_finding.get(finding_id, ())), description or ""))
    return members, projects, assessment_rows, scores, findings, challenges


def _utc(text_value: str | None) -> datetime | None:
    return datetime.fromisoformat(text_value).replace(tzinfo=timezone.utc) if text_value else None


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
                        ruleset: Ruleset | None = None, audit_events: list | None = None) -> Decision:
    """Evaluate one enterprise under the active ruleset and store the decision (flushes only:
    the calling service owns the transaction). With ``audit_events``, the audit events of a
    proposal are added to that list for the caller to append, instead of appended here."""
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    ruleset = ruleset or active_ruleset(session)
    facts = load_facts(session, [enterprise_id])[enterprise_id]
    result = rules.evaluate(compiled(ruleset), facts)
    decision = Decision(**_decision_values(ruleset, facts, result, trigger, actor, clock.now(session)))
    session.add(decision)
    session.flush()
    from vetting.services import listings

    listings.on_decision(session, actor or SYSTEM, decision, audit_events=audit_events)
    return decision


@dataclass
class BulkResult:
    evaluated: int = 0
    seconds_loading: float = 0.0
    seconds_engine: float = 0.0
    seconds_storing: float = 0.0  # inserting the decisions and handing them to the listings service
    seconds_proposing: float = 0.0  # the part of seconds_storing spent in the listings service


def evaluate_many(session: Session, actor: Actor | None, enterprise_ids: Iterable[int], *, trigger: str,
                  ruleset: Ruleset | None = None, batch: int = 2000, progress=None) -> BulkResult:  # noqa: ANN001
    """Evaluate many enterprises in batches and store every decision (flushes per batch)."""
    import time

    ruleset = ruleset or active_ruleset(session)
    engine_rules = compiled(ruleset)
    out = BulkResult()
    ids = list(enterprise_ids)
    for chunk in chunks(ids, batch):
        # A batch allocates millions of small, acyclic objects (facts, engine traces, rows);
        # pausing the cyclic collector for the batch stops it from re-scanning them, and the
        # session's objects, over and over. It runs again between batches.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            t0 = time.perf_counter()
            facts = load_facts(session, chunk)
            t1 = time.perf_counter()
            results = [(f, rules.evaluate(engine_rules, f)) for f in facts.values()]
            t2 = time.perf_counter()
            now = clock.now(session)
            values = [_decision_values(ruleset, f, r, trigger, actor, now) for f, r in results]
            held = [r.held for _f, r in results]
            del facts, results
            decision_ids = _store(session, values)
            t3 = time.perf_counter()
            _propose(session, actor, values, decision_ids, held)
            t4 = time.perf_counter()
        finally:
            if gc_was_enabled:
                gc.enable()
        out.evaluated += len(values)
        out.seconds_loading += t1 - t0
        out.seconds_engine += t2 - t1
        out.seconds_storing += t4 - t2
        out.seconds_proposing += t4 - t3
        if progress:
            progress(len(values))
    return out


def _store(session: Session, values: list[dict]) -> list[int]:
    """Insert one decision per entry of ``values``; returns their ids, in the same order."""
    return insert_rows(session, Decision, values, return_ids=True)


def _propose(session: Session, actor: Actor | None, values: list[dict], decision_ids: list[int], held: list[bool]) -> None:
    """Hand the stored decisions to the listings service, which proposes what they call for."""
    from vetting.services import listings

    listings.on_decisions(session, actor or SYSTEM, [
        listings.DecisionMade(decision_id, v["enterprise_id"], v["ruleset_id"], v["outcome"].value, v["reason_codes"], v["document"],
                              is_held)
        for v, decision_id, is_held in zip(values, decision_ids, held)
    ])


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
