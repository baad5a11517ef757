"""The forms a name is compared in.

1. **fold**: Unicode NFKC (full-width letters and digits become ASCII), traditional Chinese to
   simplified (OpenCC's t2s table), case folding, punctuation to spaces, spaces squashed.
2. **core**: the folded name without its legal form. Latin-script forms are rigour's
   organisation types ("Co., Ltd.", "GmbH", "LLC" …) plus the generic words rigour leaves alone
   ("corp", "company", "group", "holdings"); Chinese suffixes written without spaces
   (有限公司, 股份有限公司, 集团 …) are cut from the end, since rigour does not split them.
3. **trade**: the core without a leading place name (北京华信路桥工程 → 华信路桥工程,
   "Beijing Huaxin Road and Bridge" → "huaxin road and bridge"), as such names are cited.
4. **pinyin**: for a Chinese core (and trade name), its toneless pinyin with and without spaces
   ("zhong tie wu ju", "zhongtiewuju"), so that "Zhongtie Wuju" finds 中铁五局.
5. **tokens**: the core's words sorted, so word order does not matter; and **joined**, the
   core's Latin words without spaces ("zhongtie wuju" meets "zhongtiewuju").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from vetting.matching.places import without_place

_PUNCT = re.compile(r"[^\w\u3400-\u9fff]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")

#: Chinese legal-form and organisation suffixes, longest first; cut from the end repeatedly.
CHINESE_SUFFIXES = tuple(sorted({
    "股份有限公司", "有限责任公司", "有限公司", "股份公司", "责任公司", "集团有限公司", "集团股份有限公司",
    "控股集团", "控股有限公司", "控股", "集团公司", "集团", "总公司", "分公司", "公司", "有限",
}, key=len, reverse=True))

#: Generic organisation words rigour does not treat as legal forms, removed as whole words.
GENERIC_WORDS = frozenset({"co", "corp", "corporation", "company", "companies", "group", "holding", "holdings", "inc",
                           "incorporated", "ltd", "limited", "plc", "llc", "the"})


class Form(NamedTuple):
    """One comparison form of a name. A tuple, not a class with fields: a search unpacks a
    couple of thousand stored forms per query, and a tuple is made several times faster."""

    kind: str  # "full", "core", "trade", "pinyin", "pinyin_joined", "tokens", "joined"
    text: str


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """NFKC, traditional → simplified Chinese, case folding, punctuation to spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    if _CJK.search(text):
        text = _t2s().convert(text)
    text = _PUNCT.sub(" ", text.casefold().replace("_", " "))
    return _SPACES.sub(" ", text).strip()


def _strip_chinese(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for suffix in CHINESE_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                changed = True
                break
            if text == suffix:
                return ""
    return text


@lru_cache(maxsize=4096)
def core(folded: str) -> str:
    """``folded`` without its legal form (see the module docstring)."""
    from rigour.names.org_types import remove_org_types

    text = remove_org_types(folded, replacement=" ")
    words = [w for w in _SPACES.split(text) if w and w not in GENERIC_WORDS]
    joined = " ".join(_strip_chinese(w) if _CJK.search(w) else w for w in words)
    return _SPACES.sub(" ", joined).strip()


def bare_legal_form(text: str) -> bool:
    """Whether ``text`` says nothing but a legal form ("Co., Ltd.", "CORP", "集团")."""
    folded = fold(text)
    return bool(folded) and not core(folded)


def _pinyin(chinese: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return [p for p in lazy_pinyin(chinese, style=Style.NORMAL, errors="ignore") if p.strip()]


def forms(name: str) -> list[Form]:
    """Every form ``name`` is compared in (duplicates dropped, order kept)."""
    return list(_forms(name))


@lru_cache(maxsize=4096)
def _forms(name: str) -> tuple[Form, ...]:
    folded = fold(name)
    if not folded:
        return ()
    out = [Form("full", folded)]
    base = core(folded)
    if base and base != folded:
        out.append(Form("core", base))
    trade = without_place(base) if base else None
    if trade:
        out.append(Form("trade", trade))
    for text in (base, trade):
        if text and _CJK.search(text):
            syllables = _pinyin(text)
            if syllables:
                out.append(Form("pinyin", " ".join(syllables)))
                out.append(Form("pinyin_joined", "".join(syllables)))
    words = base.split()
    if len(words) > 1:
        out.append(Form("tokens", " ".join(sorted(words))))
        if not _CJK.search(base):
            out.append(Form("joined", "".join(words)))
    seen: set[str] = set()
    unique = []
    for form in out:
        if form.text not in seen:
            seen.add(form.text)
            unique.append(form)
    return tuple(unique)


def tokens(name: str) -> set[str]:
    """Short keys shared by a name and the queries that should find it: Latin words, letter
    trigrams of the Latin forms run together (a typo still shares most), and Chinese
    character pairs (so a two-character query finds a longer name)."""
    return tokens_of(forms(name))


def tokens_of(name_forms: list[Form]) -> set[str]:
    """``tokens`` from forms already computed. The full form adds nothing when the name has a
    core (its extra keys are the legal form's, shared by most names), nor does the word-sorted
    form (its words are keys already; its cross-word trigrams are artefacts of sorting)."""
    out: set[str] = set()
    has_core = any(form.kind == "core" for form in name_forms)
    for form in name_forms:
        if form.kind == "tokens" or (form.kind == "full" and has_core):
            continue
        text = form.text
        if _CJK.search(text):
            chars = [c for c in text if _CJK.match(c)]
            out.update(a + b for a, b in zip(chars, chars[1:]))
            continue
        out.update(w for w in text.split() if len(w) >= 2)
        joined = text.replace(" ", "")
        out.update(joined[i:i + 3] for i in range(len(joined) - 2))
    return {t[:64] for t in out}


#: Words of this many letters are also found one edit away (see :func:`spelling_keys`).
SHORTEST_CORRECTED, LONGEST_CORRECTED = 4, 16


def spelling_keys(word: str) -> set[str]:
    """``word`` with one of its letters dropped, each way. Two spellings one edit apart share a
    key: a dropped letter (the shorter word is a key of the longer), an added one (the reverse),
    a changed letter or two letters swapped (both drop the letter in question)."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def corrected_words(query: str, query_tokens: list[str]) -> list[str]:
    """The words of a query that are worth matching one edit away: its words of 4 to 16 letters
    (any alphabet, digits excluded). A query with Chinese characters has none (its pinyin is
    computed, not typed)."""
    if _CJK.search(query):
        return []
    return [t for t in query_tokens if SHORTEST_CORRECTED <= len(t) <= LONGEST_CORRECTED and t.isalpha()]


_KIND, _RECORD = "\x1f", "\x1e"


def pack(name_forms: list[Form]) -> str:
    """Forms as one stored string (kinds and texts never hold the two separators)."""
    return _RECORD.join(f"{form.kind}{_KIND}{form.text}" for form in name_forms)


def unpack(text: str) -> list[Form]:
    make = Form._make
    return [make(record.split(_KIND, 1)) for record in text.split(_RECORD)] if text else []
