"""Krippendorff's alpha against the published worked example."""

import pytest

from vetting.rules import krippendorff_alpha

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
