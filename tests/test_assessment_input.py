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
