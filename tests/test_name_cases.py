"""The name cases in ``tests/data/name_cases.yaml`` against the stored index and the search
service, on whichever database the suite runs on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from vetting.models import EnterpriseAlias
from vetting.services.search import index_enterprises, search

CASES = yaml.safe_load((Path(__file__).parent / "data" / "name_cases.yaml").read_text(encoding="utf-8"))


def test_the_case_file_is_broad_enough():
    cases = CASES["cases"]
    assert len(cases) >= 60
    assert {c["kind"] for c in cases} >= {"chinese", "pinyin", "english", "suffix", "typo", "fullwidth", "traditional",
                                           "word_order", "short", "near_miss"}
    assert all(c["expect"] is None or c["expect"] in CASES["register"] for c in cases)


@pytest.fixture()
def register(session, make_enterprise):
    ids = {}
    for key, spec in CASES["register"].items():
        ent = make_enterprise(legal_name=spec["legal"], chinese_name=spec.get("chinese"), country=spec.get("country", "CN"))
        ent.aliases = [EnterpriseAlias(name=a) for a in spec.get("aliases", [])]
        ids[ent.id] = key
    session.flush()
    index_enterprises(session, list(ids))
    return ids


def test_name_cases(session, register):
    threshold = CASES["match_score"]
    misses, false_matches, found = [], [], Counter()
    positives = [c for c in CASES["cases"] if c["expect"]]
    for case in CASES["cases"]:
        hits = search(session, case["q"], limit=10).hits
        top = [(register.get(h.enterprise.id), h.match.score) for h in hits]
        if case["expect"] is None:
            if any(score >= threshold for _, score in top):
                false_matches.append((case["kind"], case["q"], top[:3]))
        elif top and top[0][0] == case["expect"]:
            found[case["kind"]] += 1
        else:
            misses.append((case["kind"], case["q"], case["expect"], top[:3]))
    recall = sum(found.values()) / len(positives)
    assert not false_matches, f"matched what must not match: {false_matches}"
    assert recall >= CASES["min_recall_at_1"], f"recall@1 {recall:.3f}; missed: {misses}"
