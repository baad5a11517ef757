"""PostgreSQL restarted under load: the service fails fast, recovers by itself, loses nothing.

Starts gunicorn as `vetting serve` runs it (``bench/_serve.py``) against a scratch PostgreSQL
database prepared by ``bench/_world.py``, drives a steady mix (reviewers submitting assessments
with an Idempotency-Key, a registrar confirming due proposals, public readers, a /readyz probe),
and after ``--before`` seconds stops the PostgreSQL cluster (``pg_ctlcluster 15 main stop -m
fast``), waits ``--outage`` seconds, starts it again, and keeps the load on for ``--after``
seconds. The server is never restarted.

Checks: no answer other than 503 among the 5xx, and every 503 carries Retry-After; no call goes
unanswered; during the outage no call takes longer than ``--fail-fast`` seconds; after the
database is back, reads and writes succeed again within ``--recover`` seconds and nothing fails
later than that; the gunicorn workers are the ones that started (none was killed for hanging);
every write acknowledged with a 2xx, before, during or after the outage, is in the database;
the audit chain verifies. Exits 1 if a check fails.

The cluster is shared: it is started again whatever happens (``finally``).

Usage: python bench/restart_drill.py [--before 10] [--outage 5] [--after 20] [--cluster "15 main"]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import (RELIABILITY_DOC, RELIABILITY_HEADER, changed_since, code_revision, command, machine,  # noqa: E402
                           scratch_postgres, write_section)
from bench._serve import serve  # noqa: E402
from bench._world import Call, Client, Log, check_acknowledged, payload, prepare  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402

REVISION = code_revision()


def cluster(action: str, version_name: list[str]) -> float:
    """Run ``pg_ctlcluster VERSION NAME action``; returns the seconds it took."""
    t = time.monotonic()
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", *version_name, action, *extra], check=True, timeout=120)
    return time.monotonic() - t


def cluster_running(version_name: list[str]) -> bool:
    return subprocess.run(["pg_ctlcluster", *version_name, "status"], capture_output=True, timeout=30).returncode == 0


def gunicorn_processes(port: int) -> tuple[int | None, list[int]]:
    """The gunicorn master serving ``port`` and its workers, from /proc (read only)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "gunicorn" not in cmdline or f"127.0.0.1:{port}" not in cmdline:
                continue
            stat = (entry / "stat").read_text()
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    masters = [pid for pid, parent in found.items() if parent not in found]
    master = masters[0] if len(masters) == 1 else None
    return master, sorted(pid for pid, parent in found.items() if parent == master)


def reviewer_loop(port: int, log: Log, reviewer, world, stop: threading.Event, seed: int) -> None:  # noqa: ANN001
    rnd = random.Random(seed)
    client = Client(port, log, reviewer.token)
    n = 0
    while not stop.is_set():
        n += 1
        enterprise_id = rnd.choice(world.work)
        call = client.call("write: POST /api/v1/assessments?submit=true", "POST", "/api/v1/assessments?submit=true",
                           payload(rnd, enterprise_id), headers={"Idempotency-Key": f"drill-{seed}-{n}"})
        if call.status == 201:
            log.acknowledge("submitted", call.body["id"], enterprise_id)
            log.acknowledge("decision", call.body["decision"]["id"], call.body["decision"]["enterprise_id"])
        else:
            time.sleep(0.2)
    client.close()


def registrar_loop(port: int, log: Log, token: str, stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    client = Client(port, log, token)
    while not stop.is_set():
        call = client.call("read: GET /api/v1/listings?status=proposed", "GET", "/api/v1/listings?status=proposed&limit=1000")
        due = [p["id"] for p in (call.body or []) if call.status == 200 and p["objection_deadline"] and p["objection_deadline"] < time.strftime("%Y-%m-%d")]
        if due:
            listing_id = rnd.choice(due)
            call = client.call("write: POST /api/v1/listings/{id}/confirm", "POST", f"/api/v1/listings/{listing_id}/confirm")
            if call.status == 200:
                log.acknowledge("confirmed", listing_id)
        stop.wait(0.5)
    client.close()


def public_loop(port: int, log: Log, world, stop: threading.Event, seed: int) -> None:  # noqa: ANN001
    rnd = random.Random(seed)
    client = Client(port, log)
    while not stop.is_set():
        roll = rnd.random()
        if roll < 0.3:
            client.call("read: GET /api/v1/enterprises?identifier=", "GET",
                        f"/api/v1/enterprises?identifier=uscc:{rnd.choice(world.usccs)}")
        elif roll < 0.55:
            client.call("read: GET /api/v1/enterprises/{id}", "GET", f"/api/v1/enterprises/{rnd.choice(world.enterprises)}")
        elif roll < 0.75:
            client.call("read: GET /api/v1/enterprises?q=", "GET", f"/api/v1/enterprises?q={quote(rnd.choice(world.names))}")
        elif roll < 0.9:
            client.call("read: GET /enterprises/{id} (page)", "GET", f"/enterprises/{rnd.choice(world.enterprises)}", html=True)
        else:
            client.call("read: GET /api/v1/lists/{list}", "GET", f"/api/v1/lists/{rnd.choice(('red', 'black'))}")
        stop.wait(0.05)
    client.close()


def probe_loop(port: int, log: Log, stop: threading.Event) -> None:
    client = Client(port, log)
    while not stop.is_set():
        client.call("probe: GET /readyz", "GET", "/readyz")
        stop.wait(0.25)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=float, default=10, help="seconds of load before the database stops")
    parser.add_argument("--outage", type=float, default=5, help="seconds the database stays down")
    parser.add_argument("--after", type=float, default=20, help="seconds of load after it is back")
    parser.add_argument("--cluster", default="15 main", help="pg_ctlcluster's version and cluster name")
    parser.add_argument("--enterprises", type=int, default=150)
    parser.add_argument("--proposals", type=int, default=60)
    parser.add_argument("--fail-fast", type=float, default=6.0, help="longest acceptable call while the database is down")
    parser.add_argument("--recover", type=float, default=10.0, help="seconds after the restart within which all must work")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/reliability.md")
    args = parser.parse_args()
    if args.before + args.outage + args.after > 90:
        raise SystemExit("keep the run within 90 seconds")
    version_name = args.cluster.split()
    if not cluster_running(version_name):
        raise SystemExit(f"cluster {args.cluster} is not running")
    try:
        with scratch_postgres() as url:
            ok = run(args, url, version_name)
    finally:
        if not cluster_running(version_name):
            cluster("start", version_name)
    sys.exit(0 if ok else 1)


def run(args: argparse.Namespace, url: str, version_name: list[str]) -> bool:
    world = prepare(url, enterprises=args.enterprises, proposals=args.proposals)
    work = Path(tempfile.mkdtemp(prefix="vetting-drill-"))
    server_log = work / "server.log"
    log = Log()
    timeline: dict[str, float] = {}
    with serve(url, log_copy=server_log) as port:
        master, workers_before = gunicorn_processes(port)
        stop = threading.Event()
        threads = [threading.Thread(target=reviewer_loop, args=(port, log, world.reviewers[i], world, stop, 10 + i))
                   for i in range(2)]
        threads.append(threading.Thread(target=registrar_loop, args=(port, log, world.registrars[0], stop, 20)))
        threads += [threading.Thread(target=public_loop, args=(port, log, world, stop, 30 + i)) for i in range(3)]
        threads.append(threading.Thread(target=probe_loop, args=(port, log, stop)))
        began = time.monotonic()
        for th in threads:
            th.start()
        try:
            time.sleep(args.before)
            timeline["stop_begin"] = time.monotonic()
            timeline["stop_seconds"] = cluster("stop", version_name)
            timeline["down"] = time.monotonic()
            time.sleep(args.outage)
            timeline["start_begin"] = time.monotonic()
            timeline["start_seconds"] = cluster("start", version_name)
            timeline["up"] = time.monotonic()
            time.sleep(args.after)
        finally:
            if not cluster_running(version_name):
                cluster("start", version_name)
            stop.set()
            for th in threads:
                th.join(60)
        master_after, workers_after = gunicorn_processes(port)
    wall = time.monotonic() - began
    text_log = server_log.read_text(errors="replace") if server_log.exists() else ""
    tracebacks = text_log.count("Traceback")
    # what the service itself calls a failure: its handler of unexpected errors (a 500), gunicorn
    # failing a request outside the application, or a worker killed for hanging
    failures = sum(text_log.count(marker) for marker in ("unhandled error on", "Exception on ", "Error handling request", "WORKER TIMEOUT"))

    calls = log.calls
    down_from, up_at = timeline["stop_begin"], timeline["up"]
    during = [c for c in calls if down_from <= c.started < up_at]
    before = [c for c in calls if c.started < down_from]
    after = [c for c in calls if c.started >= up_at]
    problems: list[str] = []

    def failed(c: Call) -> bool:
        return c.status is None or c.status >= 500

    bad_5xx = [c for c in calls if c.status is not None and c.status >= 500 and c.status != 503]
    no_answer = [c for c in calls if c.status is None]
    no_retry = [c for c in calls if c.status == 503 and not c.retry_after]
    if bad_5xx:
        problems.append(f"{len(bad_5xx)} answers 5xx other than 503: " + "; ".join(f"{c.label} {c.status}" for c in bad_5xx[:5]))
    if no_answer:
        problems.append(f"{len(no_answer)} calls without an answer: " + "; ".join(f"{c.label} {c.error}" for c in no_answer[:5]))
    if no_retry:
        problems.append(f"{len(no_retry)} answers 503 without Retry-After")
    longest = max(during, key=lambda c: c.seconds, default=None)
    if longest is not None and longest.seconds > args.fail_fast:
        problems.append(f"during the outage {longest.label} took {longest.seconds:.1f}s (limit {args.fail_fast:g}s)")
    if not any(c.status == 503 for c in during):
        problems.append("no call met the outage: nothing was measured")

    def first_success(prefix: str) -> float | None:
        ok = [c.started + c.seconds for c in after if c.label.startswith(prefix) and c.status is not None and c.status < 400]
        return min(ok) - up_at if ok else None

    recovery = {kind: first_success(kind) for kind in ("read", "write", "probe")}
    for kind, seconds in recovery.items():
        if seconds is None or seconds > args.recover:
            problems.append(f"{kind}s did not succeed again within {args.recover:g}s of the restart ({seconds})")
    late = [c for c in after if failed(c) and c.started - up_at > args.recover]
    if late:
        problems.append(f"{len(late)} calls failed more than {args.recover:g}s after the restart, the last "
                        f"{max(c.started for c in late) - up_at:.1f}s after")
    last_failure = max((c.started + c.seconds - up_at for c in after if failed(c)), default=None)
    if master is None or master_after != master or workers_after != workers_before:
        problems.append(f"gunicorn processes changed: master {master}->{master_after}, workers {workers_before}->{workers_after}")
    if failures:
        problems.append(f"{failures} unhandled errors, failed requests or worker timeouts in the server log")

    from vetting.services import audit

    db = Database(make_engine(url, pool_size=2))
    try:
        lost = check_acknowledged(db.engine, log)
        with db.session() as session:
            chain = audit.verify(session)
    finally:
        db.dispose()
    problems += lost
    if not chain.ok:
        problems.append(f"audit chain broken: {chain.problem}")

    def statuses(part: list[Call]) -> str:
        counts = Counter("no answer" if c.status is None else str(c.status) for c in part)
        return ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items())) or "none"

    def fmt(value: float | None) -> str:
        return "never" if value is None else f"{value:.2f} s"

    def writes(part: list[Call]) -> int:
        return sum(1 for c in part if c.label.startswith("write") and c.status is not None and 200 <= c.status < 300)

    outage_seconds = up_at - down_from
    checks = [
        ("Every 5xx is a 503 with Retry-After; every call answered", not (bad_5xx or no_answer or no_retry or failures),
         f"{len(bad_5xx)} other 5xx, {len(no_retry)} 503 without Retry-After, {len(no_answer)} unanswered; server log: "
         f"{failures} unhandled errors or worker timeouts, {tracebacks} tracebacks in all"),
        (f"Fail fast during the outage (≤ {args.fail_fast:g} s)", longest is not None and longest.seconds <= args.fail_fast,
         f"{len(during):,} calls started while the database was stopping, down or starting; the longest "
         f"({longest.label if longest else '-'}) took {longest.seconds if longest else float('nan'):.2f} s"),
        (f"Recovers by itself within {args.recover:g} s", all(v is not None and v <= args.recover for v in recovery.values())
         and not late, f"first success after the restart: reads {fmt(recovery['read'])}, writes {fmt(recovery['write'])}, "
         f"/readyz {fmt(recovery['probe'])}; last failure ends {fmt(last_failure)} after it"),
        ("The server was not restarted", master is not None and master_after == master and workers_after == workers_before,
         f"gunicorn master {master}, workers {workers_before} before and {workers_after} after"),
        ("Every acknowledged write is in the database", not lost,
         f"{len(log.submitted):,} submissions, {len(log.decisions):,} decisions, {len(log.confirmed):,} confirmations "
         f"({writes(before):,} before, {writes(during):,} during, {writes(after):,} after the outage)"),
        ("The audit chain verifies", chain.ok, f"{chain.events:,} events"),
    ]
    verdict_rows = "\n".join(f"| {what} | {'pass' if passed else 'FAIL'} | {detail} |" for what, passed, detail in checks)
    section = f"""
## PostgreSQL restarted under load

`{command()}` on {machine()}; {REVISION}; gunicorn as `vetting serve` runs it (2 workers of 4 threads) on 127.0.0.1
against a scratch database on the local PostgreSQL 15 cluster ({len(world.enterprises):,} enterprises, {len(world.proposed)} due
proposals), default `VETTING_DB_TIMEOUT` (5 s). Load: 2 reviewers submitting with an Idempotency-Key, 1 registrar
confirming, 3 public readers, `/readyz` every 0.25 s. After {args.before:g} s, `pg_ctlcluster {' '.join(version_name)} stop -m fast`
({timeline['stop_seconds']:.1f} s), {args.outage:g} s down, `pg_ctlcluster {' '.join(version_name)} start` ({timeline['start_seconds']:.1f} s),
then {args.after:g} s more; {outage_seconds:.1f} s from the stop command to the cluster being up, {wall:.0f} s in all.
The server was left running throughout.

| Phase | Calls | Answers | Longest call |
|---|---:|---|---:|
| Before the stop | {len(before):,} | {statuses(before)} | {max((c.seconds for c in before), default=0):.2f} s |
| Stopping, down and starting | {len(during):,} | {statuses(during)} | {longest.seconds if longest else 0:.2f} s |
| After the cluster is up | {len(after):,} | {statuses(after)} | {max((c.seconds for c in after), default=0):.2f} s |

| Check | Result | Detail |
|---|---|---|
{verdict_rows}
"""
    if problems:
        section += "\nProblems found:\n\n" + "\n".join(f"- {p}" for p in problems[:30]) + "\n"
    section += changed_since(REVISION)
    print(section)
    if args.no_write:
        print("(not written)")
    else:
        write_section("restart", section, RELIABILITY_DOC, RELIABILITY_HEADER)
        print(f"written to {RELIABILITY_DOC}")
    keep = Path(os.environ.get("VETTING_DRILL_LOG", work / "server.log"))
    if keep != server_log and server_log.exists():
        keep.write_text(text_log)
    print(f"server log: {keep}")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return not problems


if __name__ == "__main__":
    main()
