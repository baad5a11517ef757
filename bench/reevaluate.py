"""Re-evaluating every enterprise from PostgreSQL: load facts, evaluate, store decisions.

Creates a scratch database beside VETTING_BENCH_DATABASE_URL (default: the local `test`
database), migrates it, loads the default ruleset and N synthetic enterprises with 3 submitted
assessments of 19 criteria each (with evidence, one filed by the association the enterprise is a
member of, with the standing submission fixes), then times `evaluate_many` over all of them and
commits. The same-run baseline is reading the same score and evidence rows with one plain
SELECT each: the floor for any re-evaluation that reads from the database.

Usage: python bench/reevaluate.py [--n 100000] [--keep] [--reuse DATABASE] [--profile FILE]

``--keep`` leaves the scratch database in place; ``--reuse`` times a kept one again (its
decisions, listings, notices and audit events are emptied first, so every run stores the same).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench._report import command, machine, write_section  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402
from vetting.resources import bundled_path  # noqa: E402
from vetting.services.evaluation import evaluate_many  # noqa: E402
from vetting.services.setup import initialize  # noqa: E402

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def _copy(raw, table: str, columns: str, rows) -> None:  # noqa: ANN001
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(db: Database, n: int, seed: int = 11) -> None:
    rnd = random.Random(seed)
    with db.engine.begin() as conn:
        ruleset_id = conn.scalar(text("SELECT id FROM rulesets WHERE status = 'active'"))
        for code in "ABCDE":
            conn.execute(text("INSERT INTO associations (code, name, country, status, accredited_at, created_at) "
                              "VALUES (:c, :n, 'CN', 'accredited', now(), now())"), {"c": f"BA{code}", "n": f"Bench {code}"})
        assoc = dict(conn.execute(text("SELECT code, id FROM associations")).all())
        for code, aid in assoc.items():
            conn.execute(text("INSERT INTO accounts (email, display_name, role, association_id, status, failed_logins, created_at) "
                              "VALUES (:e, :e, 'reviewer', :a, 'active', 0, now())"), {"e": f"bench-{code.lower()}@example.org", "a": aid})
        reviewers = dict(conn.execute(text("SELECT association_id, id FROM accounts")).all())
    raw = db.engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        codes = sorted(assoc)
        _copy(dbapi, "enterprises", "id, legal_name, country, sector, created_at, updated_at, version",
              ((k, f"Bench Enterprise {k} Co., Ltd.", "CN", "infrastructure", "2026-01-01", "2026-01-01", 1) for k in range(1, n + 1)))
        _copy(dbapi, "memberships", "association_id, enterprise_id, created_at",
              ((assoc[codes[k % 5]], k, "2026-01-01") for k in range(1, n + 1)))
        # the first assessment of each enterprise comes from the association it is a member of
        _copy(dbapi, "assessments", "id, enterprise_id, association_id, reviewer_id, ruleset_id, status, conflict_declared, standing, "
                                    "created_at, updated_at, submitted_at, version",
              ((3 * k + j, k, assoc[codes[(k + j) % 5]], reviewers[assoc[codes[(k + j) % 5]]], ruleset_id, "submitted", False,
                "member" if j == 0 else "independent", "2026-01-01", "2026-01-01", "2026-01-01", 1)
               for k in range(1, n + 1) for j in range(3)))
        scores, evidence = [], []

        def score_rows():
            for k in range(1, n + 1):
                base = rnd.randint(0, 4)
                for j in range(3):
                    for c in CRITERIA:
                        s = max(0, min(4, base + rnd.randint(-1, 1)))
                        yield (3 * k + j, c, s)
                        if rnd.random() < 0.8:
                            evidence.append((3 * k + j, c, "document", f"report {k}-{j}-{c}"))

        _copy(dbapi, "assessment_scores", "assessment_id, criterion, score", score_rows())
        _copy(dbapi, "evidence_references", "assessment_id, criterion, kind, reference", iter(evidence))
        with dbapi.cursor() as cur:
            for seq in ("enterprises", "assessments"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{seq}', 'id'), (SELECT max(id) FROM {seq}))")
            cur.execute("ANALYZE")
        dbapi.commit()
        del scores
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DATABASE", help="time a database kept by an earlier --keep run again")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the timed re-evaluation to FILE (the figures are then not written)")
    args = parser.parse_args()
    base = make_url(os.environ.get("VETTING_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = args.reuse or f"vetting_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(make_engine(url, pool_size=2))
    try:
        if args.reuse:
            with db.engine.begin() as conn:
                conn.execute(text("TRUNCATE decisions, listings, listing_events, notices, audit_events CASCADE"))
                conn.execute(text("CHECKPOINT"))
                args.n = conn.scalar(text("SELECT count(*) FROM enterprises"))
            print(f"reusing {name} ({args.n:,} enterprises)", flush=True)
        else:
            initialize(db, bundled_path("seeds"), demo=False)
            t = time.perf_counter()
            load(db, args.n)
            print(f"loaded {args.n:,} enterprises in {time.perf_counter() - t:.1f}s", flush=True)

        with db.engine.connect() as conn:
            t = time.perf_counter()
            rows = 0
            for q in ("SELECT assessment_id, criterion, score, justification FROM assessment_scores",
                      "SELECT assessment_id, criterion, finding_id, kind, reference FROM evidence_references"):
                rows += len(conn.execute(text(q)).all())
            read_floor = time.perf_counter() - t
        print(f"baseline: read {rows:,} rows in {read_floor:.1f}s", flush=True)

        from vetting.models import Enterprise

        with db.session() as session:
            ids = session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
            profiler = cProfile.Profile() if args.profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            result = evaluate_many(session, None, ids, trigger="bench")
            t_commit = time.perf_counter()
            session.commit()
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            wall = time.perf_counter() - t
            commit = time.perf_counter() - t_commit
        store = result.seconds_storing + commit
        print(f"re-evaluated {result.evaluated:,} in {wall:.1f}s: loading {result.seconds_loading:.1f}s, "
              f"engine {result.seconds_engine:.1f}s, storing {store:.1f}s (of which proposing "
              f"{result.seconds_proposing:.1f}s, commit {commit:.1f}s); "
              f"baseline {read_floor:.1f}s", flush=True)
        share = {k: v / wall * 100 for k, v in (("loading", result.seconds_loading), ("engine", result.seconds_engine), ("storing", store))}
        projected = wall * 100_000 / max(1, result.evaluated)
        verdict = ("meets" if projected <= 60 else "does NOT meet") + f" it (projected to 100,000: {projected:.0f} s)"
        if args.profile:
            return  # a profiled run is slower than a plain one: it does not stand as the figure
        write_section("reevaluate", f"""
## Re-evaluating every enterprise from PostgreSQL

`{command()}` on {machine()}; PostgreSQL on 127.0.0.1; {args.n:,} enterprises × 3 assessments × 19 criteria
({rows:,} score and evidence rows).

| What | Seconds | Share |
|---|---:|---:|
| Whole re-evaluation (load, evaluate, store {result.evaluated:,} decisions, commit) | {wall:.1f} | 100% |
| Loading facts (set-based queries per batch of 2,000) | {result.seconds_loading:.1f} | {share['loading']:.0f}% |
| Engine (`evaluate`, full traces) | {result.seconds_engine:.1f} | {share['engine']:.0f}% |
| Storing decisions (COPY, handing list changes to the listings service, commit) | {store:.1f} | {share['storing']:.0f}% |
| … of which the listings service (`on_decisions`: the batch's decisions handed over at once) | {result.seconds_proposing:.1f} | {result.seconds_proposing / wall * 100:.0f}% |
| Baseline: one plain SELECT of the same score and evidence rows | {read_floor:.1f} | {read_floor / wall * 100:.0f}% |

Target: at most 60 seconds for 100,000 enterprises; this run ({args.n:,}) {verdict}.
""")
    finally:
        db.dispose()
        if not (args.keep or args.reuse):
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
