"""Bulk import of assessments into PostgreSQL, evaluation included.

Creates a scratch database beside VETTING_BENCH_DATABASE_URL (default: the local `test`
database), loads the default ruleset, N/4 synthetic enterprises and one reviewer account, writes
N complete assessments (19 criteria, evidence on most) to a JSON Lines file, and imports it with
the same service `vetting assessments import` uses: every record validated, stored as a
submitted assessment with its audit event and idempotency key, and every touched enterprise
re-evaluated with its decision stored.

Same-run baseline: reading and validating the same file against the ruleset without storing
anything (the part of an import no database can speed up).

Usage: python bench/bulk_import.py [--n 100000] [--profile FILE]
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
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the timed import to FILE")
    args = parser.parse_args()
    with scratch_postgres() as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    db = Database(make_engine(url, pool_size=2))
    work = Path(tempfile.mkdtemp(prefix="vetting-bench-"))
    try:
        from vetting.models import Account, Enterprise
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
        _records(path, args.n, ids, email)
        print(f"{args.n:,} records written to {path} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)

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
            reviewer = session.scalar(select(Account).where(Account.email == email))
            profiler = cProfile.Profile() if args.profile else None
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            report = import_assessments(session, system, read_records(path.name, path.read_text(encoding="utf-8")))
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            wall = time.perf_counter() - t
        assert not report.rejected, report.rejected[:3]
        rate = len(report.accepted) / wall
        print(f"imported {len(report.accepted):,} in {wall:.1f}s ({rate:,.0f}/s), {report.decisions:,} decisions", flush=True)
        with db.engine.connect() as c:
            stored = c.scalar(text("SELECT count(*) FROM assessments WHERE status = 'submitted'"))
            decisions = c.scalar(text("SELECT count(*) FROM decisions"))
        verdict = "meets" if rate >= 1000 else "does NOT meet"
        write_section("bulk_import", f"""
## Bulk import of assessments into PostgreSQL (evaluation included)

`{command()}` on {machine()}; PostgreSQL on 127.0.0.1; {args.n:,} complete assessments (19 criteria, evidence on
most) for {len(ids):,} enterprises, one JSON Lines file, imported by the service behind `vetting assessments import`.

| What | Seconds | Records per second | Ratio to baseline |
|---|---:|---:|---:|
| Baseline: read and validate every record, store nothing | {baseline:.1f} | {valid / baseline:,.0f} | 1.00 |
| Import: validate, store, audit, idempotency keys, re-evaluate and store decisions | {wall:.1f} | {rate:,.0f} | {rate / (valid / baseline):.2f} |

Stored: {stored:,} submitted assessments and {decisions:,} decisions ({report.decisions:,} evaluations).
Target: at least 1,000 assessments per second with evaluation; this run {verdict} it.
""")
        print({"baseline": valid / baseline, "rate": rate})
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
