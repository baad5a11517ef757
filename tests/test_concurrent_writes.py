"""Concurrent writers against a real server: no request fails (on SQLite, none on a stale
snapshot; on PostgreSQL, none on the audit chain's lock)."""

import json
import os
import threading
import urllib.request

import pytest

from tests.conftest import TEST_URL_ENV, scratch_database
from tests.test_serve import _audit_verifies, _serve, _stop

pytestmark = pytest.mark.slow
CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def test_parallel_drafts_and_submissions_all_succeed(tmp_path):
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "conc") as url:
            _run(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"})
    else:
        _run(tmp_path, {})


def _run(tmp_path, env):
    proc, base, log = _serve(tmp_path, env, [])
    try:
        creds = [line.split("\t") for line in (tmp_path / "instance" / "demo-credentials.txt").read_text().splitlines()
                 if not line.startswith("#")]
        tokens = [token for _email, role, _pw, token in creds if role == "reviewer"][:6]
        statuses: list[int] = []
        lock = threading.Lock()

        def call(method, path, token, body=None, key=None):
            req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                                  **({"Idempotency-Key": key} if key else {})})
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        def worker(n, token):
            for i in range(4):
                body = {"enterprise_id": 1 + (n * 4 + i) % 50, "conflict": {"declared": False},
                        "scores": {c: {"score": 2} for c in CRITERIA}}
                status, draft = call("POST", "/api/v1/assessments", token, body, key=f"w{n}-{i}")
                with lock:
                    statuses.append(status)
                if status == 201:
                    status, _ = call("POST", f"/api/v1/assessments/{draft['id']}/submit", token)
                    with lock:
                        statuses.append(status)

        threads = [threading.Thread(target=worker, args=(n, t)) for n, t in enumerate(tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert statuses and all(s in (200, 201) for s in statuses), statuses
        assert len(statuses) == 2 * 4 * len(tokens)
    finally:
        _stop(proc, log)
    _audit_verifies(tmp_path, env)  # every concurrent write left the chain whole


def test_two_registrars_confirming_at_once_one_wins(tmp_path):
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "confirm") as url:
            _confirm_race(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"}, url)
    else:
        _confirm_race(tmp_path, {}, f"sqlite:///{tmp_path / 'instance' / 'vetting.sqlite3'}")


def _confirm_race(tmp_path, env, url):
    import json
    import threading
    import urllib.error
    import urllib.request

    from sqlalchemy import create_engine, text

    proc, base, log = _serve(tmp_path, env, [])
    try:
        tokens = [line.split("\t")[3] for line in (tmp_path / "instance" / "demo-credentials.txt").read_text().splitlines()
                  if line and not line.startswith("#") and line.split("\t")[1] == "registrar"][:2]
        assert len(tokens) == 2
        engine = create_engine(url)
        with engine.begin() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM listings WHERE status = 'proposed' ORDER BY id LIMIT 3"))]
            conn.execute(text("UPDATE listings SET objection_deadline = :d WHERE id IN (%s)" % ",".join(map(str, ids))),
                         {"d": "2020-01-01"})  # as if each window had passed
        for listing_id in ids:
            statuses = []
            barrier = threading.Barrier(2)

            def confirm(token):
                request = urllib.request.Request(f"{base}/api/v1/listings/{listing_id}/confirm", method="POST", data=b"{}",
                                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                barrier.wait()
                try:
                    with urllib.request.urlopen(request, timeout=30) as resp:
                        statuses.append((resp.status, json.loads(resp.read())))
                except urllib.error.HTTPError as exc:
                    statuses.append((exc.code, json.loads(exc.read())))

            threads = [threading.Thread(target=confirm, args=(t,)) for t in tokens]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(s for s, _ in statuses) == [200, 409], statuses
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'listing.confirm' AND subject_id = :i"),
                                   {"i": str(listing_id)}) == 1
        with engine.connect() as conn:
            doubled = conn.scalar(text("SELECT count(*) FROM (SELECT enterprise_id FROM listings WHERE status = 'active' "
                                       "GROUP BY enterprise_id HAVING count(*) > 1) x"))
        assert doubled == 0
        engine.dispose()
    finally:
        _stop(proc, log)
    _audit_verifies(tmp_path, env)
