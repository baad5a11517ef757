"""The ruleset document: validation with paths, canonical identity. No database."""

import copy
from pathlib import Path

import pytest
import yaml

from vetting.rules import RulesetError, canonical_json, compile_ruleset

ROOT = Path(__file__).resolve().parents[2]
DOC = yaml.safe_load((ROOT / "seeds" / "rulesets" / "2026.1.yaml").read_text(encoding="utf-8"))


def _errors(mutate):
    doc = copy.deepcopy(DOC)
    mutate(doc)
    with pytest.raises(RulesetError) as err:
        compile_ruleset(doc)
    return err.value.errors


def test_the_default_ruleset_matches_the_design():
    rs = compile_ruleset(DOC)
    weights = {p["code"]: p["weight"] for p in rs.document["pillars"]}
    assert weights == {"E": 30, "S": 25, "G": 25, "P": 20}
    crit = {c["code"]: (c["pillar"], c["weight"]) for c in rs.document["criteria"]}
    assert len(crit) == 19 and crit["E1"] == ("E", 8) and crit["S5"] == ("S", 3) and crit["P1"] == ("P", 6)
    for pillar in weights:
        assert sum(w for p, w in crit.values() if p == pillar) == weights[pillar]
    for c in rs.document["criteria"]:
        assert set(c["rubric"]) == {"0", "1", "2", "3", "4"} and all(len(t) > 20 for t in c["rubric"].values())
    assert len(rs.document["knockouts"]) == 7
    assert rs.document["outcomes"][-1]["when"] == "true"


def test_identity_is_the_hash_of_the_canonical_form():
    a = compile_ruleset(DOC)
    reordered = dict(reversed(list(copy.deepcopy(DOC).items())))
    b = compile_ruleset(reordered)
    assert a.hash == b.hash and a.canonical == b.canonical
    changed = copy.deepcopy(DOC)
    changed["thresholds"]["red_total_at_least"] = 80
    assert compile_ruleset(changed).hash != a.hash


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d["criteria"][3].__setitem__("weight", -1), "criteria.3.weight", "greater than 0"),
        (lambda d: d["criteria"][0]["rubric"].pop(4), "criteria.0.rubric", "missing 4"),
        (lambda d: d.__setitem__("surprise", 1), "surprise", "Unknown field"),
        (lambda d: d["outcomes"][2].__setitem__("outcome", "GREY"), "outcomes.2.outcome", "Must be one of"),
        (lambda d: d["quorum"].pop("min_counted"), "quorum.min_counted", "required"),
    ],
)
def test_field_errors_name_their_path(mutate, path, fragment):
    errors = _errors(mutate)
    assert path in errors, errors
    assert any(fragment in m for m in errors[path]), errors[path]


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ("total >", "does not parse"),
        ("colour == 'red'", "unknown name 'colour'"),
        ('total > "high"', "does not type-check"),
        ("knockouts > 3", "does not type-check"),
    ],
)
def test_a_bad_condition_rejects_the_document(when, fragment):
    errors = _errors(lambda d: d["outcomes"][3].__setitem__("when", when))
    assert any(fragment in m for m in errors["outcomes.3.when"]), errors


def test_cross_field_checks():
    errors = _errors(lambda d: d["criteria"][1].__setitem__("pillar", "Q"))
    assert "criteria.1.pillar" in errors
    errors = _errors(lambda d: d["outcomes"][-1].__setitem__("when", "total > 0"))
    assert any("last row" in m for m in errors["outcomes.7.when"])
    errors = _errors(lambda d: d["thresholds"].__setitem__("total", 3))
    assert "thresholds" in errors


def test_canonical_json_is_stable():
    assert canonical_json({"b": 1, "a": [1.0000001, "华"]}) == '{"a":[1.0,"华"],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
