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


def _reference(query, names):
    """The scoring rule written as the plain loop it is: every query form against every form of
    every name, first best kept. ``best_matches`` must agree with it pair for pair."""
    from rapidfuzz import fuzz

    from vetting.matching.score import NUMBER_MISMATCH, _scale, numbers, searchable

    if not searchable(query):
        return None
    best = None
    q_numbers = numbers(fold(query))
    for name in names:
        n_numbers = numbers(fold(name))
        factor = NUMBER_MISMATCH if q_numbers and n_numbers and n_numbers != q_numbers else 1.0
        for nf in forms(name):
            for qf in forms(query):
                score = fuzz.ratio(qf.text, nf.text)
                if qf.kind == nf.kind == "tokens":
                    score = max(score, fuzz.token_sort_ratio(qf.text, nf.text))
                if len(qf.text) < len(nf.text):
                    chinese = any("\u3400" <= c <= "\u9fff" for c in qf.text) or nf.kind in ("pinyin", "pinyin_joined")
                    score = max(score, fuzz.partial_ratio(qf.text, nf.text) * _scale(qf.text, chinese, nf.text))
                score = round(score / 100 * factor, 4)
                if best is None or score > best[0]:
                    best = (score, name, nf.kind)
    return best


NAME_PARTS = st.sampled_from(["中铁", "五局", "华信", "港湾", "集团", "有限公司", "China", "Railway", "No.5", "No.3", "Harbour",
                              "Works", "Co., Ltd.", "zhongtie", "wuju", "ＣＯ", "鐵路", "Group", "3", "三"])


@settings(max_examples=150, deadline=None)
@given(st.lists(NAME_PARTS, min_size=1, max_size=4).map(" ".join),
       st.lists(st.lists(NAME_PARTS, min_size=1, max_size=5).map(" ".join), min_size=1, max_size=3))
def test_the_batched_scorer_agrees_with_the_plain_loop(query, names):
    expected = _reference(query, names)
    got = best_match(query, names)
    if expected is None:
        assert got is None
    else:
        assert (got.score, got.name, got.name_form) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(NAME_PARTS, min_size=1, max_size=4).map(" ".join),
       st.lists(st.lists(NAME_PARTS, min_size=1, max_size=5).map(" ".join), min_size=1, max_size=3),
       st.sampled_from([0.3, 0.6, 0.8, 0.95]))
def test_pruning_at_a_minimum_score_keeps_exactly_the_matches_above_it(query, names, min_score):
    from vetting.matching.score import best_matches

    expected = _reference(query, names)
    got = best_matches(query, [(0, name, forms(name)) for name in names], min_score=min_score).get(0)
    if expected is None or expected[0] < min_score:
        assert got is None
    else:
        assert (got.score, got.name, got.name_form) == expected


def test_names_sharing_a_stored_text_each_keep_their_own_match():
    from vetting.matching.score import best_matches

    # the same alias stored for two enterprises, and twice for one: each key gets its match
    entries = [(1, "中铁五局", forms("中铁五局")), (2, "China Railway No.5", forms("China Railway No.5")),
               (2, "中铁五局", forms("中铁五局")), (3, "中铁五局", forms("中铁五局"))]
    found = best_matches("中铁五局", entries, min_score=0.6)
    assert set(found) == {1, 2, 3}
    assert all(found[k].score == 1.0 and found[k].name == "中铁五局" for k in (1, 2, 3))


def test_packed_forms_round_trip_and_tokens_skip_legal_form_noise():
    from vetting.matching.forms import pack, tokens_of, unpack

    stored = forms("China Railway No.5 Engineering Group Co., Ltd.")
    assert unpack(pack(stored)) == stored and unpack("") == []
    keys = tokens_of(stored)
    assert "railway" in keys and "ltd" not in keys and "dco" not in keys
    assert {"中铁", "五局"} <= tokens_of(forms("中铁五局集团有限公司")) and "公司" not in tokens_of(forms("中铁五局集团有限公司"))


def test_a_leading_place_name_is_also_dropped():
    from vetting.matching.places import without_place

    assert without_place("北京华信路桥工程") == "华信路桥工程" and without_place("广西壮族自治区星河矿业") == "星河矿业"
    assert without_place("beijing huaxin road and bridge") == "huaxin road and bridge"
    assert without_place("shanghai electric") is None and without_place("北京") is None and without_place("华信路桥") is None
    kinds = {f.kind: f.text for f in forms("北京市星河路桥工程有限公司")}
    assert kinds["trade"] == "星河路桥工程" and best_match("Xinghe Luqiao", ["北京市星河路桥工程有限公司"]).score >= 0.8


def test_spelling_keys_meet_one_edit_apart():
    from vetting.matching.forms import corrected_words, spelling_keys

    word = "huaxin"
    assert spelling_keys(word) == {"uaxin", "haxin", "huxin", "huain", "huaxn", "huaxi"}
    for typed in ("huxain", "hauxin", "huaxim", "huaxi", "huaxinn"):  # swapped, changed, dropped, added
        keys = spelling_keys(typed) | {typed}
        assert keys & (spelling_keys(word) | {word}), typed
    assert not (spelling_keys("huaxin") | {"huaxin"}) & (spelling_keys("hxnaiu") | {"hxnaiu"})
    assert corrected_words("Huxain Road Co", ["co", "hux", "huxain", "road", "roa"]) == ["huxain", "road"]
    assert corrected_words("华信 Huxain", ["huxain", "华信"]) == []
