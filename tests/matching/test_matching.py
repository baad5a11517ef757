"""Name matching without a database: the lookups a bank officer types, and what must not match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vetting.matching import bare_legal_form, best_match, fold, forms

CREC5 = ["China Railway No.5 Engineering Group Co., Ltd.", "中铁五局集团有限公司"]
OTHER = ["Lanting Harbour Works Co., Ltd.", "兰亭港务工程有限公司"]


@pytest.mark.parametrize("query", [
    "Zhongtie Wuju", "zhong tie wu ju", "中铁五局", "中鐵五局集團有限公司", "China Railway No.5 Engineering Group Co., Ltd",
    "CHINA RAILWAY NO. 5 ENGINEERING GROUP", "Engineering Group China Railway No 5",
])
def test_every_way_of_writing_the_name_finds_it(query):
    match = best_match(query, CREC5)
    assert match is not None and match.score >= 0.95, match
    assert match.name in CREC5 and "through its" in match.explanation
    other = best_match(query, OTHER)
    assert other is None or other.score < 0.6, other


@pytest.mark.parametrize("query", ["Co., Ltd.", "CORP", "集团", "有限公司", "Limited", "a", "中", "  ", ""])
def test_a_bare_legal_form_or_a_single_character_matches_nothing(query):
    assert best_match(query, CREC5) is None


def test_a_two_character_chinese_query_works_and_ranks_below_the_full_name():
    short = best_match("中铁", CREC5)
    full = best_match("中铁五局", CREC5)
    assert short is not None and 0.6 <= short.score < full.score


def test_full_width_and_traditional_forms_fold_to_the_same_text():
    assert fold("ＣＨＩＮＡ　ＲＡＩＬＷＡＹ") == "china railway"
    assert fold("中鐵五局集團") == "中铁五局集团"
    assert fold("China-Railway, No.5") == "china railway no 5"


def test_chinese_suffixes_without_spaces_are_cut():
    assert {f.kind: f.text for f in forms("中铁五局（集团）有限公司")}["core"] == "中铁五局"
    assert {f.kind: f.text for f in forms("华信铁路股份有限公司")}["core"] == "华信铁路"
    assert bare_legal_form("股份有限公司") and not bare_legal_form("华信铁路股份有限公司")


def test_the_explanation_names_the_form():
    match = best_match("Zhongtie Wuju", CREC5)
    assert match.name == "中铁五局集团有限公司" and match.name_form == "pinyin_joined"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.lists(st.text(max_size=40), max_size=3))
def test_scores_stay_between_zero_and_one(query, names):
    match = best_match(query, names)
    assert match is None or 0.0 <= match.score <= 1.0
