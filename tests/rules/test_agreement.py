"""Krippendorff's alpha against the published worked example, and what it is computed over."""

from pathlib import Path

import pytest
import yaml

from vetting.rules import AssessmentFacts, CriterionScore, EnterpriseFacts, agreement_by_criterion, compile_ruleset, krippendorff_alpha

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011): four observers, twelve units.
UNITS = {
    1: [1, 1, None, 1], 2: [2, 2, 3, 2], 3: [3, 3, 3, 3], 4: [3, 3, 3, 3], 5: [2, 2, 2, 2], 6: [1, 2, 3, 4],
    7: [4, 4, 4, 4], 8: [1, 1, 2, 1], 9: [2, 2, 2, 2], 10: [None, 5, 5, 5], 11: [None, None, 1, 1], 12: [None, 3, None, None],
}


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_published_values(level, expected):
    assert krippendorff_alpha(UNITS, level) == pytest.approx(expected, abs=0.0005)


def test_perfect_agreement_and_no_data():
    assert krippendorff_alpha({1: [2, 2], 2: [3, 3, 3]}) == 1.0
    assert krippendorff_alpha({1: [2], 2: [None, 3]}) is None


def test_systematic_disagreement_is_negative():
    assert krippendorff_alpha({1: [0, 4], 2: [4, 0], 3: [0, 4]}) < 0


def test_agreement_leaves_out_assessments_with_a_conflicted_standing():
    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "seeds" / "rulesets" / "2026.1.yaml").read_text(encoding="utf-8"))
    rs = compile_ruleset(doc)

    def assessment(aid: int, score: int, standing: str | None) -> AssessmentFacts:
        return AssessmentFacts(id=aid, association="A", status="submitted", conflict_declared=False,
                               scores=(CriterionScore("E1", score),), standing=standing)

    facts = [EnterpriseFacts(enterprise_id=i, assessments=(assessment(1, 3, None), assessment(2, 3, "independent"),
                                                           assessment(3, 0, "conflicted"))) for i in (1, 2)]
    assert agreement_by_criterion(rs, facts)["E1"]["pairable_values"] == 4
