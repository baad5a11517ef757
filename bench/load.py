"""Mixed load against the production server, then every acknowledged write checked.

Starts gunicorn as `vetting serve` runs it (``bench/_serve.py``) on 127.0.0.1 against a scratch
PostgreSQL database prepared by ``bench/_world.py`` (rulesets, four associations, eight reviewers
and two registrars with bearer tokens, generated enterprises, proposals whose objection window
has closed), then runs for ``--seconds``:

- reviewers: assessments filed and submitted in one call, some sent again with the same
  Idempotency-Key (the answer must be the first one, replayed), some as a draft changed with
  If-Match and then submitted, and amendments of assessments they submitted earlier;
- the public: name searches (API and page), identifier lookups, enterprise API answers and
  pages, the red and black lists (API and pages);
- registrars: the proposals whose window has passed, confirmed (two registrars may race: one
  wins, the other gets 409);
- halfway through, one `vetting releases publish` in a subprocess with the same database.

Every 2xx write is recorded with the ids it returned. Afterwards: no 5xx and no call without an
answer; every acknowledged assessment, amendment, decision and confirmation is in the database;
every stored decision replays byte for byte (``vetting.services.decisions.replay``); no
enterprise has two active listings; the audit chain verifies; the release's listings.csv holds
exactly the listings the listing history says were active at one instant within the second its
``as_of`` names. Exits 1 if any check fails.

Usage: python bench/load.py [--seconds 60] [--enterprises 400] [--proposals 150] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench._report import (RELIABILITY_DOC, RELIABILITY_HEADER, changed_since, code_revision, command, machine,  # noqa: E402
                           scratch_postgres, write_section)
from bench._serve import serve  # noqa: E402
from bench._world import Client, Log, check_acknowledged, payload, prepare, summarise  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402

REVISION = code_revision()


def _vetting() -> list[str]:
    script = Path(sys.executable).with_name("vetting")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vetting.cli"]


def reviewer_loop(port: int, log: Log, reviewer, world, stop: float, seed: int) -> None:  # noqa: ANN001
    rnd = random.Random(seed)
    client = Client(port, log, reviewer.token)
    mine: list[tuple[int, int]] = []  # (assessment, enterprise) submitted by this reviewer, not amended yet
    n = 0
    while time.monotonic() < stop:
        n += 1
        # mostly enterprises without a pending old proposal; now and then one with (a new
        # decision may withdraw it while a registrar confirms it)
        enterprise_id = rnd.choice(world.proposed if rnd.random() < 0.1 else world.work)
        roll = rnd.random()
        if roll < 0.15 and mine:
            old, enterprise_id = mine.pop(rnd.randrange(len(mine)))
            call = client.call("POST /api/v1/assessments/{id}/amend", "POST", f"/api/v1/assessments/{old}/amend",
                               payload(rnd, enterprise_id))
            if call.status == 201:
                new = call.body["assessment"]["id"]
                log.acknowledge("amended", new, old)
                log.acknowledge("submitted", new, call.body["assessment"]["enterprise_id"])
                log.acknowledge("decision", call.body["decision"]["id"], call.body["decision"]["enterprise_id"])
                mine.append((new, enterprise_id))
            continue
        if roll < 0.25:
            body = payload(rnd, enterprise_id)
            call = client.call("POST /api/v1/assessments (draft)", "POST", "/api/v1/assessments", {**body, "scores": {}})
            if call.status != 201:
                continue
            draft = call.body["id"]
            log.acknowledge("draft", draft)
            etag = f'"{draft}-{call.body["version"]}"'
            call = client.call("PATCH /api/v1/assessments/{id}", "PATCH", f"/api/v1/assessments/{draft}",
                               {"scores": body["scores"]}, headers={"If-Match": etag})
            if call.status != 200:
                continue
            call = client.call("POST /api/v1/assessments/{id}/submit", "POST", f"/api/v1/assessments/{draft}/submit")
            if call.status == 200:
                log.acknowledge("submitted", draft, enterprise_id)
                log.acknowledge("decision", call.body["decision"]["id"], call.body["decision"]["enterprise_id"])
                mine.append((draft, enterprise_id))
            continue
        body = payload(rnd, enterprise_id)
        key = f"load-{seed}-{n}"
        call = client.call("POST /api/v1/assessments?submit=true", "POST", "/api/v1/assessments?submit=true", body,
                           headers={"Idempotency-Key": key})
        if call.status != 201:
            continue
        first = call.body["id"]
        log.acknowledge("submitted", first, enterprise_id)
        log.acknowledge("decision", call.body["decision"]["id"], call.body["decision"]["enterprise_id"])
        mine.append((first, enterprise_id))
        if rnd.random() < 0.2:
            again = client.call("POST /api/v1/assessments?submit=true (replay)", "POST", "/api/v1/assessments?submit=true",
                                body, headers={"Idempotency-Key": key})
            with log.lock:
                log.replays += 1
            if again.status != 201 or not again.replayed or again.body.get("id") != first:
                with log.lock:
                    log.replay_mismatches.append(f"key {key}: first answer assessment {first}, replay {again.status} "
                                                 f"replayed={again.replayed} id={again.body and again.body.get('id')}")
    client.close()


def public_loop(port: int, log: Log, world, stop: float, seed: int) -> None:  # noqa: ANN001
    rnd = random.Random(seed)
    client = Client(port, log)
    while time.monotonic() < stop:
        roll = rnd.random()
        if roll < 0.25:
            client.call("GET /api/v1/enterprises?q=", "GET", f"/api/v1/enterprises?q={quote(rnd.choice(world.names))}&limit=10")
        elif roll < 0.35:
            client.call("GET /search?q= (page)", "GET", f"/search?q={quote(rnd.choice(world.names))}", html=True)
        elif roll < 0.55:
            client.call("GET /api/v1/enterprises?identifier=", "GET", f"/api/v1/enterprises?identifier=uscc:{rnd.choice(world.usccs)}")
        elif roll < 0.70:
            client.call("GET /api/v1/enterprises/{id}", "GET", f"/api/v1/enterprises/{rnd.choice(world.enterprises)}")
        elif roll < 0.80:
            client.call("GET /enterprises/{id} (page)", "GET", f"/enterprises/{rnd.choice(world.enterprises)}", html=True)
        elif roll < 0.90:
            client.call("GET /api/v1/lists/{list}", "GET", f"/api/v1/lists/{rnd.choice(('red', 'black'))}?limit=50")
        else:
            client.call("GET /lists/{list} (page)", "GET", f"/lists/{rnd.choice(('red', 'black'))}", html=True)
    client.close()


def registrar_loop(port: int, log: Log, token: str, stop: float, seed: int) -> None:
    rnd = random.Random(seed)
    client = Client(port, log, token)
    while time.monotonic() < stop:
        call = client.call("GET /api/v1/listings?status=proposed", "GET", "/api/v1/listings?status=proposed&limit=1000")
        today = datetime.now(timezone.utc).date().isoformat()
        due = [p["id"] for p in (call.body or []) if call.status == 200 and p["objection_deadline"] and p["objection_deadline"] < today]
        if not due:
            time.sleep(0.5)
            continue
        listing_id = rnd.choice(due)
        call = client.call("POST /api/v1/listings/{id}/confirm", "POST", f"/api/v1/listings/{listing_id}/confirm")
        if call.status == 200:
            log.acknowledge("confirmed", listing_id)
        time.sleep(rnd.uniform(0.5, 1.5))  # paced, so confirmations go on while the release is built
    client.close()


def publish(url: str, work: Path, out: dict) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(VETTING_DATABASE_URL=url, VETTING_INSTANCE_PATH=str(work / "instance"), VETTING_DEMO="false",
               VETTING_LOG_LEVEL="WARNING", VETTING_RELEASES_PATH=str(work / "releases"))
    t = time.perf_counter()
    done = subprocess.run([*_vetting(), "releases", "publish"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    out.update(seconds=time.perf_counter() - t, returncode=done.returncode, output=(done.stdout + done.stderr).strip())


def active_at(events: list[tuple], moment: datetime) -> dict[int, str]:
    """Listing id -> list for every listing whose last transition at or before ``moment`` made it active."""
    state: dict[int, tuple[str, str]] = {}
    for listing_id, at, to_status, list_type in events:
        if at > moment:
            break
        state[listing_id] = (to_status, list_type)
    return {i: kind for i, (status, kind) in state.items() if status == "active"}


def check_release(engine, folder: Path) -> tuple[list[str], str]:  # noqa: ANN001
    """listings.csv against the listing history: the rows must be exactly what was active at
    one instant within the second named by ``as_of`` (the manifest stamps whole seconds)."""
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    as_of = datetime.strptime(index["as_of"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    with (folder / "listings.csv").open(encoding="utf-8", newline="") as fh:
        rows = {int(r["listing_id"]): r["list"] for r in csv.DictReader(fh)}
    with engine.connect() as conn:
        events = [(i, at if at.tzinfo else at.replace(tzinfo=timezone.utc), to, kind) for i, at, to, kind in conn.execute(text(
            "SELECT e.listing_id, e.at, e.to_status, l.list_type FROM listing_events e JOIN listings l ON l.id = e.listing_id "
            "WHERE l.kind = 'listing' ORDER BY e.at, e.id"))]
    end = as_of + timedelta(seconds=1)
    instants = [as_of] + [at for _i, at, _to, _k in events if as_of < at < end]
    for moment in instants:
        if active_at(events, moment) == rows:
            moved = len(instants) - 1
            return [], (f"release {index['release']}: {len(rows)} rows = the listings active at {moment.isoformat()} "
                        f"(as_of {index['as_of']}; {moved} listing transition(s) within that second)")
    expected = active_at(events, as_of)
    missing = sorted(set(expected) - set(rows))
    extra = sorted(set(rows) - set(expected))
    changed = sorted(i for i in set(rows) & set(expected) if rows[i] != expected[i])
    return [f"release {index['release']} listings.csv ({len(rows)} rows) is no instant of the history in the second of "
            f"as_of {index['as_of']}: missing {missing[:10]}, extra {extra[:10]}, other list {changed[:10]}"], ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--enterprises", type=int, default=400)
    parser.add_argument("--proposals", type=int, default=150, help="enterprises with a proposal due for confirmation")
    parser.add_argument("--reviewers", type=int, default=4, help="reviewer client threads")
    parser.add_argument("--public", type=int, default=3, help="public client threads")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/reliability.md")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 90:
        raise SystemExit("--seconds must be between 1 and 90")
    with scratch_postgres() as url:
        ok = run(args, url)
    sys.exit(0 if ok else 1)


def run(args: argparse.Namespace, url: str) -> bool:
    t = time.perf_counter()
    world = prepare(url, enterprises=args.enterprises, proposals=args.proposals)
    print(f"prepared {len(world.enterprises)} enterprises, {len(world.reviewers)} reviewers, {len(world.registrars)} registrars, "
          f"{world.setup_decisions} setup submissions in {time.perf_counter() - t:.1f}s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="vetting-load-"))
    log = Log()
    problems: list[str] = []
    release: dict = {}
    server_log = work / "server.log"
    with serve(url, log_copy=server_log) as port:
        began = time.monotonic()
        stop = began + args.seconds
        threads = [threading.Thread(target=reviewer_loop, args=(port, log, world.reviewers[i % len(world.reviewers)], world, stop,
                                                                100 + i)) for i in range(args.reviewers)]
        threads += [threading.Thread(target=public_loop, args=(port, log, world, stop, 200 + i)) for i in range(args.public)]
        threads += [threading.Thread(target=registrar_loop, args=(port, log, token, stop, 300 + i))
                    for i, token in enumerate(world.registrars)]
        for th in threads:
            th.start()
        time.sleep(args.seconds / 2)
        release_started = time.monotonic() - began
        publisher = threading.Thread(target=publish, args=(url, work, release))
        publisher.start()
        for th in threads:
            th.join()
        wall = time.monotonic() - began
        publisher.join()
    print(f"run: {len(log.calls)} calls in {wall:.1f}s; release: {release}", flush=True)
    tracebacks = server_log.read_text(errors="replace").count("Traceback") if server_log.exists() else 0

    from vetting.services import audit
    from vetting.services.decisions import replay

    db = Database(make_engine(url, pool_size=2))
    try:
        lost = check_acknowledged(db.engine, log)
        problems += lost
        problems += log.replay_mismatches
        with db.session() as session:
            ids = session.scalars(text("SELECT id FROM decisions ORDER BY id")).all()
            t = time.perf_counter()
            differing = [i for i in ids if not replay(session, i).identical]
            replay_seconds = time.perf_counter() - t
            session.expunge_all()
            chain = audit.verify(session)
        if differing:
            problems.append(f"{len(differing)} of {len(ids)} decisions do not replay identically: {differing[:10]}")
        if not chain.ok:
            problems.append(f"audit chain broken: {chain.problem}")
        with db.engine.connect() as conn:
            doubled = conn.execute(text("SELECT enterprise_id FROM listings WHERE status = 'active' GROUP BY enterprise_id "
                                        "HAVING count(*) > 1")).scalars().all()
            counts = dict(conn.execute(text("SELECT status, count(*) FROM listings GROUP BY status")).all())
        if doubled:
            problems.append(f"enterprises with two active listings: {doubled}")
        release_note = ""
        if release.get("returncode") != 0:
            problems.append(f"`vetting releases publish` failed ({release.get('returncode')}): {release.get('output')}")
        else:
            found, release_note = check_release(db.engine, work / "releases" / "1")
            problems += found
    finally:
        db.dispose()

    by_label = log.by_label()
    total = summarise(log.calls, wall)
    if total["5xx"] or total["no_answer"]:
        bad = [c for c in log.calls if c.status is None or c.status >= 500]
        problems.append(f"{total['5xx']} answers 5xx and {total['no_answer']} calls without an answer, e.g. "
                        + "; ".join(f"{c.label} -> {c.status or c.error}" for c in bad[:5]))
    rows = []
    for label in sorted(by_label, key=lambda k: (not k.startswith(("POST", "PATCH")), k)):
        s = summarise(by_label[label], wall)
        rows.append(f"| `{label}` | {s['requests']:,} | {s['rps']:.1f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | "
                    f"{s['4xx']} | {s['5xx'] + s['no_answer']} |")
    checks = [
        ("No 5xx answer and no call left without an answer", not (total["5xx"] or total["no_answer"]),
         f"{total['5xx']} 5xx, {total['no_answer']} without answer; server log tracebacks: {tracebacks}"),
        ("Every acknowledged write is in the database", not lost,
         f"{len(log.submitted):,} submissions (of which {len(log.amended):,} amendments), {len(log.drafts):,} drafts, "
         f"{len(log.decisions):,} decisions, {len(log.confirmed):,} confirmations"),
        ("Idempotency-Key replays answer the first response", not log.replay_mismatches,
         f"{log.replays:,} replays, {len(log.replay_mismatches)} mismatched"),
        ("Every stored decision replays byte for byte", not differing,
         f"{len(ids):,} decisions replayed in {replay_seconds:.1f}s, {len(differing)} differ"),
        ("No enterprise has two active listings", not doubled,
         "listings by status: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))),
        ("The audit chain verifies", chain.ok, f"{chain.events:,} events" + ("" if chain.ok else f": {chain.problem}")),
        ("The release holds the listings active at its as_of", release.get("returncode") == 0 and bool(release_note),
         release_note or "see the problems below"),
    ]
    verdict_rows = "\n".join(f"| {what} | {'pass' if passed else 'FAIL'} | {detail} |" for what, passed, detail in checks)
    section = f"""
## Mixed load on PostgreSQL

`{command()}` on {machine()}; {REVISION}; gunicorn as `vetting serve` runs it (2 workers of 4 threads) on 127.0.0.1,
PostgreSQL on 127.0.0.1, a scratch database with the 2026.1 ruleset, {len(world.enterprises):,} generated enterprises,
4 associations, {len(world.reviewers)} reviewers and {len(world.registrars)} registrars (bearer tokens), {len(world.proposed)}
proposals whose objection window had closed; public rate limit raised so it never refuses. Client threads on the same
machine for {wall:.0f} s: {args.reviewers} reviewers (one-call submissions with an Idempotency-Key, a fifth of them sent
twice; drafts changed with If-Match then submitted; amendments), {args.public} public readers, {len(world.registrars)}
registrars confirming due proposals; `vetting releases publish` started {release_started:.0f} s in and took
{release.get('seconds', float('nan')):.1f} s.

| Endpoint | Requests | Per second | p50 ms | p95 ms | p99 ms | 4xx | 5xx or no answer |
|---|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
| All | {total['requests']:,} | {total['rps']:.1f} | {total['p50']:.0f} | {total['p95']:.0f} | {total['p99']:.0f} | {total['4xx']} | {total['5xx'] + total['no_answer']} |

Latencies are of the answered calls (wall time at the client). A 4xx here is an answer the
service should give under this load: 409 for a proposal another registrar confirmed first or a
new decision withdrew, or an amendment of an assessment superseded meanwhile.

| Check | Result | Detail |
|---|---|---|
{verdict_rows}
"""
    if problems:
        section += "\nProblems found:\n\n" + "\n".join(f"- {p}" for p in problems[:30]) + "\n"
    section += changed_since(REVISION)
    if args.no_write:
        print(section)
    else:
        write_section("load", section, RELIABILITY_DOC, RELIABILITY_HEADER)
        print(section)
        print(f"written to {RELIABILITY_DOC}")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return not problems


if __name__ == "__main__":
    main()
