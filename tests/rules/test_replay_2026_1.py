"""Decisions stored under ruleset 2026.1 replay byte for byte. No database.

A stored decision is the canonical JSON of its facts (``facts_to_document``) and the ruleset
document; replaying it runs ``facts_from_document`` → ``evaluate`` → ``decision_bytes``. The
SHA-256s in ``replay_2026_1.json`` were recorded with the engine as it was before standing,
association medians, challenges and named pillars were added (commit 86f6948), for:

- every golden case of 2026.1 (its facts' bytes and its decision's bytes);
- a fixed corpus of pseudo-random facts drawn by :func:`legacy_facts` from seeded
  ``random.Random`` generators (stable across Python versions), which exercise every status,
  conflicts, knock-outs, allegations, projects, n/a answers and evidence patterns.

Any change to the bytes of an old facts document or of an old decision fails here. The file
must never be regenerated from newer code: :func:`record` exists only to document how it was
made.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vetting.rules import (
    AssessmentFacts,
    CriterionScore,
    EnterpriseFacts,
    Evidence,
    KnockoutFinding,
    ProjectFacts,
    canonical_json,
    compile_ruleset,
    decision_bytes,
    evaluate,
    facts_from_document,
    facts_to_document,
    load_cases,
    sha256_hex,
)
from vetting.rules.cases import case_facts

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "seeds" / "rulesets"
FIXTURE = Path(__file__).with_name("replay_2026_1.json")
RS = compile_ruleset(yaml.safe_load((RULESETS / "2026.1.yaml").read_text(encoding="utf-8")))
CASES = load_cases(RULESETS / "2026.1.cases.yaml")
CRITERIA = [c["code"] for c in RS.document["criteria"]]
KNOCKOUTS = [k["code"] for k in RS.document["knockouts"]]
CORPUS_SIZE = 400


def legacy_facts(seed: int) -> EnterpriseFacts:
    """Pseudo-random facts of the kind stored before the new fields existed."""
    rng = random.Random(seed)
    projects = tuple(
        ProjectFacts(id=pid, host_country=rng.choice(["PK", "KE", "ID", "RS", "LA"]),
                     equator_category=rng.choice([None, "A", "B", "C"]),
                     brigc_class=rng.choice([None, "green", "yellow", "red"] if rng.random() < 0.3 else [None, "green"]))
        for pid in rng.sample(range(1, 60), rng.randint(0, 2))
    )
    base = rng.choice([0, 1, 2, 2, 3, 3, 3, 4, 4])
    weak = rng.choice("ESGP"), rng.choice([0, 0, -1, -2, -3])  # one pillar scored lower, sometimes
    evidence_rate = rng.choice([0.0, 0.4, 0.8, 1.0])
    assessments = tuple(
        _legacy_assessment(rng, aid, base, weak, evidence_rate, projects)
        for aid in rng.sample(range(1, 500), rng.choice([0, 1, 2, 3, 3, 4, 4, 5, 6, 7]))
    )
    return EnterpriseFacts(
        enterprise_id=rng.randint(1, 10**6),
        member_associations=frozenset(rng.sample("ABCD", rng.choice([0, 1, 1, 2]))),
        projects=projects,
        assessments=assessments,
        open_allegations=("FORCED_LABOUR",) if rng.random() < 0.08 else (),
    )


def _legacy_assessment(rng: random.Random, aid: int, base: int, weak: tuple[str, int], evidence_rate: float,
                       projects: tuple[ProjectFacts, ...]) -> AssessmentFacts:
    scores = []
    for code in CRITERIA:
        if rng.random() < 0.03:
            continue  # a criterion left out
        if rng.random() < 0.08:
            scores.append(CriterionScore(code, None, "not applicable here"))
            continue
        shift = weak[1] if code.startswith(weak[0]) else 0
        value = min(4, max(0, base + shift + rng.choice([-2, -1, 0, 0, 0, 0, 1])))
        evidence: tuple[Evidence, ...] = ()
        if rng.random() < evidence_rate:
            evidence = tuple(Evidence(rng.choice(["document", "url", "site_visit"]), f"ref {code} {i}")
                             for i in range(rng.choice([1, 1, 1, 2])))
        scores.append(CriterionScore(code, value, rng.choice([None, "seen on site"]), evidence))
    if rng.random() < 0.05:
        scores.append(CriterionScore("X9", 3, None, ()))  # a criterion the ruleset does not know
    if rng.random() < 0.3:
        rng.shuffle(scores)
    knockouts: tuple[KnockoutFinding, ...] = ()
    if rng.random() < 0.1:
        knockouts = (KnockoutFinding(rng.choice(KNOCKOUTS), rng.choice(["confirmed", "alleged"]),
                                     (Evidence("document", "finding"),) if rng.random() < 0.6 else (),
                                     rng.choice(["", "petition"])),)
    return AssessmentFacts(
        id=aid,
        association=rng.choice("ABCDE"),
        status=rng.choice(["submitted"] * 8 + ["withdrawn", "superseded", "draft"]),
        conflict_declared=rng.random() < 0.07,
        scores=tuple(scores),
        knockouts=knockouts,
        project_id=rng.choice([None, *(p.id for p in projects)]),
        submitted_at=rng.choice([None, "2026-03-04T10:00:00+00:00", f"2026-05-{rng.randint(10, 28)}T08:30:00+08:00"]),
    )


def _replayed(facts: EnterpriseFacts) -> tuple[str, str]:
    """The SHA-256s of the facts' stored bytes and of the decision replayed from them."""
    inputs = canonical_json(facts_to_document(facts), exact=True)
    decision = evaluate(RS, facts_from_document(json.loads(inputs)))
    return sha256_hex(inputs), sha256_hex(decision_bytes(decision))


def record() -> dict[str, object]:
    """The fixture's content, as computed by the code in place (run only on commit 86f6948)."""
    golden = {}
    for case in CASES:
        inputs, decision = _replayed(case_facts(RS, case))
        golden[case["name"]] = {"inputs": inputs, "decision": decision}
    corpus = [dict(zip(("inputs", "decision"), _replayed(legacy_facts(seed)))) for seed in range(CORPUS_SIZE)]
    return {"ruleset_hash": RS.hash, "golden": golden, "corpus": corpus}


RECORDED = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else {}


def test_the_2026_1_ruleset_document_is_unchanged():
    assert RS.hash == RECORDED["ruleset_hash"]


def test_every_golden_case_is_recorded():
    assert sorted(RECORDED["golden"]) == sorted(c["name"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case_replays_byte_identically(case):
    inputs, decision = _replayed(case_facts(RS, case))
    assert {"inputs": inputs, "decision": decision} == RECORDED["golden"][case["name"]]


@pytest.mark.parametrize("seed", range(CORPUS_SIZE))
def test_stored_decision_replays_byte_identically(seed):
    inputs, decision = _replayed(legacy_facts(seed))
    assert {"inputs": inputs, "decision": decision} == RECORDED["corpus"][seed]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=CORPUS_SIZE, max_value=2**32))
def test_facts_without_the_new_fields_never_show_them(seed):
    """Beyond the recorded corpus: facts of the old kind write no new key, and their 2026.1
    decisions carry none of the new parts (their bytes are pinned by the recorded corpus)."""
    facts = legacy_facts(seed)
    doc = facts_to_document(facts)
    assert "challenges" not in doc and all("standing" not in a for a in doc["assessments"])
    decision = evaluate(RS, facts)
    assert not decision.held and "held_by" not in decision.document
    assert all("association_medians" not in c for c in decision.document["criteria"])
    assert not any(code.startswith("PILLAR_") for code in decision.reason_codes)


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    FIXTURE.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
