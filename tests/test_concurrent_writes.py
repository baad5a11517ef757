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
