"""Scoring a query against an enterprise's stored names, with the reason for the score.

Every form of the query is compared with every form of every stored name (``forms``):
rapidfuzz's ratio for whole forms, its token-sort ratio for sorted words, and, when the query
is shorter than the name, its partial ratio scaled by how much of the name the query covers
(so "中铁" finds "中铁五局" but ranks below an exact match). A query of fewer than two
characters, or nothing but a legal form, matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from vetting.matching.forms import bare_legal_form, fold, forms

_LABEL = {"full": "full name", "core": "name without its legal form", "pinyin": "pinyin", "pinyin_joined": "pinyin",
          "tokens": "words in any order", "joined": "words run together"}


@dataclass(frozen=True)
class Match:
    score: float  # 0–1
    name: str  # the stored name that matched
    query_form: str
    name_form: str
    explanation: str


def searchable(query: str) -> bool:
    """Whether ``query`` can match anything: two characters or more, and more than a legal form."""
    folded = fold(query)
    return len(folded.replace(" ", "")) >= 2 and not bare_legal_form(query)


def _pair_score(q_kind: str, q: str, n_kind: str, n: str) -> float:
    score = fuzz.ratio(q, n)
    if q_kind == "tokens" and n_kind == "tokens":
        score = max(score, fuzz.token_sort_ratio(q, n))
    if len(q) < len(n):
        score = max(score, fuzz.partial_ratio(q, n) * (0.6 + 0.4 * len(q) / len(n)))
    return score / 100.0


def best_match(query: str, names: Iterable[str]) -> Match | None:
    """The best-scoring stored name for ``query``, or None when the query cannot match."""
    if not searchable(query):
        return None
    query_forms = forms(query)
    best: Match | None = None
    for name in names:
        for nf in forms(name):
            for qf in query_forms:
                score = round(_pair_score(qf.kind, qf.text, nf.kind, nf.text), 4)
                if best is None or score > best.score:
                    best = Match(score=score, name=name, query_form=qf.kind, name_form=nf.kind,
                                 explanation=f"matched \u201c{name}\u201d through its {_LABEL[nf.kind]} \u201c{nf.text}\u201d")
    return best
