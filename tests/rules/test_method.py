"""The method document says what the ruleset and the engine do. No database."""

from pathlib import Path

import pytest
import yaml

from vetting.method import render_method

RULESETS = Path(__file__).resolve().parents[2] / "seeds" / "rulesets"


def _method(version: str) -> str:
    return render_method(yaml.safe_load((RULESETS / f"{version}.yaml").read_text(encoding="utf-8")))


def test_the_2026_2_method_describes_one_association_one_voice():
    text = _method("2026.2")
    assert "each association's median over the scores of its own" in text
    assert "then the median across those association" in text
    assert "At least 1 of those associations must be independent" in text
    assert "none of its counted assessments was filed while the enterprise was its member" in text
    assert "standing is fixed on its submission date" in text


def test_the_2026_1_method_describes_the_median_over_all_counted_assessments():
    text = _method("2026.1")
    assert "the median of the scores of all counted assessments" in text
    assert "association medians" not in text and "At least 1 of the counted assessments must be independent" in text
    assert "Failing pillars named" not in text


def test_the_method_names_the_rows_that_name_failing_pillars():
    text = _method("2026.2")
    assert "Row 5 (`LOW_PILLAR`) names every pillar scored below `black_pillar_below` (25)" in text
    assert "Row 8 (`RED_PILLAR_FLOOR`) names every pillar scored below `red_pillar_at_least` (60)" in text
    assert "`PILLAR_<code>`" in text


@pytest.mark.parametrize("version", ["2026.1", "2026.2"])
def test_the_method_says_decided_challenges_hold_until_new_evidence(version):
    text = _method(version)
    assert "## Decided challenges" in text
    assert "same outcome on\nthe same reason codes is *held* for as long as no assessment has been submitted" in text
