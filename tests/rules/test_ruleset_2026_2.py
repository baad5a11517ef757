"""Ruleset 2026.2 and the rules it brought: standings fixed at filing, one association one voice,
decided challenges that hold a decision, failing pillars named. No database."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vetting.rules import (
    AssessmentFacts,
    CriterionScore,
    DecidedChallenge,
    EnterpriseFacts,
    Evidence,
    KnockoutFinding,
    RulesetError,
    canonical_json,
    compile_ruleset,
    decision_bytes,
    evaluate,
    facts_from_document,
    facts_to_document,
    load_cases,
    rank,
    run_cases,
)

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "seeds" / "rulesets"
DOC_1 = yaml.safe_load((RULESETS / "2026.1.yaml").read_text(encoding="utf-8"))
DOC_2 = yaml.safe_load((RULESETS / "2026.2.yaml").read_text(encoding="utf-8"))
RS_1 = compile_ruleset(DOC_1)
RS_2 = compile_ruleset(DOC_2)
CASES = load_cases(RULESETS / "2026.2.cases.yaml")
CRITERIA = [c["code"] for c in RS_2.document["criteria"]]
EV = (Evidence("document", "report"),)


def scored(aid: int, association: str, level: int, *, overrides: dict[str, int | None] | None = None,
           **fields: object) -> AssessmentFacts:
    """A submitted assessment scoring every criterion ``level`` (with evidence), but ``overrides``."""
    values = {c: level for c in CRITERIA} | (overrides or {})
    scores = tuple(CriterionScore(c, v, None if v is not None else "n/a here", EV if v is not None else ())
                   for c, v in values.items())
    return AssessmentFacts(id=aid, association=association, status="submitted", conflict_declared=False, scores=scores,
                           **fields)


def enterprise(*assessments: AssessmentFacts, members: str = "", **fields: object) -> EnterpriseFacts:
    return EnterpriseFacts(enterprise_id=1, member_associations=frozenset(members), assessments=assessments, **fields)


def criterion(decision, code: str) -> dict:
    return next(c for c in decision.document["criteria"] if c["criterion"] == code)


# -- the ruleset and its golden cases -----------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case_2026_2(case):
    [result] = run_cases(RS_2, [case])
    assert result.passed, f"expected {result.expected}, got {result.got}"


def test_golden_cases_2026_2_cover_every_row_knockout_and_blocker():
    reasons = {code for c in CASES for code in c["expect"]["reason_codes"]}
    assert {row["reason"] for row in RS_2.document["outcomes"]} <= reasons
    assert {k["code"] for k in RS_2.document["knockouts"]} <= reasons
    assert {b["code"] for b in RS_2.document["red_blockers"]} <= reasons
    assert {"PILLAR_E", "PILLAR_S", "PILLAR_P"} <= reasons
    held = [c["expect"].get("held_by") for c in CASES if "held_by" in c["expect"]]
    assert None in held and {"O2027-ABC", "R2027-007"} <= set(held)


def test_golden_cases_2026_2_keep_every_2026_1_case():
    old = load_cases(RULESETS / "2026.1.cases.yaml")
    assert [c["name"] for c in CASES[:len(old)]] == [c["name"] for c in old]


def test_2026_2_is_2026_1_with_the_announced_changes():
    doc_1, doc_2 = copy.deepcopy(RS_1.document), copy.deepcopy(RS_2.document)
    assert (doc_2["version"], doc_2["effective_date"]) == ("2026.2", "2026-12-08")
    assert doc_2["aggregation"]["method"] == "median_of_association_medians"
    rows = doc_2["outcomes"]
    assert rows[4]["reason"] == "LOW_PILLAR" and rows[4].pop("name_pillars_below") == "black_pillar_below"
    floor = rows.pop(-2)
    assert floor == {"when": "total >= red_total_at_least and min_pillar < red_pillar_at_least", "outcome": "NONE",
                     "reason": "RED_PILLAR_FLOOR", "grounds": "The total meets the red threshold but a pillar is below the red floor.",
                     "name_pillars_below": "red_pillar_at_least"}
    for key in ("version", "effective_date", "title"):
        doc_1.pop(key), doc_2.pop(key)
    doc_2["aggregation"]["method"] = "median"
    assert doc_1 == doc_2


def test_schema_accepts_the_two_aggregation_methods_only():
    for method in ("median", "median_of_association_medians"):
        doc = copy.deepcopy(DOC_1)
        doc["aggregation"]["method"] = method
        compile_ruleset(doc)
    doc = copy.deepcopy(DOC_1)
    doc["aggregation"]["method"] = "mean"
    with pytest.raises(RulesetError) as err:
        compile_ruleset(doc)
    assert "aggregation.method" in err.value.errors


def test_name_pillars_below_must_name_a_threshold():
    doc = copy.deepcopy(DOC_1)
    doc["outcomes"][4]["name_pillars_below"] = "no_such_threshold"
    with pytest.raises(RulesetError) as err:
        compile_ruleset(doc)
    assert any("not one of the thresholds" in m for m in err.value.errors["outcomes.4.name_pillars_below"])


def test_rows_without_name_pillars_below_get_no_such_key():
    assert all("name_pillars_below" not in row for row in RS_1.document["outcomes"])


# -- standing fixed at filing -----------------------------------------------------------------

def test_standing_is_written_only_when_recorded():
    legacy = facts_to_document(enterprise(scored(1, "A", 3)))
    assert "standing" not in legacy["assessments"][0] and "challenges" not in legacy
    recorded = facts_to_document(enterprise(scored(1, "A", 3, standing="member")))
    assert recorded["assessments"][0]["standing"] == "member"


def test_standings_and_challenges_survive_the_document_round_trip():
    facts = enterprise(scored(1, "A", 3, standing="independent", submitted_at="2027-01-01T00:00:00+00:00"),
                       challenges=(DecidedChallenge("repair_granted", "R1", "BLACK", ("LOW_TOTAL",), "2027-02-01T00:00:00+00:00"),))
    back = facts_from_document(facts_to_document(facts))
    assert back.assessments[0].standing == "independent" and back.challenges == facts.challenges
    assert facts_to_document(back) == facts_to_document(facts)


def test_an_unknown_standing_is_refused():
    with pytest.raises(ValueError, match="standing"):
        scored(1, "A", 3, standing="friendly")


def test_an_independent_standing_counts_though_the_enterprise_is_now_a_member():
    facts = enterprise(scored(1, "A", 3, standing="independent"), scored(2, "B", 3, standing="member"),
                       scored(3, "B", 3, standing="member"), members="AB")
    for rs in (RS_1, RS_2):
        d = evaluate(rs, facts)
        assert d.document["quorum"]["independent"] == 1 and d.outcome == "RED"


def test_a_member_standing_stays_dependent_after_the_membership_ended():
    facts = enterprise(scored(1, "A", 3, standing="member"), scored(2, "B", 3, standing="member"), scored(3, "B", 3, standing="member"))
    for rs in (RS_1, RS_2):
        d = evaluate(rs, facts)
        assert d.document["quorum"]["independent"] == 0 and d.reason_codes == ("QUORUM_NOT_MET",)


def test_without_a_standing_the_enterprise_memberships_decide_independence():
    facts = enterprise(scored(1, "A", 3), scored(2, "B", 3), scored(3, "B", 3), members="A")
    assert evaluate(RS_1, facts).document["quorum"]["independent"] == 2  # assessments
    assert evaluate(RS_2, facts).document["quorum"]["independent"] == 1  # associations


def test_a_conflicted_standing_is_excluded_as_a_conflict_of_interest():
    conflicted = scored(4, "D", 0, standing="conflicted",
                        knockouts=(KnockoutFinding("MDB_DEBARMENT", "confirmed", EV),))
    d = evaluate(RS_2, enterprise(scored(1, "A", 3), scored(2, "B", 3), scored(3, "C", 3), conflicted))
    assert {"assessment": 4, "association": "D", "reason": "conflict_of_interest"} in d.document["assessments"]["excluded"]
    assert d.document["assessments"]["counted"] == [1, 2, 3] and d.outcome == "RED"


def test_a_withdrawn_assessment_is_excluded_as_withdrawn_whatever_its_standing():
    withdrawn = dataclasses.replace(scored(4, "D", 0, standing="conflicted"), status="withdrawn")
    d = evaluate(RS_2, enterprise(scored(1, "A", 3), withdrawn))
    assert {"assessment": 4, "association": "D", "reason": "withdrawn"} in d.document["assessments"]["excluded"]


# -- one association, one voice ---------------------------------------------------------------

def test_each_association_median_comes_first_then_the_median_across_them():
    facts = enterprise(scored(1, "A", 0), scored(2, "A", 0), scored(3, "B", 4))
    e1 = criterion(evaluate(RS_2, facts), "E1")
    assert e1["association_medians"] == {"A": 0.0, "B": 4.0} and e1["median"] == 2.0
    assert criterion(evaluate(RS_1, facts), "E1")["median"] == 0.0


def test_an_association_median_may_fall_between_levels():
    facts = enterprise(scored(1, "A", 2), scored(2, "A", 3), scored(3, "B", 3), scored(4, "C", 4))
    e1 = criterion(evaluate(RS_2, facts), "E1")
    assert e1["association_medians"] == {"A": 2.5, "B": 3.0, "C": 4.0} and e1["median"] == 3.0


def test_an_association_that_answers_n_a_has_no_voice_on_that_criterion():
    facts = enterprise(scored(1, "A", 0, overrides={"S3": None}), scored(2, "B", 4), scored(3, "C", 3))
    s3 = criterion(evaluate(RS_2, facts), "S3")
    assert s3["association_medians"] == {"B": 4.0, "C": 3.0} and s3["median"] == 3.5


def test_association_medians_appear_only_under_the_new_method():
    facts = enterprise(scored(1, "A", 3), scored(2, "B", 3))
    assert all("association_medians" not in c for c in evaluate(RS_1, facts).document["criteria"])
    assert all(c["association_medians"] == {"A": 3.0, "B": 3.0} for c in evaluate(RS_2, facts).document["criteria"])
    empty = evaluate(RS_2, enterprise()).document["criteria"]
    assert all(c["association_medians"] == {} and c["median"] is None for c in empty)


def test_spread_and_disputed_stay_over_every_counted_score():
    facts = enterprise(scored(1, "A", 1), scored(2, "A", 3), scored(3, "B", 2))  # association medians 2 and 2
    e1 = criterion(evaluate(RS_2, facts), "E1")
    assert e1["median"] == 2.0 and e1["spread"] == 2 and e1["disputed"] is True


def test_the_quorum_counts_independent_associations_conservatively():
    """An association with one member-standing and one independent-standing assessment is not
    independent under the new method; counted one by one, its independent assessment would be."""
    facts = enterprise(scored(1, "A", 3, standing="member"), scored(2, "A", 3, standing="independent"),
                       scored(3, "B", 3, standing="member"))
    new = evaluate(RS_2, facts)
    assert {k: new.document["quorum"][k] for k in ("counted", "associations", "independent", "met")} == \
        {"counted": 3, "associations": 2, "independent": 0, "met": False}
    assert "0 independent association(s) of 1 needed" in new.document["grounds"]
    old = evaluate(RS_1, facts)
    assert old.document["quorum"]["independent"] == 1 and old.outcome == "RED"


def test_what_it_would_take_asks_for_independent_associations_under_the_new_method():
    facts = enterprise(scored(1, "A", 3, standing="member"), scored(2, "B", 3, standing="member"), scored(3, "B", 3, standing="member"))
    plan = evaluate(RS_2, facts).document["what_it_would_take"]
    assert plan["quorum_needed"] == {"counted": 0, "associations": 0, "independent": 1}
    assert "1 more association(s) none of whose counted assessments was filed while the enterprise was its member" in plan["summary"]
    old = evaluate(RS_1, facts).document["what_it_would_take"]["summary"]
    assert "1 assessment(s) from an association the enterprise is not a member of" in old


# -- decided challenges bind ------------------------------------------------------------------

LOW_E = {"E1": 0, "E2": 1, "E3": 1, "E4": 1}  # BLACK on LOW_PILLAR, PILLAR_E under 2026.2


def low_e(*submitted: str | None, **fields: object) -> EnterpriseFacts:
    return enterprise(*(scored(i + 1, "ABC"[i % 3], 4, overrides=LOW_E, submitted_at=at) for i, at in enumerate(submitted)), **fields)


def challenge(reference: str = "O2027-ABC", decided_at: str = "2027-03-05T10:00:00+00:00", *, kind: str = "objection_upheld",
              outcome: str = "BLACK", codes: tuple[str, ...] = ("PILLAR_E", "LOW_PILLAR")) -> DecidedChallenge:
    return DecidedChallenge(kind, reference, outcome, codes, decided_at)


BEFORE = ("2027-01-10T09:00:00+00:00", "2027-01-11T09:00:00+00:00", "2027-01-12T09:00:00+00:00")


def test_challenges_are_written_only_when_present_sorted_by_date_and_reference():
    assert "challenges" not in facts_to_document(low_e(*BEFORE))
    doc = facts_to_document(low_e(*BEFORE, challenges=(challenge("O2", "2027-04-01T00:00:00+00:00"), challenge("O9"), challenge("O1"))))
    assert [c["reference"] for c in doc["challenges"]] == ["O1", "O9", "O2"]
    assert doc["challenges"][0] == {"kind": "objection_upheld", "reference": "O1", "outcome": "BLACK",
                                    "reason_codes": ["PILLAR_E", "LOW_PILLAR"], "decided_at": "2027-03-05T10:00:00+00:00"}


def test_a_challenge_on_the_same_outcome_and_codes_with_nothing_filed_since_holds():
    d = evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(),)))
    assert d.held and d.document["held_by"] == {"kind": "objection_upheld", "reference": "O2027-ABC",
                                                "decided_at": "2027-03-05T10:00:00+00:00"}
    assert d.document["grounds"].endswith(" Not proposed again: objection O2027-ABC upheld on 2027-03-05 on the same grounds, "
                                          "and no new evidence has been filed since.")


def test_a_granted_repair_holds_in_its_own_words():
    d = evaluate(RS_2, low_e(*BEFORE, challenges=(challenge("R2027-7", kind="repair_granted"),)))
    assert d.held and "Not proposed again: repair R2027-7 granted on 2027-03-05 on the same grounds" in d.document["grounds"]


def test_holding_changes_neither_outcome_nor_reasons():
    free = evaluate(RS_2, low_e(*BEFORE))
    held = evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(),)))
    assert not free.held and "held_by" not in free.document
    assert (held.outcome, held.reason_codes) == (free.outcome, free.reason_codes)
    differ = {k for k in set(free.document) | set(held.document) if free.document.get(k) != held.document.get(k)}
    assert differ == {"held_by", "grounds", "input_hash"}
    assert held.document["grounds"].startswith(free.document["grounds"] + " Not proposed again")


def test_an_assessment_of_any_status_submitted_after_the_challenge_lifts_the_hold():
    later = dataclasses.replace(scored(9, "D", 0, submitted_at="2027-03-06T00:00:00+00:00"), status="withdrawn")
    facts = low_e(*BEFORE, challenges=(challenge(),))
    assert not evaluate(RS_2, dataclasses.replace(facts, assessments=facts.assessments + (later,))).held


def test_an_assessment_submitted_at_the_moment_of_the_decision_does_not_lift_it():
    assert evaluate(RS_2, low_e(*BEFORE[:2], "2027-03-05T10:00:00+00:00", challenges=(challenge(),))).held


def test_assessments_without_a_submission_date_do_not_lift_it():
    assert evaluate(RS_2, low_e(*BEFORE, None, challenges=(challenge(),))).held


def test_times_compare_as_instants_and_naive_ones_are_utc():
    naive = challenge(decided_at="2027-03-05T10:00:00")
    # 11:00 at +02:00 is 09:00 UTC (before the decision); 12:00 at +01:00 is 11:00 UTC (after)
    assert evaluate(RS_2, low_e(*BEFORE[:2], "2027-03-05T11:00:00+02:00", challenges=(naive,))).held
    assert not evaluate(RS_2, low_e(*BEFORE[:2], "2027-03-05T12:00:00+01:00", challenges=(naive,))).held


def test_reason_codes_compare_in_any_order_but_must_be_the_same():
    assert evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(codes=("LOW_PILLAR", "PILLAR_E")),))).held
    assert not evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(codes=("LOW_PILLAR",)),))).held
    assert not evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(codes=("LOW_PILLAR", "PILLAR_E", "PILLAR_P")),))).held


def test_a_challenge_on_another_outcome_does_not_hold():
    assert not evaluate(RS_2, low_e(*BEFORE, challenges=(challenge(outcome="NONE"),))).held


def test_the_latest_holding_challenge_is_named():
    challenges = (challenge("O1", "2027-02-01T00:00:00+00:00"), challenge("O3", "2027-03-01T00:00:00+00:00"),
                  challenge("O2", "2027-03-01T01:00:00+02:00"))  # O2 is 23:00 UTC the day before O3
    d = evaluate(RS_2, low_e(*BEFORE, challenges=challenges))
    assert d.document["held_by"]["reference"] == "O3"


def test_an_overtaken_challenge_gives_way_to_a_later_one_that_holds():
    challenges = (challenge("O1", "2027-01-11T00:00:00+00:00"), challenge("O2", "2027-02-01T00:00:00+00:00"))
    assert evaluate(RS_2, low_e(*BEFORE, challenges=challenges)).document["held_by"]["reference"] == "O2"


def test_challenges_hold_under_2026_1_too_on_its_own_reason_codes():
    d = evaluate(RS_1, low_e(*BEFORE, challenges=(challenge(codes=("LOW_PILLAR",)),)))
    assert d.held and d.reason_codes == ("LOW_PILLAR",)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"kind": "objection_rejected"}, "kind"),
    ({"outcome": "GREY"}, "outcome"),
    ({"decided_at": "last Tuesday"}, "isoformat"),
])
def test_a_malformed_challenge_is_refused(change, fragment):
    fields = {"kind": "objection_upheld", "reference": "O1", "outcome": "BLACK", "reason_codes": ("LOW_TOTAL",),
              "decided_at": "2027-03-05T10:00:00+00:00"} | change
    with pytest.raises(ValueError, match=fragment):
        DecidedChallenge(**fields)


# -- failing pillars named --------------------------------------------------------------------

P_55 = {"P1": 2, "P2": 3, "P3": 2, "P4": 2, "P5": 2}


def test_a_high_total_failing_only_the_red_pillar_floor_names_the_pillar():
    d = evaluate(RS_2, enterprise(*(scored(i, a, 4, overrides=P_55) for i, a in enumerate("ABC", 1))))
    assert d.outcome == "NONE" and d.reason_codes == ("RED_PILLAR_FLOOR", "PILLAR_P")
    assert "Below 60: P (Project quality) 55.0." in d.document["grounds"]


def test_low_pillar_names_every_pillar_below_the_black_floor_in_pillar_order():
    low = LOW_E | {"P1": 0, "P2": 1, "P3": 0, "P4": 1, "P5": 1}
    d = evaluate(RS_2, enterprise(*(scored(i, a, 4, overrides=low) for i, a in enumerate("ABC", 1))))
    assert d.reason_codes == ("LOW_PILLAR", "PILLAR_E", "PILLAR_P")
    assert "Below 25: E (Environment) 18.3, P (Project quality) 12.5." in d.document["grounds"]
    assert "Lowest pillar" not in d.document["grounds"]


def test_without_name_pillars_below_the_row_gives_its_reason_alone():
    d = evaluate(RS_1, enterprise(*(scored(i, a, 4, overrides=P_55) for i, a in enumerate("ABC", 1))))
    assert d.reason_codes == ("NOT_LISTED",) and "Below" not in d.document["grounds"]


# -- properties -------------------------------------------------------------------------------

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
score = st.one_of(st.integers(min_value=0, max_value=4), st.none())


@st.composite
def assessments_2026_2(draw, n_max=6):
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=n_max))):
        scores = tuple(CriterionScore(c, s, None if s is not None else "n/a here", EV if draw(st.booleans()) else ())
                       for c, s in zip(CRITERIA, draw(st.lists(score, min_size=len(CRITERIA), max_size=len(CRITERIA)))))
        kos = ()
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            kos = (KnockoutFinding(draw(st.sampled_from(["FORCED_EVICTION", "MDB_DEBARMENT"])),
                                   draw(st.sampled_from(["alleged", "confirmed"])), EV),)
        out.append(AssessmentFacts(
            id=i + 1, association=draw(st.sampled_from("ABCD")),
            status=draw(st.sampled_from(["submitted"] * 5 + ["withdrawn", "superseded"])),
            conflict_declared=draw(st.integers(min_value=0, max_value=8)) == 0, scores=scores, knockouts=kos,
            standing=draw(st.sampled_from([None, None, "member", "independent", "independent", "conflicted"])),
        ))
    return tuple(out)


@st.composite
def enterprises_2026_2(draw):
    return EnterpriseFacts(enterprise_id=draw(st.integers(min_value=1, max_value=10**6)),
                           member_associations=frozenset(draw(st.sets(st.sampled_from("ABCD"), max_size=2))),
                           assessments=draw(assessments_2026_2()))


@PROPS
@given(enterprises_2026_2(), st.sampled_from("ABCD"), st.integers(min_value=1, max_value=4))
def test_duplicating_an_association_assessments_never_changes_a_median_or_the_outcome(facts, association, times):
    """Filing the same view again gives an association no more voice. (The count of counted
    assessments does grow, so the outcome is compared once that minimum is already met: below
    it, more assessments can complete the quorum, which is what that minimum is for.)"""
    own = [a for a in facts.assessments if a.association == association]
    next_id = max((a.id for a in facts.assessments), default=0) + 1
    copies = tuple(dataclasses.replace(a, id=next_id + k) for k, a in enumerate(own * times))
    before = evaluate(RS_2, facts)
    after = evaluate(RS_2, dataclasses.replace(facts, assessments=facts.assessments + copies))
    medians = [(c["criterion"], c["median"], c["association_medians"]) for c in before.document["criteria"]]
    assert medians == [(c["criterion"], c["median"], c["association_medians"]) for c in after.document["criteria"]]
    assert before.document["scores"] == after.document["scores"]
    if before.document["quorum"]["counted"] >= before.document["quorum"]["min_counted"]:
        assert (after.outcome, after.reason_codes) == (before.outcome, before.reason_codes)


@PROPS
@given(enterprises_2026_2(), st.data())
def test_raising_one_counted_score_never_worsens_the_outcome_under_2026_2(facts, data):
    counted = [a for a in facts.assessments if a.status == "submitted" and not a.conflicted]
    if not counted:
        return
    target = data.draw(st.sampled_from(counted))
    idx = data.draw(st.integers(min_value=0, max_value=len(CRITERIA) - 1))
    old = target.scores[idx]
    if old.score is None or old.score == 4:
        return
    new_scores = target.scores[:idx] + (dataclasses.replace(old, score=old.score + 1),) + target.scores[idx + 1:]
    raised = dataclasses.replace(facts, assessments=tuple(
        dataclasses.replace(a, scores=new_scores) if a.id == target.id else a for a in facts.assessments))
    assert rank(evaluate(RS_2, raised).outcome) >= rank(evaluate(RS_2, facts).outcome)


@PROPS
@given(enterprises_2026_2())
def test_what_it_would_take_really_reaches_the_target_under_2026_2(facts):
    d = evaluate(RS_2, facts)
    plan = d.document["what_it_would_take"]
    if plan is None:
        assert d.outcome == "RED"
        return
    if not plan["reachable"] or plan["quorum_needed"] or plan["evidence_needed"]:
        return
    changes = {c["criterion"]: int(c["to"]) for c in plan["criterion_changes"]}
    new = []
    for a in facts.assessments:
        scores = tuple(dataclasses.replace(s, score=changes[s.criterion], evidence=EV)
                       if s.criterion in changes and s.score is not None else s for s in a.scores)
        new.append(dataclasses.replace(a, scores=scores, knockouts=()))
    moved = evaluate(RS_2, dataclasses.replace(facts, assessments=tuple(new), projects=(), open_allegations=()))
    assert rank(moved.outcome) >= rank(plan["target"]), (plan, moved.reason_codes)


@PROPS
@given(enterprises_2026_2())
def test_replay_through_the_stored_document_is_identical_under_2026_2(facts):
    stored = canonical_json(facts_to_document(facts), exact=True)
    assert decision_bytes(evaluate(RS_2, facts_from_document(json.loads(stored)))) == decision_bytes(evaluate(RS_2, facts))
