"""Bulk import of assessments into PostgreSQL, evaluation included.

Creates a scratch database beside VETTING_BENCH_DATABASE_URL (default: the local `test`
database), loads the default ruleset, N/4 synthetic enterprises and one reviewer account, writes
N complete assessments (19 criteria, evidence on most) to a JSON Lines file, and imports it with
the same service `vetting assessments import` uses: every record validated, stored as a
submitted assessment with its audit event and idempotency key, and every touched enterprise
re-evaluated with its decision stored.

Same-run baseline: reading and validating the same file against the ruleset without storing
anything (the part of an import no database can speed up).

Usage: python bench/bulk_import.py [--n 100000] [--modes default,atomic] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text  # noqa: E402

from bench._report import command, machine, scratch_postgres, write_section  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402
from vetting.resources import bundled_path  # noqa: E402
from vetting.services.bulk import ATOMIC_CHUNK, CHUNK  # noqa: E402
from vetting.services.setup import initialize  # noqa: E402

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()


def _enterprises(db: Database, count: int) -> None:
    raw = db.engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur, cur.copy(
                "COPY enterprises (legal_name, country, sector, created_at, updated_at, version) FROM STDIN") as copy:
            for k in range(count):
                copy.write_row((f"Bench Import Enterprise {k} Co., Ltd.", "CN", "infrastructure", "2026-01-01", "2026-01-01", 1))
        raw.driver_connection.commit()
    finally:
        raw.close()


def _records(path: Path, n: int, enterprise_ids: list[int], email: str, seed: int = 5) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            base = rnd.randint(0, 4)
            scores = {}
            for code in CRITERIA:
                score = max(0, min(4, base + rnd.randint(-1, 1)))
                entry = {"score": score}
                if score >= 3 or rnd.random() < 0.7:
                    entry["evidence"] = [{"kind": "document", "reference": f"bench report {i}-{code}"}]
                scores[code] = entry
            record = {"reviewer": email, "idempotency_key": f"bench-{i}", "enterprise_id": enterprise_ids[i % len(enterprise_ids)],
                      "conflict": {"declared": False}, "scores": scores}
            fh.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--modes", default="default,atomic",
                        help="comma-separated: default (a commit per chunk of records), atomic (one transaction)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first timed import to FILE")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - {"default", "atomic"}
    if unknown or not modes:
        parser.error(f"--modes: unknown {', '.join(sorted(unknown)) or 'empty list'}")
    work = Path(tempfile.mkdtemp(prefix="vetting-bench-"))
    runs = []
    for k, mode in enumerate(modes):
        # each mode imports the same file into a database of its own, set up the same way
        with scratch_postgres() as url:
            runs.append(run(args, url, work, mode, profile=args.profile if k == 0 else None, with_baseline=k == 0))
    baseline = runs[0]["baseline"]
    rows = [f"| Baseline: read and validate every record, store nothing | {baseline:.1f} | {args.n / baseline:,.0f} | 1.00 |"]
    verdicts = []
    for r in runs:
        label = (f"Import, a commit per chunk of {CHUNK} records (the default): validate, store, audit, idempotency keys, "
                 "re-evaluate the chunk's enterprises and store their decisions" if r["mode"] == "default" else
                 f"Import with `--atomic` (one transaction, chunks of {ATOMIC_CHUNK} records): the same, each enterprise "
                 "evaluated once at the end")
        rows.append(f"| {label} | {r['wall']:.1f} | {r['rate']:,.0f} | {r['rate'] / (args.n / baseline):.2f} |")
        verdicts.append(f"{r['mode']}: {r['rate']:,.0f}/s, {r['decisions']:,} decisions stored "
                        f"({'meets' if r['rate'] >= 1000 else 'does NOT meet'} the target)")
    table = "\n".join(rows)
    write_section("bulk_import", f"""
## Bulk import of assessments into PostgreSQL (evaluation included)

`{command()}` on {machine()}; PostgreSQL on 127.0.0.1; {args.n:,} complete assessments (19 criteria, evidence on
most) for {runs[0]['enterprises']:,} enterprises (each named by 4 records, spread through the file), one JSON Lines
file, imported by the service behind `vetting assessments import`, each mode into a fresh database set up the same way.

| What | Seconds | Records per second | Ratio to baseline |
|---|---:|---:|---:|
{table}

Target: at least 1,000 assessments per second with evaluation. {'; '.join(verdicts)}.
In the default mode a chunk's records are committed with their enterprises' decisions, so an enterprise named in
four chunks is evaluated four times; an atomic import shows nothing until it commits and evaluates each once.
""")
    print({r["mode"]: r["rate"] for r in runs})


def run(args: argparse.Namespace, url: str, work: Path, mode: str, *, profile: str | None, with_baseline: bool) -> dict:
    db = Database(make_engine(url, pool_size=2))
    try:
        from vetting.models import Enterprise
        from vetting.services.accounts import accredit_association, create_account
        from vetting.services.actors import SystemActor
        from vetting.services.assessment_input import parse
        from vetting.services.bulk import import_assessments, read_records
        from vetting.services.rulesets import active_ruleset

        initialize(db, bundled_path("seeds"), demo=False)
        _enterprises(db, max(1, args.n // 4))
        system = SystemActor("bench")
        with db.session() as session:
            accredit_association(session, system, code="BENCH", name="Bench Association", country="CN")
            session.commit()
            email = create_account(session, system, email="bench.reviewer@example.org", role="reviewer",
                                   association_code="BENCH", with_token=False).account.email
            ids = session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
        path = work / "assessments.jsonl"
        if not path.exists():
            _records(path, args.n, ids, email)
            print(f"{args.n:,} records written to {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)

        baseline = None
        if with_baseline:
            with db.session() as session:
                document = json.loads(active_ruleset(session).document)
            t = time.perf_counter()
            valid = 0
            for _line, record in read_records(path.name, path.read_text(encoding="utf-8")):
                body = {k: v for k, v in record.items() if k not in ("reviewer", "idempotency_key")}
                parse(body, document, complete=True)
                valid += 1
            baseline = time.perf_counter() - t
            print(f"baseline: read and validated {valid:,} in {baseline:.1f}s", flush=True)

        with db.session() as session:
            profiler = cProfile.Profile() if profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            report = import_assessments(session, system, read_records(path.name, path.read_text(encoding="utf-8")),
                                        atomic=mode == "atomic")
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            wall = time.perf_counter() - t
        assert not report.rejected and report.committed, report.rejected[:3]
        rate = len(report.accepted) / wall
        with db.engine.connect() as c:
            stored = c.scalar(text("SELECT count(*) FROM assessments WHERE status = 'submitted'"))
            decisions = c.scalar(text("SELECT count(*) FROM decisions"))
        assert stored == args.n and decisions == report.decisions, (stored, decisions, report.decisions)
        print(f"{mode}: imported {len(report.accepted):,} in {wall:.1f}s ({rate:,.0f}/s), {report.decisions:,} decisions", flush=True)
        return {"mode": mode, "wall": wall, "rate": rate, "decisions": decisions, "baseline": baseline, "enterprises": len(ids)}
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
