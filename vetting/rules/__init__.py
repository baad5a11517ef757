"""The rules engine: pure functions over plain data. No database, no Flask.

A ruleset document is validated and compiled once (:func:`compile_ruleset`); its identity is
the SHA-256 of its canonical JSON. :func:`evaluate` turns one enterprise's facts into a
:class:`Decision` whose document explains every step; :func:`decision_bytes` is its canonical
form, byte-identical for the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rule_engine

from vetting.rules.agreement import agreement_by_criterion, krippendorff_alpha
from vetting.rules.canonical import canonical_json, sha256_hex
from vetting.rules.cases import CaseResult, load_cases, run_cases
from vetting.rules.engine import ENGINE_VERSION, Decision, decision_bytes, evaluate, rank
from vetting.rules.facts import (
    CHALLENGE_KINDS,
    STANDINGS,
    AssessmentFacts,
    CriterionScore,
    DecidedChallenge,
    EnterpriseFacts,
    Evidence,
    KnockoutFinding,
    ProjectFacts,
    facts_from_document,
    facts_to_document,
)
from vetting.rules.schema import AGGREGATION_METHODS, RulesetError, condition_context, load_document, named_values

__all__ = [
    "AGGREGATION_METHODS", "CHALLENGE_KINDS", "ENGINE_VERSION", "STANDINGS", "AssessmentFacts", "CaseResult", "agreement_by_criterion",
    "krippendorff_alpha", "load_cases", "run_cases", "CompiledRuleset", "CriterionScore", "Decision", "DecidedChallenge",
    "EnterpriseFacts", "Evidence", "KnockoutFinding", "ProjectFacts", "RulesetError", "canonical_json", "compile_ruleset",
    "decision_bytes", "evaluate", "facts_from_document", "facts_to_document", "rank", "sha256_hex",
]


@dataclass(frozen=True)
class CompiledRuleset:
    """A validated ruleset with its outcome conditions compiled."""

    document: dict[str, Any]
    canonical: str
    hash: str
    conditions: tuple[rule_engine.Rule, ...] = field(repr=False)

    @property
    def version(self) -> str:
        return str(self.document["version"])


def compile_ruleset(document: Any) -> CompiledRuleset:
    data = load_document(document)
    canonical = canonical_json(data)
    context = condition_context(named_values(data))
    conditions = tuple(rule_engine.Rule(row["when"], context=context) for row in data["outcomes"])
    return CompiledRuleset(document=data, canonical=canonical.decode("utf-8"), hash=sha256_hex(canonical), conditions=conditions)
