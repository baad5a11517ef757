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
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from vetting.matching.forms import Form, bare_legal_form, fold, forms

_LABEL = {"full": "full name", "core": "name without its legal form", "trade": "name without its place and legal form", "pinyin": "pinyin", "pinyin_joined": "pinyin",
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


_PINYIN = frozenset({"pinyin", "pinyin_joined"})


def _scale(query: str, chinese: bool, name: str) -> float:
    # A query that is part of a name scores by how much of the name it covers. A Chinese
    # character (or its pinyin syllable) says about as much as a Latin word, so two characters
    # still find a name; a few Latin words that the name merely contains ("Harbour
    # Engineering") do not.
    coverage = len(query) / len(name)
    return 0.6 + 0.4 * coverage if chinese else 0.4 + 0.6 * coverage


def best_matches(query: str, entries: Iterable[tuple[Hashable, str, Sequence[Form]]],
                 min_score: float = 0.0) -> dict[Hashable, Match]:
    """The best match per key for ``query`` among ``entries`` (key, stored name, the name's
    forms), keeping those scoring at least ``min_score``.

    Every query form meets every stored form: rapidfuzz's ratio; its token-sort ratio between
    two word-sorted forms; and, when the query form is the shorter, its partial ratio scaled by
    coverage (``_scale``). A name whose numbers differ from the query's is scored down. The pairs
    are scored in rapidfuzz's C loops over all candidates at once, pruned at ``min_score``;
    among equal scores the earliest name, form and query form win.
    """
    if not searchable(query):
        return {}
    query_forms = forms(query)
    query_numbers = numbers(fold(query))
    texts: list[str] = []
    owners: list[tuple[Hashable, str, str, float, int, int]] = []  # key, name, kind, factor, name#, form#
    positions: dict[Hashable, int] = {}
    for key, name, name_forms in entries:
        position = positions[key] = positions.get(key, -1) + 1
        factor = 1.0
        if query_numbers and name_forms:
            found = numbers(name_forms[0].text)  # the first form is the folded full name
            factor = NUMBER_MISMATCH if found and found != query_numbers else 1.0
        for i, form in enumerate(name_forms):
            texts.append(form.text)
            owners.append((key, name, form.kind, factor, position, i))
    sorted_words = [i for i, owner in enumerate(owners) if owner[2] == "tokens"]
    sorted_texts = [texts[i] for i in sorted_words]
    cutoff = max(0.0, min_score * 100 - 1e-6)
    best: dict[Hashable, tuple[float, tuple[int, int, int], int, int]] = {}
    for qi, qf in enumerate(query_forms):
        raw: dict[int, float] = {}
        for _text, score, i in process.extract(qf.text, texts, scorer=fuzz.ratio, limit=None, score_cutoff=cutoff):
            raw[i] = score
        if qf.kind == "tokens" and sorted_texts:
            for _text, score, j in process.extract(qf.text, sorted_texts, scorer=fuzz.token_sort_ratio, limit=None,
                                                   score_cutoff=cutoff):
                i = sorted_words[j]
                raw[i] = max(raw.get(i, 0.0), score)
        chinese = bool(_CJK.search(qf.text))
        for text, score, i in process.extract(qf.text, texts, scorer=fuzz.partial_ratio, limit=None, score_cutoff=cutoff):
            if len(qf.text) < len(text):
                scaled = score * _scale(qf.text, chinese or owners[i][2] in _PINYIN, text)
                if scaled > raw.get(i, 0.0):
                    raw[i] = scaled
        for i, score in raw.items():
            key, _name, _kind, factor, position, form_no = owners[i]
            final = round(score / 100.0 * factor, 4)
            if final < min_score:
                continue
            order = (position, form_no, qi)
            held = best.get(key)
            if held is None or final > held[0] or (final == held[0] and order < held[1]):
                best[key] = (final, order, i, qi)
    out: dict[Hashable, Match] = {}
    for key, (score, _order, i, qi) in best.items():
        _key, name, kind, _factor, _position, _form_no = owners[i]
        out[key] = Match(score=score, name=name, query_form=query_forms[qi].kind, name_form=kind, name_text=texts[i],
                         explanation=f"matched \u201c{name}\u201d through its {_LABEL[kind]} \u201c{texts[i]}\u201d")
    return out


def best_match(query: str, names: Iterable[str]) -> Match | None:
    """The best-scoring stored name for ``query``, or None when the query cannot match."""
    return best_matches(query, [(0, name, forms(name)) for name in names]).get(0)
