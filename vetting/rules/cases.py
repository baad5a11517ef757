"""Golden cases: facts with the outcome and reason codes a ruleset must give them.

A case file is YAML: ``cases: [{name, description, facts, expect: {outcome, reason_codes}}]``.
``expect`` may also give ``held_by``: the reference of the decided challenge that must hold
the decision, or null when none may (checked only when given).
To keep cases readable, an assessment may give its scores compactly:

- ``all: 3`` scores every criterion of the ruleset 3;
- ``scores: "E1=0 S3=n/a"`` then overrides single criteria (``n/a`` gets a stock justification);
- ``evidence: all`` (the default) cites one document for every scored criterion,
  ``evidence: none`` cites nothing, or a list of criterion codes cites only those.

Anything else uses the facts document form of :func:`vetting.rules.facts_to_document`
(``standing`` and ``submitted_at`` on an assessment, ``challenges`` on the enterprise);
timestamps YAML reads as dates are turned back into ISO 8601 strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from vetting.rules.engine import Decision, evaluate
from vetting.rules.facts import EnterpriseFacts, facts_from_document


@dataclass(frozen=True)
class CaseResult:
    name: str
    passed: bool
    expected: dict[str, Any]
    got: dict[str, Any]


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValueError(f"{path}: expected a mapping with a 'cases' list")
    return data["cases"]


def expand_assessment(criteria: list[str], a: dict[str, Any]) -> dict[str, Any]:
    if "scores" in a and isinstance(a["scores"], list):
        return a
    values: dict[str, Any] = {c: a.get("all", 2) for c in criteria}
    for item in str(a.get("scores") or "").split():
        code, _, value = item.partition("=")
        values[code] = value if value == "n/a" else int(value)
    evidence = a.get("evidence", "all")
    cited = set(criteria) if evidence == "all" else set() if evidence == "none" else set(evidence)
    scores = []
    for code, value in values.items():
        if value == "n/a":
            scores.append({"criterion": code, "score": None, "justification": "not applicable to this enterprise"})
        else:
            ev = [{"kind": "document", "reference": f"evidence for {code}"}] if code in cited else []
            scores.append({"criterion": code, "score": value, "evidence": ev})
    out = {k: v for k, v in a.items() if k not in ("all", "scores", "evidence")}
    out.setdefault("status", "submitted")
    out.setdefault("conflict_declared", False)
    out["scores"] = scores
    return out


def _iso(value: Any) -> Any:
    """``value`` with every date or datetime (as YAML reads unquoted timestamps) in ISO 8601."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def case_facts(ruleset: Any, case: dict[str, Any]) -> EnterpriseFacts:
    criteria = [c["code"] for c in ruleset.document["criteria"]]
    doc = _iso(dict(case["facts"]))
    doc.setdefault("enterprise_id", 1)
    doc["assessments"] = [
        expand_assessment(criteria, {"id": i + 1, **a}) for i, a in enumerate(doc.get("assessments") or [])
    ]
    return facts_from_document(doc)


def _observed(decision: Decision, expect: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the case expects and what the decision gave, over the keys the case checks."""
    expected = {"outcome": expect["outcome"], "reason_codes": list(expect["reason_codes"])}
    got: dict[str, Any] = {"outcome": decision.outcome, "reason_codes": list(decision.reason_codes)}
    if "held_by" in expect:
        expected["held_by"] = expect["held_by"]
        got["held_by"] = decision.document["held_by"]["reference"] if decision.held else None
    return expected, got


def run_cases(ruleset: Any, cases: list[dict[str, Any]]) -> list[CaseResult]:
    results = []
    for case in cases:
        decision = evaluate(ruleset, case_facts(ruleset, case))
        expected, got = _observed(decision, case["expect"])
        results.append(CaseResult(case["name"], got == expected, expected, got))
    return results
