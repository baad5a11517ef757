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

    What is never computed cannot change the answer: a partial ratio only where the query form
    is the shorter (as the rule says) and where its coverage could still lift the score to
    ``min_score``; identical stored texts are scored once.
    """
    if not searchable(query):
        return {}
    query_forms = forms(query)
    query_numbers = numbers(fold(query))
    # Stored forms in order, as parallel lists; ``slot`` numbers the distinct texts.
    keys: list[Hashable] = []
    names: list[str] = []
    kinds: list[str] = []
    factors: list[float] = []
    slot_of: list[int] = []
    slots: dict[str, int] = {}
    for key, name, name_forms in entries:
        factor = 1.0
        if query_numbers and name_forms:
            found = numbers(name_forms[0][1])  # the first form is the folded full name
            factor = NUMBER_MISMATCH if found and found != query_numbers else 1.0
        for kind, text in name_forms:
            keys.append(key)
            names.append(name)
            kinds.append(kind)
            factors.append(factor)
            slot_of.append(slots.setdefault(text, len(slots)))
    texts = list(slots)
    # The stored forms of each text: nearly always one, so the rare others are kept aside.
    first_of: list[int] = [-1] * len(texts)
    shared: dict[int, list[int]] = {}
    for i, slot in enumerate(slot_of):
        if first_of[slot] < 0:
            first_of[slot] = i
        else:
            shared.setdefault(slot, [first_of[slot]]).append(i)
    sorted_slots = sorted({slot_of[i] for i, kind in enumerate(kinds) if kind == "tokens"})
    sorted_texts = [texts[j] for j in sorted_slots]
    pinyin_slots = {slot_of[i] for i, kind in enumerate(kinds) if kind in _PINYIN}
    # The scale of a partial ratio depends on the stored text's length and script only: texts
    # grouped by both are scored with the cutoff their scale calls for (a slot that is pinyin
    # for one owner and not for another takes the pinyin scale, the more generous).
    grouped: dict[tuple[int, bool], list[int]] = {}
    for j, text in enumerate(texts):
        grouped.setdefault((len(text), j in pinyin_slots), []).append(j)
    groups = [(length, pinyin, members, [texts[j] for j in members]) for (length, pinyin), members in sorted(grouped.items())]
    lengths = [len(text) for text in texts]
    cutoff = max(0.0, min_score * 100 - 1e-6)
    # A partial ratio scaled below this cannot round up to min_score, whatever the name's factor.
    floor = (min_score - 1e-4) * 100
    # Per key: (score, stored form #, query form #). Forms are numbered in the order given, so
    # for one key a lower number is an earlier name or an earlier form of the same name.
    best: dict[Hashable, tuple[float, int, int]] = {}
    for qi, qf in enumerate(query_forms):
        q_text, q_len = qf.text, len(qf.text)
        raw: dict[int, float] = {}  # by slot
        for _text, score, j in process.extract(q_text, texts, scorer=fuzz.ratio, limit=None, score_cutoff=cutoff):
            raw[j] = score
        tokens_raw: dict[int, float] = {}  # by slot, for stored word-sorted forms only
        if qf.kind == "tokens" and sorted_texts:
            for _text, score, k in process.extract(q_text, sorted_texts, scorer=fuzz.token_sort_ratio, limit=None,
                                                   score_cutoff=cutoff):
                tokens_raw[sorted_slots[k]] = score
        chinese = bool(_CJK.search(q_text))
        partial: dict[int, float] = {}  # by slot
        for length, pinyin, members, member_texts in groups:
            if length <= q_len:
                continue
            needed = cutoff
            if floor > 0:
                needed = max(cutoff, floor / _scale(q_text, chinese or pinyin, member_texts[0]))
                if needed > 100:
                    continue
            for _text, score, k in process.extract(q_text, member_texts, scorer=fuzz.partial_ratio, limit=None,
                                                   score_cutoff=needed):
                partial[members[k]] = score
        for j in raw.keys() | tokens_raw.keys() | partial.keys():
            base, sorted_score, partial_score = raw.get(j), tokens_raw.get(j), partial.get(j)
            if partial_score is not None:
                coverage = q_len / lengths[j]  # as _scale computes it, so the scores are the same floats
                scaled_chinese, scaled_latin = partial_score * (0.6 + 0.4 * coverage), partial_score * (0.4 + 0.6 * coverage)
            for i in shared.get(j) or (first_of[j],):
                score = base
                if sorted_score is not None and kinds[i] == "tokens" and (score is None or sorted_score > score):
                    score = sorted_score
                if partial_score is not None:
                    scaled = scaled_chinese if chinese or kinds[i] in _PINYIN else scaled_latin
                    if scaled > (score or 0.0):
                        score = scaled
                if score is None:
                    continue
                final = round(score / 100.0 * factors[i], 4)
                if final < min_score:
                    continue
                key = keys[i]
                held = best.get(key)
                if held is None or final > held[0] or (final == held[0] and (i, qi) < held[1:]):
                    best[key] = (final, i, qi)
    out: dict[Hashable, Match] = {}
    for key, (score, i, qi) in best.items():
        name, kind, text = names[i], kinds[i], texts[slot_of[i]]
        out[key] = Match(score=score, name=name, query_form=query_forms[qi].kind, name_form=kind, name_text=text,
                         explanation=f"matched \u201c{name}\u201d through its {_LABEL[kind]} \u201c{text}\u201d")
    return out


def best_match(query: str, names: Iterable[str]) -> Match | None:
    """The best-scoring stored name for ``query``, or None when the query cannot match."""
    return best_matches(query, [(0, name, forms(name)) for name in names]).get(0)
