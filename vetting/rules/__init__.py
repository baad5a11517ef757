"""The rules engine: pure functions over plain data. No database, no Flask.

A ruleset document is validated and compiled once (:func:`compile_ruleset`); its identity is
the SHA-256 of its canonical JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rule_engine

from vetting.rules.canonical import canonical_json, sha256_hex
from vetting.rules.schema import RulesetError, condition_context, load_document, named_values

__all__ = ["CompiledRuleset", "RulesetError", "canonical_json", "compile_ruleset", "sha256_hex"]


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
