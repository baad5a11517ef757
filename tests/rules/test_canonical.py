"""Canonical JSON: the fast encoder never changes the bytes the reference encoder defines."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vetting.rules.canonical import canonical_json, reference_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),
    st.floats(min_value=1e15, max_value=1e17),
    st.sampled_from([0.0001, 0.00001, 2.5e-05, 1e-07, 1e16, -0.0, 5e-324, 1e-4 * 0.999]),
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x40)),
)
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
                         max_leaves=30)


@settings(max_examples=1000, deadline=None)
@given(documents)
def test_fast_encoding_equals_the_reference(document):
    assert canonical_json(document, exact=True) == reference_json(document)


def test_reference_is_sorted_compact_utf8():
    assert reference_json({"b": 1, "a": ["中", 0.5]}) == '{"a":["中",0.5],"b":1}'.encode()


@pytest.mark.parametrize("value", [float("nan"), math.inf])
def test_normalised_documents_refuse_nan_and_infinity(value):
    with pytest.raises(ValueError):
        canonical_json({"x": value})


def test_normalised_floats_round_to_six_decimals_and_drop_negative_zero():
    assert json.loads(canonical_json({"x": 1 / 3, "y": -0.0000001})) == {"x": 0.333333, "y": 0.0}
