"""Facts: the engine's only input, as frozen dataclasses, and their JSON document form.

The service layer builds facts from stored rows; the engine never sees the database. The
document form is what a decision stores as its inputs, so a decision can be replayed anywhere.
Order does not matter: the document lists assessments, projects and findings sorted, so the
same facts always give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any


@dataclass(frozen=True)
class Evidence:
    kind: str
    reference: str


@dataclass(frozen=True)
class CriterionScore:
    criterion: str
    score: int | None  # None is n/a
    justification: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class KnockoutFinding:
    code: str
    status: str  # "confirmed" | "alleged"
    evidence: tuple[Evidence, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AssessmentFacts:
    id: int
    association: str
    status: str  # "submitted" | "withdrawn" | "superseded" | "draft"
    conflict_declared: bool
    scores: tuple[CriterionScore, ...] = ()
    knockouts: tuple[KnockoutFinding, ...] = ()
    project_id: int | None = None
    submitted_at: str | None = None


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    host_country: str
    equator_category: str | None = None
    brigc_class: str | None = None


@dataclass(frozen=True)
class EnterpriseFacts:
    enterprise_id: int
    member_associations: frozenset[str] = frozenset()
    projects: tuple[ProjectFacts, ...] = ()
    assessments: tuple[AssessmentFacts, ...] = ()
    open_allegations: tuple[str, ...] = ()


def _evidence_doc(items: tuple[Evidence, ...]) -> list[dict[str, str]]:
    return [{"kind": e.kind, "reference": e.reference} for e in items] if items else []


_by_criterion = attrgetter("criterion")


_by_id = attrgetter("id")  # assessments and projects


def _scores_doc(scores: Any) -> list[dict[str, Any]]:
    out = []
    for s in scores:
        # a plain loop with the usual one-item evidence written out: this runs for every score
        # of every decision, and a comprehension per score costs more than the dicts
        ev = s.evidence
        if not ev:
            evidence = []
        elif len(ev) == 1:
            evidence = [{"kind": ev[0].kind, "reference": ev[0].reference}]
        else:
            evidence = [{"kind": e.kind, "reference": e.reference} for e in ev]
        out.append({"criterion": s.criterion, "score": s.score, "justification": s.justification, "evidence": evidence})
    return out


def _assessment_doc(a: AssessmentFacts) -> dict[str, Any]:
    scores = a.scores
    codes = [s.criterion for s in scores]
    if codes != sorted(codes):  # usually already in order; the sort is stable either way
        scores = sorted(scores, key=_by_criterion)
    return {
        "id": a.id,
        "association": a.association,
        "status": a.status,
        "conflict_declared": a.conflict_declared,
        "project_id": a.project_id,
        "submitted_at": a.submitted_at,
        "scores": _scores_doc(scores),
        "knockouts": [
            {"code": k.code, "status": k.status, "description": k.description, "evidence": _evidence_doc(k.evidence)}
            for k in sorted(a.knockouts, key=lambda k: (k.code, k.status))
        ] if a.knockouts else [],
    }


def facts_to_document(facts: EnterpriseFacts) -> dict[str, Any]:
    return {
        "enterprise_id": facts.enterprise_id,
        "member_associations": sorted(facts.member_associations),
        "open_allegations": sorted(facts.open_allegations),
        "projects": [
            {"id": p.id, "host_country": p.host_country, "equator_category": p.equator_category, "brigc_class": p.brigc_class}
            for p in sorted(facts.projects, key=_by_id)
        ],
        "assessments": [_assessment_doc(a) for a in sorted(facts.assessments, key=_by_id)],
    }


def _evidence(items: Any) -> tuple[Evidence, ...]:
    return tuple(Evidence(kind=str(e["kind"]), reference=str(e["reference"])) for e in items or ())


def facts_from_document(doc: dict[str, Any]) -> EnterpriseFacts:
    return EnterpriseFacts(
        enterprise_id=int(doc["enterprise_id"]),
        member_associations=frozenset(doc.get("member_associations") or ()),
        open_allegations=tuple(doc.get("open_allegations") or ()),
        projects=tuple(
            ProjectFacts(id=int(p["id"]), host_country=p.get("host_country") or "", equator_category=p.get("equator_category"),
                         brigc_class=p.get("brigc_class"))
            for p in doc.get("projects") or ()
        ),
        assessments=tuple(
            AssessmentFacts(
                id=int(a["id"]),
                association=str(a["association"]),
                status=str(a.get("status", "submitted")),
                conflict_declared=bool(a.get("conflict_declared", False)),
                project_id=a.get("project_id"),
                submitted_at=a.get("submitted_at"),
                scores=tuple(
                    CriterionScore(criterion=str(s["criterion"]), score=None if s.get("score") in (None, "n/a") else int(s["score"]),
                                   justification=s.get("justification"), evidence=_evidence(s.get("evidence")))
                    for s in a.get("scores") or ()
                ),
                knockouts=tuple(
                    KnockoutFinding(code=str(k["code"]), status=str(k.get("status", "confirmed")), description=str(k.get("description") or ""),
                                    evidence=_evidence(k.get("evidence")))
                    for k in a.get("knockouts") or ()
                ),
            )
            for a in doc.get("assessments") or ()
        ),
    )
