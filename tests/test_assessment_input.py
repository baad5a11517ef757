"""Assessment payloads checked against the ruleset (no database)."""

from pathlib import Path

import pytest
import yaml

from vetting.errors import ValidationError
from vetting.services.assessment_input import parse

DOC = yaml.safe_load((Path(__file__).resolve().parents[1] / "seeds" / "rulesets" / "2026.1.yaml").read_text(encoding="utf-8"))
CRITERIA = [c["code"] for c in DOC["criteria"]]
EV = [{"kind": "document", "reference": "report 2025"}]


def full(**over):
    payload = {"enterprise_id": 1, "conflict": {"declared": False},
               "scores": {c: {"score": 3, "evidence": EV} for c in CRITERIA}}
    payload.update(over)
    return payload


def errors_of(payload, complete=True):
    with pytest.raises(ValidationError) as err:
        parse(payload, DOC, complete=complete)
    return err.value.errors


def test_a_complete_assessment_passes():
    data = parse(full(), DOC, complete=True)
    assert data["scores"]["E1"]["score"] == 3 and data["conflict"]["declared"] is False


def test_every_problem_is_named_by_its_path():
    payload = full()
    payload["scores"]["E1"] = {"score": 7}
    payload["scores"]["S3"] = {"score": "n/a"}
    payload["scores"]["G1"] = {"score": 4}
    payload["scores"]["X9"] = {"score": 1}
    payload["knockouts"] = [{"code": "MDB_DEBARMENT", "status": "confirmed"}, {"code": "UFO", "status": "alleged"}]
    payload["colour"] = "red"
    errors = errors_of(payload)
    assert "colour" in errors  # unknown fields are refused before content checks
    del payload["colour"]
    errors = errors_of(payload)
    assert "scores.E1.score" in errors and "0 to 4" in errors["scores.E1.score"][0]


def test_content_checks_against_the_ruleset():
    payload = full()
    payload["scores"]["S3"] = {"score": "n/a"}
    payload["scores"]["G1"] = {"score": 4}
    payload["scores"]["X9"] = {"score": 1}
    payload["knockouts"] = [{"code": "MDB_DEBARMENT", "status": "confirmed"}, {"code": "UFO", "status": "alleged"}]
    errors = errors_of(payload)
    assert "n/a needs a justification" in errors["scores.S3.justification"][0]
    assert "needs evidence" in errors["scores.G1.evidence"][0]
    assert "unknown criterion 'X9'" in errors["scores.X9"][0]
    assert "needs evidence" in errors["knockouts.0.evidence"][0]
    assert "unknown knock-out 'UFO'" in errors["knockouts.1.code"][0]


def test_submission_needs_every_criterion_and_a_declaration():
    payload = full(conflict=None)
    del payload["scores"]["P5"]
    errors = errors_of(payload)
    assert "missing P5" in errors["scores"][0]
    assert "declaration is required" in errors["conflict"][0]
    # a draft may be incomplete
    assert parse(payload, DOC, complete=False)["scores"].get("P5") is None


@pytest.mark.parametrize("bad", [5, -1, "3", True, 2.5, None])
def test_score_values(bad):
    payload = full()
    payload["scores"]["E2"] = {"score": bad, "evidence": EV}
    errors = errors_of(payload)
    assert any(k.startswith("scores.E2") for k in errors), errors


def test_an_update_may_leave_out_fields_but_not_half_a_score():
    assert parse({"summary": "only this"}, DOC, complete=False, partial=True) == {"summary": "only this"}
    with pytest.raises(ValidationError) as exc:
        parse({"scores": {"E1": {"justification": "no score given"}}}, DOC, complete=False, partial=True)
    assert "scores.E1.score" in exc.value.errors


# The schema-free reading of well-formed payloads must load exactly what the schema loads, and
# must never accept what the schema refuses.
from hypothesis import given, settings, strategies as st  # noqa: E402
from marshmallow import ValidationError as SchemaError  # noqa: E402

from vetting.services.assessment_input import EVIDENCE_KINDS, _schema, _well_formed  # noqa: E402

HEX = "0123456789abcdef" * 4
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**31 + 2), st.floats(allow_nan=False), st.text(max_size=4),
    st.sampled_from(["n/a", "N/A", "", "document", "confirmed", "alleged", HEX, HEX + "\n", HEX.upper(), HEX[:-1], "3",
                     "x" * 1000, "x" * 1001, "x" * 2000, "x" * 2001, "x" * 4000, "x" * 4001, "x" * 8000, "x" * 8001]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

def _text(longest):
    return st.one_of(st.text(max_size=5), st.just("x" * longest))


def _nullable(strategy):
    return st.one_of(st.none(), strategy)


EVIDENCE = st.fixed_dictionaries(
    {"kind": st.sampled_from(EVIDENCE_KINDS), "reference": st.one_of(st.text(min_size=1, max_size=5), st.just("x" * 1000))},
    optional={"description": _nullable(_text(2000)), "sha256": _nullable(st.just(HEX))},
)
SCORE = st.fixed_dictionaries(
    {"score": st.one_of(st.integers(0, 4), st.just("n/a"))},
    optional={"justification": _nullable(_text(4000)), "evidence": st.lists(EVIDENCE, max_size=2)},
)
KNOCKOUT = st.fixed_dictionaries(
    {"code": st.text(max_size=5), "status": st.sampled_from(["confirmed", "alleged"])},
    optional={"description": _text(4000), "evidence": st.lists(EVIDENCE, max_size=2)},
)
PAYLOAD = st.fixed_dictionaries(
    {"enterprise_id": st.sampled_from([1, 2**31 - 1, 77])},
    optional={
        "project_id": _nullable(st.sampled_from([1, 2**31 - 1])), "summary": _nullable(_text(8000)),
        "conflict": _nullable(st.fixed_dictionaries({"declared": st.booleans()}, optional={"note": _nullable(_text(2000))})),
        "scores": st.dictionaries(st.sampled_from([*CRITERIA[:4], "X9"]), SCORE, max_size=4),
        "knockouts": st.lists(KNOCKOUT, max_size=2),
    },
)


def _places(value, path=()):
    """Every place in a payload: each value (to replace or remove) and each object (to add to)."""
    if isinstance(value, dict):
        yield path + ("+",)
        for key, item in value.items():
            yield path + (key,)
            yield from _places(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield path + (i,)
            yield from _places(item, path + (i,))


@settings(max_examples=1500, deadline=None)
@given(PAYLOAD, st.data())
def test_the_fast_reading_loads_what_the_schema_loads(payload, data):
    """A well-formed payload, then (mostly) one thing in it changed: replaced by an odd value,
    removed, or an unknown field added."""
    places = list(_places(payload))
    if places and data.draw(st.integers(0, 9)):
        *parent_path, last = data.draw(st.sampled_from(places))
        parent = payload
        for step in parent_path:
            parent = parent[step]
        if last == "+":
            parent[data.draw(st.sampled_from(["extra", "score", "kind", "E9"]))] = data.draw(ODD)
        elif isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[last]
        else:
            parent[last] = data.draw(ODD)
    fast = _well_formed(payload)
    try:
        loaded = _schema().load(payload)
    except SchemaError:
        assert fast is None
        return
    assert fast is None or fast == loaded


def test_the_fast_reading_takes_the_usual_payloads():
    usual = full(project_id=7, summary="site visit in May", knockouts=[
        {"code": "MDB_DEBARMENT", "status": "confirmed", "evidence": [{"kind": "url", "reference": "https://example.org/x",
                                                                      "sha256": HEX}]}])
    usual["scores"]["S3"] = {"score": "n/a", "justification": "no indigenous peoples in the area"}
    assert _well_formed(usual) is not None
    assert _well_formed(usual) == _schema().load(usual)
    assert _well_formed(full(enterprise_id="1")) is None  # the schema converts it; the fast reading leaves it to the schema
