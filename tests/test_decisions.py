"""Decisions on the demo register: stored, explained, replayed, simulated, re-evaluated."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select, update

from tests.conftest import scratch_database
from vetting.app import create_app
from vetting.db import Database, make_engine
from vetting.method import render_method
from vetting.models import AuditEvent, Decision, Enterprise, Ruleset, RulesetStatus
from vetting.resources import bundled_path
from vetting.services.decisions import simulate
from vetting.services.setup import initialize

ROOT = Path(__file__).resolve().parents[1]
SEEDS = bundled_path("seeds")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    with scratch_database(tmp, "demo") as url:
        db = Database(make_engine(url))
        result = initialize(db, SEEDS, demo=True)
        creds = {role: (email, token) for email, role, _pw, token in result.report.credentials}
        app = create_app({"VETTING_DATABASE": db, "VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp / "i"),
                          "VETTING_SECRET_KEY": "t", "TESTING": True})
        yield {"db": db, "url": url, "app": app, "creds": creds, "tmp": tmp}
        db.dispose()


def _latest(session):
    sub = select(Decision.enterprise_id, func.max(Decision.id).label("id")).group_by(Decision.enterprise_id).subquery()
    return {d.enterprise_id: d for d in session.scalars(select(Decision).join(sub, sub.c.id == Decision.id))}


def _intended():
    """The outcome each seeded enterprise is meant to get, from the comments in the seed file."""
    text = (SEEDS / "assessments.yaml").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"^# ([a-z0-9-]+): (RED|BLACK|NONE) —", text, re.M)}


def test_every_enterprise_has_a_decision_and_the_demo_shows_every_outcome(demo):
    with demo["db"].session() as s:
        latest = _latest(s)
        keys = {e["legal_name"]: e["key"] for e in yaml.safe_load((SEEDS / "enterprises.yaml").read_text(encoding="utf-8"))["enterprises"]}
        names = dict(s.execute(select(Enterprise.id, Enterprise.legal_name)).all())
        assert set(latest) == set(names)
        outcomes = {d.outcome.value for d in latest.values()}
        assert outcomes == {"RED", "BLACK", "NONE"}
        intended = _intended()
        mismatches = {keys[names[eid]]: (intended.get(keys[names[eid]], "NONE"), d.outcome.value, d.reason_codes)
                      for eid, d in latest.items() if intended.get(keys[names[eid]], "NONE") != d.outcome.value}
        assert mismatches == {}


def test_replay_is_identical_in_a_new_process(demo):
    with demo["db"].session() as s:
        ids = s.scalars(select(Decision.id).order_by(Decision.id).limit(3)).all() + s.scalars(select(Decision.id).order_by(Decision.id.desc()).limit(2)).all()
    env = {"VETTING_DATABASE_URL": demo["url"], "VETTING_INSTANCE_PATH": str(demo["tmp"] / "cli"), "PATH": "/usr/bin:/bin"}
    for decision_id in ids:
        proc = subprocess.run([sys.executable, "-m", "vetting.cli", "decisions", "replay", str(decision_id)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "identical" in proc.stdout


def test_replay_notices_a_changed_document(demo):
    with demo["db"].session() as s:
        decision = s.scalars(select(Decision).order_by(Decision.id)).first()
        original = decision.document
        doc = json.loads(original)
        doc["outcome"] = "RED" if doc["outcome"] != "RED" else "NONE"
        tampered = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        s.execute(update(Decision).where(Decision.id == decision.id).values(document=tampered))
        s.commit()
        try:
            env = {"VETTING_DATABASE_URL": demo["url"], "VETTING_INSTANCE_PATH": str(demo["tmp"] / "cli")}
            result = CliRunner().invoke(__import__("vetting.cli", fromlist=["main"]).main, ["decisions", "replay", str(decision.id)], env=env)
            assert result.exit_code == 1 and "DIFFERENT" in result.output and "outcome" in result.output
        finally:
            s.execute(update(Decision).where(Decision.id == decision.id).values(document=original))
            s.commit()


def test_simulating_a_higher_red_threshold_lists_exactly_the_enterprises_that_drop(demo, tmp_path):
    doc = yaml.safe_load((SEEDS / "rulesets" / "2026.2.yaml").read_text(encoding="utf-8"))
    raised = copy.deepcopy(doc)
    raised["version"] = "2026.2-strict"
    raised["thresholds"]["red_total_at_least"] = 85
    with demo["db"].session() as s:
        before = s.scalar(select(func.count()).select_from(Decision))
        latest = _latest(s)
        expected = {eid for eid, d in latest.items() if d.outcome.value == "RED" and d.total_score < 85}
        assert expected, "the demo should have red enterprises with a total under 85"
        sim = simulate(s, raised)
        assert {c["enterprise_id"] for c in sim.changed} == expected
        assert all(c["from"] == "RED" and c["to"] == "NONE" for c in sim.changed)
        assert sim.matrix["RED"]["NONE"] == len(expected)
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Decision)) == before
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(raised, allow_unicode=True), encoding="utf-8")
    env = {"VETTING_DATABASE_URL": demo["url"], "VETTING_INSTANCE_PATH": str(demo["tmp"] / "cli")}
    from vetting.cli import main

    out = CliRunner().invoke(main, ["rulesets", "simulate", str(path)], env=env)
    assert out.exit_code == 0, out.output
    assert f"{len(expected)} enterprises change" in out.output


def test_api_reads_and_replays_decisions(demo):
    client = demo["app"].test_client()
    active = client.get("/api/v1/rulesets/active")
    assert active.status_code == 200 and active.get_json()["version"] == "2026.2"
    assert len(active.get_json()["document"]["criteria"]) == 19
    with demo["db"].session() as s:
        decision_id = s.scalar(select(func.max(Decision.id)))
    assert client.get(f"/api/v1/decisions/{decision_id}").status_code == 401
    _email, reviewer_token = demo["creds"]["reviewer"]
    assert client.get(f"/api/v1/decisions/{decision_id}", headers={"Authorization": f"Bearer {reviewer_token}"}).status_code == 403
    _email, token = demo["creds"]["registrar"]
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/decisions/{decision_id}", headers=auth).get_json()
    assert body["document"]["outcome"] == body["outcome"] and body["document"]["trace"]
    replay = client.get(f"/api/v1/decisions/{decision_id}/replay", headers=auth).get_json()
    assert replay["identical"] is True and replay["stored_sha256"] == replay["replayed_sha256"]
    assert client.get("/api/v1/decisions/999999", headers=auth).status_code == 404
    assert client.get("/api/v1/decisions/1", headers={"Authorization": "Bearer vt_nope"}).status_code == 401


def test_registrar_stores_simulates_and_activates_a_ruleset(demo):
    client = demo["app"].test_client()
    _email, token = demo["creds"]["registrar"]
    auth = {"Authorization": f"Bearer {token}"}
    doc = yaml.safe_load((SEEDS / "rulesets" / "2026.2.yaml").read_text(encoding="utf-8"))
    doc["version"] = "2026.3"
    doc["effective_date"] = "2027-06-01"
    doc["thresholds"]["black_total_below"] = 40
    bad = copy.deepcopy(doc)
    bad["outcomes"][0]["when"] = "knockout_count >"
    resp = client.post("/api/v1/rulesets", json={"document": bad}, headers=auth)
    assert resp.status_code == 422 and "outcomes.0.when" in json.dumps(resp.get_json())
    assert client.post("/api/v1/rulesets", json={"document": doc, "extra": 1}, headers=auth).status_code == 422
    created = client.post("/api/v1/rulesets", json={"document": doc}, headers=auth)
    assert created.status_code == 201, created.get_json()
    rid = created.get_json()["id"]
    assert created.get_json()["status"] == "draft"
    sim = client.post(f"/api/v1/rulesets/{rid}/simulate", headers=auth).get_json()
    assert sim["candidate_version"] == "2026.3" and sum(sum(r.values()) for r in sim["matrix"].values()) == sim["enterprises"]
    with demo["db"].session() as s:
        before = s.scalar(select(func.count()).select_from(Decision))
        enterprises = s.scalar(select(func.count()).select_from(Enterprise))
    activated = client.post(f"/api/v1/rulesets/{rid}/activate", headers=auth)
    assert activated.status_code == 200 and activated.get_json()["status"] == "active"
    with demo["db"].session() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == before + enterprises
        assert s.scalar(select(Ruleset.version).where(Ruleset.status == RulesetStatus.ACTIVE)) == "2026.3"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "ruleset.activate")) >= 2
    # put the default back for the other tests of this module
    with demo["db"].session() as s:
        original = s.scalar(select(Ruleset.id).where(Ruleset.version == "2026.2"))
    assert client.post(f"/api/v1/rulesets/{original}/activate", headers=auth).status_code == 200


def test_agreement_command_reports_each_criterion(demo):
    from vetting.cli import main

    env = {"VETTING_DATABASE_URL": demo["url"], "VETTING_INSTANCE_PATH": str(demo["tmp"] / "cli")}
    out = CliRunner().invoke(main, ["rulesets", "agreement"], env=env)
    assert out.exit_code == 0, out.output
    assert "Krippendorff" in out.output and "ruleset 2026.2" in out.output
    assert re.search(r"^\s+E1\s+-?\d\.\d{3}", out.output, re.M)


def test_method_document_matches_the_active_ruleset(session):
    row = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    expected = render_method(json.loads(row.document), content_hash=row.content_hash)
    assert (ROOT / "docs" / "method.md").read_text(encoding="utf-8") == expected


def test_golden_cases_command(tmp_path):
    from vetting.cli import main

    for version in ("2026.1", "2026.2"):
        out = CliRunner().invoke(main, ["rulesets", "test", str(SEEDS / "rulesets" / f"{version}.yaml")])
        assert out.exit_code == 0 and "0 failed" in out.output
