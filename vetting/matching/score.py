"""Scoring a query against an enterprise's stored names, with the reason for the score.

Every form of the query is compared with every form of every stored name (``forms``):
rapidfuzz's ratio for whole forms, its token-sort ratio for sorted words, and, when the query
is shorter than the name, its partial ratio scaled by how much of the name the query covers
(so "中铁" finds "中铁五局" but ranks below an exact match). A name whose numbers differ from
the query's (No.3 against No.5, 三局 against 五局) is scored down. A query of fewer than two
characters, or nothing but a legal form, matches nothing.
"""

from __future__ import annotations

import re
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
    name_text: str  # the stored name in the form that matched
    explanation: str


def searchable(query: str) -> bool:
    """Whether ``query`` can match anything: two characters or more, and more than a legal form."""
    folded = fold(query)
    return len(folded.replace(" ", "")) >= 2 and not bare_legal_form(query)


_CJK = re.compile(r"[\u3400-\u9fff]")
_DIGITS = re.compile(r"\d+")
_CHINESE_NUMERALS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_CHINESE_NUMERALS["十"] = "10"
#: A name whose number differs from the query's ("No.9" for "No.5", 中铁九局 for 中铁五局) is
#: another enterprise of the same family, not a spelling of this one.
NUMBER_MISMATCH = 0.7


def numbers(folded: str) -> frozenset[str]:
    """The numbers written in a folded name, in digits or in Chinese numerals."""
    found = set(_DIGITS.findall(folded))
    found.update(_CHINESE_NUMERALS[c] for c in folded if c in _CHINESE_NUMERALS)
    return frozenset(n.lstrip("0") or "0" for n in found)


def _pair_score(q_kind: str, q: str, n_kind: str, n: str) -> float:
    score = fuzz.ratio(q, n)
    if q_kind == "tokens" and n_kind == "tokens":
        score = max(score, fuzz.token_sort_ratio(q, n))
    if len(q) < len(n):
        # A query that is part of a name scores by how much of the name it covers. A Chinese
        # character says about as much as a Latin word, so two characters still find a name;
        # a few Latin words that the name merely contains ("Harbour Engineering") do not.
        coverage = len(q) / len(n)
        scale = 0.6 + 0.4 * coverage if _CJK.search(q) else 0.4 + 0.6 * coverage
        score = max(score, fuzz.partial_ratio(q, n) * scale)
    return score / 100.0


def best_match(query: str, names: Iterable[str]) -> Match | None:
    """The best-scoring stored name for ``query``, or None when the query cannot match."""
    if not searchable(query):
        return None
    query_forms = forms(query)
    query_numbers = numbers(fold(query))
    best: Match | None = None
    for name in names:
        name_numbers = numbers(fold(name)) if query_numbers else frozenset()
        factor = NUMBER_MISMATCH if query_numbers and name_numbers and query_numbers != name_numbers else 1.0
        for nf in forms(name):
            for qf in query_forms:
                score = round(_pair_score(qf.kind, qf.text, nf.kind, nf.text) * factor, 4)
                if best is None or score > best.score:
                    best = Match(score=score, name=name, query_form=qf.kind, name_form=nf.kind, name_text=nf.text,
                                 explanation=f"matched \u201c{name}\u201d through its {_LABEL[nf.kind]} \u201c{nf.text}\u201d")
    return best
