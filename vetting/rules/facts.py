"""Facts: the engine's only input, as frozen dataclasses, and their JSON document form.

The service layer builds facts from stored rows; the engine never sees the database. The
document form is what a decision stores as its inputs, so a decision can be replayed anywhere.
Order does not matter: the document lists assessments, projects, findings and challenges
sorted, so the same facts always give the same bytes.

Fields added after decisions were first stored (an assessment's ``standing``, an enterprise's
decided ``challenges``) appear in the document only when they carry a value, so facts that do
not use them give exactly the bytes they always gave and old decisions replay unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any

#: An assessment's standing, fixed on its submission date: whether the enterprise was then a
#: member of the filing association ("member"), was not ("independent"), or the filing
#: association had another conflict with it ("conflicted", excluded like a declared conflict).
STANDINGS = ("member", "independent", "conflicted")

#: Kinds of decided challenge that bind later decisions (see :class:`DecidedChallenge`).
CHALLENGE_KINDS = ("objection_upheld", "repair_granted")


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
    """One assessment. ``standing`` is one of :data:`STANDINGS`, fixed when it was submitted;
    None means it was not recorded (facts stored before standings existed), and the engine then
    judges independence by the enterprise's current ``member_associations``."""

    id: int
    association: str
    status: str  # "submitted" | "withdrawn" | "superseded" | "draft"
    conflict_declared: bool
    scores: tuple[CriterionScore, ...] = ()
    knockouts: tuple[KnockoutFinding, ...] = ()
    project_id: int | None = None
    submitted_at: str | None = None
    standing: str | None = None

    def __post_init__(self) -> None:
        if self.standing is not None and self.standing not in STANDINGS:
            raise ValueError(f"standing must be one of {', '.join(STANDINGS)} or None, not {self.standing!r}")

    @property
    def conflicted(self) -> bool:
        """Excluded for a conflict of interest: declared, or the standing fixed at filing."""
        return self.conflict_declared or self.standing == "conflicted"


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    host_country: str
    equator_category: str | None = None
    brigc_class: str | None = None


@dataclass(frozen=True)
class DecidedChallenge:
    """A challenge decided in the enterprise's favour: an objection upheld against a proposed or
    active listing, or a repair request granted. ``outcome`` and ``reason_codes`` are those of
    the decision the challenged listing was proposed on; ``decided_at`` is an ISO 8601 datetime
    (a naive one is read as UTC). While no assessment is submitted after ``decided_at``, a new
    decision with the same outcome on the same reason codes is *held*: see the engine."""

    kind: str  # "objection_upheld" | "repair_granted"
    reference: str
    outcome: str  # "RED" | "BLACK" | "NONE"
    reason_codes: tuple[str, ...]
    decided_at: str

    def __post_init__(self) -> None:
        if self.kind not in CHALLENGE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CHALLENGE_KINDS)}, not {self.kind!r}")
        if self.outcome not in ("RED", "BLACK", "NONE"):
            raise ValueError(f"outcome must be RED, BLACK or NONE, not {self.outcome!r}")
        instant(self.decided_at)  # raises ValueError when it is not an ISO 8601 datetime


@dataclass(frozen=True)
class EnterpriseFacts:
    enterprise_id: int
    member_associations: frozenset[str] = frozenset()
    projects: tuple[ProjectFacts, ...] = ()
    assessments: tuple[AssessmentFacts, ...] = ()
    open_allegations: tuple[str, ...] = ()
    challenges: tuple[DecidedChallenge, ...] = ()


def instant(value: str) -> datetime:
    """An ISO 8601 datetime as an aware datetime; a naive one is taken to be UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


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
    doc: dict[str, Any] = {
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
    if a.standing is not None:
        doc["standing"] = a.standing
    return doc


def _challenge_key(c: DecidedChallenge) -> tuple[str, str]:
    """Document order: the stored strings, for stable bytes (the engine compares instants)."""
    return c.decided_at, c.reference


def _challenges_doc(challenges: tuple[DecidedChallenge, ...]) -> list[dict[str, Any]]:
    return [
        {"kind": c.kind, "reference": c.reference, "outcome": c.outcome, "reason_codes": list(c.reason_codes),
         "decided_at": c.decided_at}
        for c in sorted(challenges, key=_challenge_key)
    ]


def facts_to_document(facts: EnterpriseFacts) -> dict[str, Any]:
    """The facts as a JSON-ready document (what a decision stores as its inputs)."""
    doc: dict[str, Any] = {
        "enterprise_id": facts.enterprise_id,
        "member_associations": sorted(facts.member_associations),
        "open_allegations": sorted(facts.open_allegations),
        "projects": [
            {"id": p.id, "host_country": p.host_country, "equator_category": p.equator_category, "brigc_class": p.brigc_class}
            for p in sorted(facts.projects, key=_by_id)
        ],
        "assessments": [_assessment_doc(a) for a in sorted(facts.assessments, key=_by_id)],
    }
    if facts.challenges:
        doc["challenges"] = _challenges_doc(facts.challenges)
    return doc


def _evidence(items: Any) -> tuple[Evidence, ...]:
    return tuple(Evidence(kind=str(e["kind"]), reference=str(e["reference"])) for e in items or ())


def _challenges(items: Any) -> tuple[DecidedChallenge, ...]:
    return tuple(
        DecidedChallenge(kind=str(c["kind"]), reference=str(c["reference"]), outcome=str(c["outcome"]),
                         reason_codes=tuple(str(r) for r in c.get("reason_codes") or ()), decided_at=str(c["decided_at"]))
        for c in items or ()
    )


def facts_from_document(doc: dict[str, Any]) -> EnterpriseFacts:
    """The facts a document written by :func:`facts_to_document` holds."""
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
                standing=a.get("standing"),
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
        challenges=_challenges(doc.get("challenges")),
    )
