"""Assessment submissions over HTTP against the production server, evaluation included.

Starts `vetting serve` (gunicorn, 2 workers of 4 threads) on 127.0.0.1 against a scratch PostgreSQL database
with the demo data, then runs the same pool of client threads for the same time twice:

- baseline: POST /api/v1/assessments/validate (parse and check a complete assessment against
  the ruleset, nothing stored): the rate of the server doing the request work alone;
- submissions: POST /api/v1/assessments?submit=true, which stores the assessment, re-evaluates
  the enterprise, stores the decision and appends the audit events in one transaction;
- and, for comparison, the two-call flow: a draft (POST /api/v1/assessments) then
  POST /api/v1/assessments/<id>/submit.

Reports the rates (median of the repeats) and their ratios. Target: submissions at least 40% of
the validation-only rate. Errors of every kind are counted and reported.

Usage: python bench/submissions.py [--seconds 20] [--clients 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench._report import command, machine, scratch_postgres, write_section  # noqa: E402

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vetting() -> list[str]:
    script = Path(sys.executable).with_name("vetting")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vetting.cli"]


def _call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=json.dumps(body or {}), headers={"Authorization": f"Bearer {token}",
                                                                         "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {})
    finally:
        conn.close()


def _payload(rnd: random.Random, enterprise_id: int) -> dict:
    scores = {}
    for code in CRITERIA:
        score = rnd.randint(1, 4)
        scores[code] = {"score": score, "evidence": [{"kind": "document", "reference": f"report {code}"}]}
    return {"enterprise_id": enterprise_id, "conflict": {"declared": False}, "scores": scores}


def _run(port: int, tokens: list[str], enterprises: list[int], seconds: float, clients: int, mode: str) -> tuple[int, int]:
    done = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        rnd = random.Random(i)
        token = tokens[i % len(tokens)]
        while time.monotonic() < stop:
            body = _payload(rnd, rnd.choice(enterprises))
            if mode == "one-step":
                status, _ = _call(port, "POST", "/api/v1/assessments?submit=true", token, body)
                ok = status == 201
            elif mode == "two-step":
                status, created = _call(port, "POST", "/api/v1/assessments", token, body)
                if status != 201:
                    errors[i] += 1
                    continue
                status, _ = _call(port, "POST", f"/api/v1/assessments/{created['id']}/submit", token)
                ok = status == 200
            else:
                status, _ = _call(port, "POST", "/api/v1/assessments/validate", token, body)
                ok = status == 200
            if ok:
                done[i] += 1
            else:
                errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), sum(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--enterprises", type=int, default=2000,
                        help="enterprises added to the demo ones, so that each is assessed a few times, as in life")
    args = parser.parse_args()
    with scratch_postgres() as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="vetting-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(VETTING_DATABASE_URL=url, VETTING_DEMO="true", VETTING_LOG_LEVEL="WARNING")
    port = _free_port()
    log = open(work / "serve.log", "w+b")
    proc = subprocess.Popen([*_vetting(), "serve", "--port", str(port), "--workers", "2"], cwd=work, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                log.seek(0)
                raise SystemExit("the server did not start:\n" + log.read().decode(errors="replace"))
            time.sleep(0.5)
        tokens = [line.split("\t")[3] for line in (work / "instance" / "demo-credentials.txt").read_text().splitlines()
                  if line and not line.startswith("#") and line.split("\t")[1] in ("reviewer", "association_admin")]
        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(text("INSERT INTO enterprises (legal_name, country, sector, created_at, updated_at, version) "
                           "SELECT 'Bench Submission Enterprise ' || g || ' Co., Ltd.', 'CN', 'infrastructure', now(), now(), 1 "
                           "FROM generate_series(1, :n) AS g"), {"n": args.enterprises})
        with engine.connect() as c:
            enterprises = [r[0] for r in c.execute(text("SELECT id FROM enterprises WHERE merged_into_id IS NULL"))]
            before = c.scalar(text("SELECT count(*) FROM decisions"))
        modes = ("validate", "one-step", "two-step")
        rates: dict[str, list[float]] = {m: [] for m in modes}
        errors = dict.fromkeys(modes, 0)
        for r in range(args.repeats):
            for mode in modes:
                n, e = _run(port, tokens, enterprises, args.seconds, args.clients, mode)
                rates[mode].append(n / args.seconds)
                errors[mode] += e
            print(f"repeat {r + 1}: " + ", ".join(f"{m} {rates[m][-1]:.1f}/s" for m in modes), flush=True)
        with engine.connect() as c:
            stored = c.scalar(text("SELECT count(*) FROM decisions")) - before
        engine.dispose()
        v, s, two = (statistics.median(rates[m]) for m in modes)
        ratio = s / v
        verdict = "meets" if ratio >= 0.40 else "does NOT meet"
        write_section("submissions", f"""
## Assessment submissions over HTTP (production server, PostgreSQL)

`{command()}` on {machine()}; `vetting serve` (gunicorn, 2 workers of 4 threads) on 127.0.0.1, PostgreSQL on
127.0.0.1, demo data plus bench enterprises ({len(enterprises):,} in all, picked at random); {args.clients} client threads on the same machine,
{args.seconds:g} s per phase, {args.repeats} repeats (median).

| What | Per second | Ratio to baseline |
|---|---:|---:|
| Baseline: `POST /api/v1/assessments/validate` (checked against the ruleset, nothing stored) | {v:,.1f} | 1.00 |
| Submissions: `POST /api/v1/assessments?submit=true` (stored, enterprise re-evaluated, decision and audit events stored) | {s:,.1f} | {ratio:.2f} |
| Submissions in two calls: a draft, then `POST …/<id>/submit` | {two:,.1f} | {two / v:.2f} |

Errors: {errors['validate']} validation calls, {errors['one-step']} one-step and {errors['two-step']} two-step submissions; decisions stored during the run: {stored:,}.
Target: submissions at least 40% of the validation-only rate; this run {verdict} it.
""")
        print({"validate": v, "one-step": s, "two-step": two, "ratio": ratio, "errors": errors})
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
