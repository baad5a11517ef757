"""Identifier lookup over HTTP against the production server, with a constant route as baseline.

Loads N synthetic enterprises (``bench/names.py``: names, aliases and a valid USCC each) into a
scratch PostgreSQL database, starts gunicorn as `vetting serve` runs it (2 workers of 4 threads) on
127.0.0.1 serving ``bench._wsgi:app`` (the application plus ``/bench/constant``), and drives it
with client threads for a fixed time per phase, alternating:

- lookup: ``GET /api/v1/enterprises?identifier=uscc:<a random loaded USCC>`` (validated query,
  identifier parsed and checked, indexed lookup, enterprise with names, identifiers and
  projects serialised, ETag, rate limiter consulted);
- baseline: ``GET /bench/constant``, a constant small JSON body from the same server and
  application with no database work: what the server, Flask and the request hooks cost alone.

Reports the median over the repeats of requests per second and of p50/p95 latency for each, and
the ratio of the lookup rate to the constant rate. Target: at least 50%.

Usage: python bench/identifier_lookup.py [--n 100000] [--clients 8] [--seconds 15] [--repeats 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench._report import changed_since, code_revision, command, machine, scratch_postgres, write_section  # noqa: E402
from bench._serve import RATE_LIMIT, serve  # noqa: E402
from bench.names import generate, load  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402
from vetting.resources import bundled_path  # noqa: E402
from vetting.services.setup import initialize  # noqa: E402

#: The code measured: the package is imported from the working tree when this module loads.
REVISION = code_revision()

TARGET = 0.50


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def phase(port: int, paths: list[str] | None, constant: bool, clients: int, seconds: float, seed: int) -> dict:
    """``clients`` threads, each with its own connection (reopened whenever the server
    closes it), for ``seconds``; returns the rate, latencies and errors."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[i]
        start.wait()
        while time.monotonic() < stop_at[0]:
            path = "/bench/constant" if constant else rnd.choice(paths)
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            if ok:
                mine.append(time.perf_counter() - t)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    every = [x for part in latencies for x in part]
    return {"rps": len(every) / wall, "p50": pct(every, 50) * 1000 if every else float("nan"),
            "p95": pct(every, 95) * 1000 if every else float("nan"), "count": len(every), "errors": sum(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="enterprises loaded")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/benchmarks.md")
    args = parser.parse_args()
    with scratch_postgres() as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    db = Database(make_engine(url, pool_size=2))
    try:
        initialize(db, bundled_path("seeds"), demo=False)
        t = time.perf_counter()
        ents = list(generate(args.n, args.seed))
        first_id = load(db.engine, ents)
        print(f"{args.n:,} enterprises generated and loaded in {time.perf_counter() - t:.1f}s", flush=True)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            stored = conn.scalar(text("SELECT count(*) FROM identifiers WHERE scheme = 'uscc'"))
    finally:
        db.dispose()
    paths = [f"/api/v1/enterprises?identifier=uscc:{e.uscc}" for e in ents]

    with serve(url, workers=2) as port:
        sample = random.Random(args.seed).randrange(len(ents))
        status, body = fetch(port, paths[sample])
        found = json.loads(body)["results"][0]["enterprise"] if status == 200 else None
        if not found or found["id"] != first_id + sample:
            raise SystemExit(f"lookup check failed: {status} {body[:300]!r}")
        lookup_bytes = len(body)
        status, body = fetch(port, "/bench/constant")
        if status != 200:
            raise SystemExit(f"constant route failed: {status} {body[:300]!r}")
        constant_bytes = len(body)
        print(f"server on port {port}; lookup answer {lookup_bytes} bytes, constant answer {constant_bytes} bytes", flush=True)

        phase(port, paths, False, args.clients, 2, 0)  # warm-up: both workers connected and imported
        phase(port, paths, True, args.clients, 2, 0)
        results: dict[str, list[dict]] = {"lookup": [], "constant": []}
        for r in range(args.repeats):
            for name in ("lookup", "constant"):
                res = phase(port, paths, name == "constant", args.clients, args.seconds, r + 1)
                results[name].append(res)
                print(f"repeat {r + 1} {name}: {res['rps']:.1f}/s, p50 {res['p50']:.1f} ms, p95 {res['p95']:.1f} ms, "
                      f"errors {res['errors']}", flush=True)

    summary = {name: {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50", "p95")}
               for name, runs in results.items()}
    errors = {name: sum(r["errors"] for r in runs) for name, runs in results.items()}
    ratio = summary["lookup"]["rps"] / summary["constant"]["rps"]
    verdict = "meets" if ratio >= TARGET else "does NOT meet"
    look, const = summary["lookup"], summary["constant"]
    per_repeat = "; ".join(f"{a['rps']:.0f} vs {b['rps']:.0f}" for a, b in zip(results["lookup"], results["constant"]))
    section = f"""
## Identifier lookup over HTTP (production server, PostgreSQL)

`{command()}` on {machine()}; {REVISION}; gunicorn as `vetting serve` runs it (2 workers of 4 threads) on 127.0.0.1 serving
`bench/_wsgi.py` (the application built from its environment, plus `/bench/constant`), PostgreSQL on 127.0.0.1
with {stored:,} generated enterprises and their USCCs (`bench/names.py`, `VACUUM ANALYZE` after the bulk load); public
rate limit raised to {RATE_LIMIT} so the limiter is consulted but never refuses; {args.clients} client threads on the
same machine (stdlib `http.client`, each USCC picked at random), {args.seconds:g} s per phase, the two phases
alternated {args.repeats} times (median of the repeats).

| What | Requests per second | p50 ms | p95 ms | Answer bytes | Ratio to baseline |
|---|---:|---:|---:|---:|---:|
| Baseline: `GET /bench/constant` (constant JSON, no database) | {const['rps']:,.1f} | {const['p50']:.1f} | {const['p95']:.1f} | {constant_bytes} | 1.00 |
| Lookup: `GET /api/v1/enterprises?identifier=uscc:…` | {look['rps']:,.1f} | {look['p50']:.1f} | {look['p95']:.1f} | {lookup_bytes} | {ratio:.2f} |

Per repeat, lookups vs constant per second: {per_repeat}. Errors: {errors['lookup']} lookups, {errors['constant']} constant.
Target: lookups at least {TARGET:.0%} of the constant route's rate; this run {verdict} it.
"""
    section += changed_since(REVISION)
    if args.no_write:
        print(section)
    else:
        write_section("identifier_lookup", section)
        print("written to docs/benchmarks.md")
    print({"lookup": look, "constant": const, "ratio": ratio, "errors": errors})


if __name__ == "__main__":
    main()
