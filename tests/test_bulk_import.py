"""Bulk import: validated records, a report, atomic mode, resuming by idempotency keys."""

import csv
import json

from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import scratch_database
from vetting.db import Database, make_engine
from vetting.models import Assessment, Decision, Enterprise
from vetting.resources import bundled_path
from vetting.services.setup import initialize

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def record(enterprise_id, reviewer, key, score=3):
    return {"idempotency_key": key, "enterprise_id": enterprise_id, "reviewer": reviewer, "conflict": {"declared": False},
            "scores": {c: {"score": score, "evidence": [{"kind": "document", "reference": f"ref {c}"}]} for c in CRITERIA}}


def test_import_reports_resumes_and_is_atomic_on_request(tmp_path):
    with scratch_database(tmp_path, "bulk") as url:
        db = Database(make_engine(url))
        result = initialize(db, bundled_path("seeds"), demo=True)
        reviewers = [email for email, role, _p, _t in result.report.credentials if role == "reviewer"]
        with db.session() as s:
            ids = s.scalars(select(Enterprise.id).order_by(Enterprise.id).limit(5)).all()
            before = s.scalar(select(func.count()).select_from(Assessment))
            decisions_before = s.scalar(select(func.count()).select_from(Decision))
        lines = [record(ids[i % 5], reviewers[i % len(reviewers)], f"k{i}") for i in range(8)]
        bad = record(ids[0], reviewers[0], "bad")
        bad["scores"]["E1"] = {"score": 7}
        text = "\n".join(json.dumps(r) for r in lines) + "\n" + json.dumps(bad) + "\n{not json\n"
        path = tmp_path / "batch.jsonl"
        path.write_text(text, encoding="utf-8")
        env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i")}
        from vetting.cli import main

        atomic = CliRunner().invoke(main, ["assessments", "import", str(path), "--atomic"], env=env)
        assert atomic.exit_code == 1 and "nothing was written" in atomic.output
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Assessment)) == before

        report_path = tmp_path / "report.json"
        first = CliRunner().invoke(main, ["assessments", "import", str(path), "--report", str(report_path)], env=env)
        assert first.exit_code == 1, first.output
        assert "8 accepted, 0 skipped" in first.output and "2 rejected" in first.output
        assert "line 9: scores.E1.score" in first.output and "line 10: record: not valid JSON" in first.output
        report = json.loads(report_path.read_text())
        assert all("assessment_id" in r for r in report["accepted_records"])
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Assessment)) == before + 8
            assert s.scalar(select(func.count()).select_from(Decision)) == decisions_before + 5

        again = CliRunner().invoke(main, ["assessments", "import", str(path)], env=env)
        assert "0 accepted, 8 skipped" in again.output
        changed = tmp_path / "changed.jsonl"
        changed.write_text(json.dumps(record(ids[0], reviewers[0], "k0", score=2)) + "\n", encoding="utf-8")
        reused = CliRunner().invoke(main, ["assessments", "import", str(changed)], env=env)
        assert reused.exit_code == 1 and "already used for a different record" in reused.output

        csv_path = tmp_path / "batch.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["idempotency_key", "enterprise_id", "reviewer", "conflict_declared", *CRITERIA,
                             *[f"{c}_evidence" for c in CRITERIA], "S3_justification"])
            writer.writerow(["c1", ids[1], reviewers[0], "false", *["3"] * 6, "n/a", *["3"] * 12, *["site report"] * 19,
                             "no indigenous peoples in the area"])
        from_csv = CliRunner().invoke(main, ["assessments", "import", str(csv_path)], env=env)
        assert from_csv.exit_code == 0 and "1 accepted" in from_csv.output, from_csv.output
        db.dispose()


def test_batch_api_files_as_the_caller(client, session, make_enterprise, make_account):
    from vetting.services.accounts import issue_token
    from vetting.services.actors import SystemActor

    ent = make_enterprise()
    reviewer = make_account("reviewer")
    auth = {"Authorization": f"Bearer {issue_token(session, SystemActor('t'), reviewer)}"}
    rec = record(ent.id, reviewer.email, "b1")
    resp = client.post("/api/v1/assessments/batch", json={"records": [rec, record(ent.id, "someone@else.org", "b2")]}, headers=auth)
    body = resp.get_json()
    assert resp.status_code == 200 and body["accepted"] == 1 and body["rejected"] == 1
    assert "reviewer" in body["rejected_records"][0]["errors"]
    again = client.post("/api/v1/assessments/batch", json={"records": [rec]}, headers=auth).get_json()
    assert again["skipped"] == 1 and again["accepted"] == 0


def test_chunks_keep_idempotency_keys_per_account_and_across_chunks(session, make_enterprise, make_account):
    from vetting.services.actors import SystemActor
    from vetting.services.bulk import import_assessments

    ent1, ent2 = make_enterprise(), make_enterprise()
    r1, r2 = make_account("reviewer"), make_account("reviewer")
    records = [(1, record(ent1.id, r1.email, "same")), (2, record(ent2.id, r2.email, "same")),
               (3, record(2**31 - 1, r1.email, "other")), (4, record(ent1.id, r1.email, "same", score=2))]
    first = import_assessments(session, SystemActor("t"), records, chunk=2)
    assert [r["line"] for r in first.accepted] == [1, 2]
    assert {r["line"]: list(r["errors"]) for r in first.rejected} == {3: ["enterprise_id"], 4: ["idempotency_key"]}
    assert "appears twice" in first.rejected[1]["errors"]["idempotency_key"][0]
    assert first.decisions == 2

    records[3] = (4, record(ent1.id, r1.email, "same"))  # now the same record as line 1
    again = import_assessments(session, SystemActor("t"), records, chunk=1)
    assert [r["line"] for r in again.skipped] == [1, 2, 4] and not again.accepted
    assert [r["assessment_id"] for r in again.skipped] == [r["assessment_id"] for r in (first.accepted[0], first.accepted[1],
                                                                                        first.accepted[0])]


def test_an_atomic_import_evaluates_each_enterprise_once_with_all_its_records(session, make_enterprise, make_account):
    from vetting.services.actors import SystemActor
    from vetting.services.bulk import import_assessments

    ent1, ent2 = make_enterprise(), make_enterprise()
    reviewer = make_account("reviewer")
    # interleaved, so that every chunk of two names both enterprises
    records = [(n, record(ent.id, reviewer.email, f"a{n}", score=2 + n % 3))
               for n, ent in enumerate([ent1, ent2] * 3, start=1)]
    report = import_assessments(session, SystemActor("t"), records, atomic=True, chunk=2)
    assert report.committed and len(report.accepted) == 6 and report.decisions == 2
    for ent in (ent1, ent2):
        decisions = session.scalars(select(Decision).where(Decision.enterprise_id == ent.id)).all()
        assert len(decisions) == 1
        filed = set(session.scalars(select(Assessment.id).where(Assessment.enterprise_id == ent.id)))
        document = json.loads(decisions[0].document)
        assert len(filed) == 3 and set(document["assessments"]["counted"]) == filed


def test_records_are_read_ahead_in_order_and_a_failing_source_stops_the_import_after_what_was_stored(
        session, make_enterprise, make_account):
    import pytest

    from vetting.services.actors import SystemActor
    from vetting.services.bulk import import_assessments

    ent = make_enterprise()
    reviewer = make_account("reviewer")
    read = []

    def source(fail_after):
        for n in range(1, 8):
            if n > fail_after:
                raise OSError("the file went away")
            read.append(n)
            yield n, (["not", "an", "object"] if n == 3 else record(ent.id, reviewer.email, f"r{n}"))

    report = import_assessments(session, SystemActor("t"), source(99), chunk=2)
    assert [r["line"] for r in report.accepted] == [1, 2, 4, 5, 6, 7] and read == list(range(1, 8))
    assert report.rejected == [{"line": 3, "message": "the record is not an object", "errors": {"record": ["expected a JSON object"]}}]
    stored = session.scalar(select(func.count()).select_from(Assessment).where(Assessment.enterprise_id == ent.id))
    with pytest.raises(OSError, match="went away"):
        import_assessments(session, SystemActor("t"), ((n, record(ent.id, reviewer.email, f"s{n}")) for n, _r in source(4)), chunk=2)
    # the chunks filed before the source failed stay filed (a commit per chunk), the rest are not
    after = session.scalar(select(func.count()).select_from(Assessment).where(Assessment.enterprise_id == ent.id))
    assert stored == 6 and after - stored == 4
