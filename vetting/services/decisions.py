"""Reading, replaying and simulating decisions."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting import rules
from vetting.errors import NotFound, ValidationError
from vetting.models import Decision, Enterprise, Ruleset
from vetting.services.evaluation import compiled, load_facts
from vetting.services.rulesets import active_ruleset


def get_decision(session: Session, decision_id: int) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    return decision


@dataclass(frozen=True)
class ReplayResult:
    decision_id: int
    identical: bool
    stored_sha256: str
    replayed_sha256: str
    outcome: str
    replayed_outcome: str
    differences: list[str]


def replay(session: Session, decision_id: int) -> ReplayResult:
    """Recompute a stored decision from its stored inputs and ruleset; compare byte for byte."""
    import hashlib

    decision = get_decision(session, decision_id)
    ruleset = session.get(Ruleset, decision.ruleset_id)
    facts = rules.facts_from_document(json.loads(decision.inputs))
    result = rules.evaluate(compiled(ruleset), facts)
    replayed = rules.decision_bytes(result)
    stored = decision.document.encode("utf-8")
    differences: list[str] = []
    if replayed != stored:
        old, new = json.loads(stored), json.loads(replayed)
        differences = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return ReplayResult(
        decision_id=decision.id,
        identical=replayed == stored,
        stored_sha256=hashlib.sha256(stored).hexdigest(),
        replayed_sha256=hashlib.sha256(replayed).hexdigest(),
        outcome=decision.outcome.value,
        replayed_outcome=result.outcome,
        differences=differences,
    )


@dataclass
class Simulation:
    current_version: str
    candidate_version: str
    candidate_hash: str
    enterprises: int = 0
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    changed: list[dict[str, Any]] = field(default_factory=list)


def simulate(session: Session, document: dict[str, Any], *, batch: int = 2000) -> Simulation:
    """Evaluate every enterprise's current inputs under the active ruleset and under
    ``document``; return the old→new outcome matrix and the enterprises whose outcome changes.
    Writes nothing."""
    try:
        candidate = rules.compile_ruleset(document)
    except rules.RulesetError as exc:
        raise ValidationError("the ruleset document is not valid", {"document": [str(exc)]}) from None
    current_row = active_ruleset(session)
    current = compiled(current_row)
    sim = Simulation(current_version=current_row.version, candidate_version=candidate.version, candidate_hash=candidate.hash)
    counts: Counter[tuple[str, str]] = Counter()
    ids = session.scalars(select(Enterprise.id).where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)).all()
    names = dict(session.execute(select(Enterprise.id, Enterprise.legal_name).where(Enterprise.id.in_(ids))).all()) if len(ids) <= 50000 else {}
    for i in range(0, len(ids), batch):
        for ent_id, facts in load_facts(session, ids[i : i + batch]).items():
            old = rules.evaluate(current, facts)
            new = rules.evaluate(candidate, facts)
            counts[(old.outcome, new.outcome)] += 1
            if old.outcome != new.outcome or list(old.reason_codes) != list(new.reason_codes):
                sim.changed.append({
                    "enterprise_id": ent_id,
                    "legal_name": names.get(ent_id),
                    "from": old.outcome, "to": new.outcome,
                    "from_reasons": list(old.reason_codes), "to_reasons": list(new.reason_codes),
                    "total": new.total,
                })
    outcomes = ("RED", "NONE", "BLACK")
    sim.enterprises = len(ids)
    sim.matrix = {o: {n: counts[(o, n)] for n in outcomes} for o in outcomes}
    return sim


def simulate_stored(session: Session, ruleset_id: int) -> Simulation:
    row = session.get(Ruleset, ruleset_id)
    if row is None:
        raise NotFound(f"no ruleset {ruleset_id}")
    return simulate(session, json.loads(row.document))
