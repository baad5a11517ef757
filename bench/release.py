"""Release building at scale: N active listings on SQLite and on PostgreSQL.

For each database: a scratch database with the default ruleset and N synthetic active listings
(enterprises with Chinese names, aliases, identifiers; decisions; listings with grounds holding
commas and quotes; one event each), bulk-loaded. Then, each in a fresh child process so that its
peak resident memory is its own:

- baseline: the database's own CSV export of the same rows (`sqlite3 -csv` / `COPY ... TO
  STDOUT WITH CSV`) into a file;
- listings.csv, cold: every stored line made stale first (each listing's mark raised, as a bulk
  change or the upgrade that adds stored lines leaves them), then what a release does: rebuild
  the stale lines, then stream listings.csv alone in the repeatable-read snapshot;
- listings.csv, lines current: the same with nothing changed since the last rebuild (the check
  that finds nothing stale, then the stream): the target figure;
- three files: writing listings.csv, red.csv and black.csv as a release does, lines current
  (twice the rows of the export);
- release: the whole first release, cold (every line built; every file, checksums,
  signatures, the atomic rename);
- then 1% of the listings change (half edited, a quarter revoked, a quarter new) and the
  second release is built (rebuilding the changed lines): its delta against the first, and the
  whole release.

Targets: listings.csv within 2× the database's own export; peak RSS at most 200 MB.

Usage: python bench/release.py [--n 1000000] [--db sqlite,postgresql] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import command, machine, median, scratch_postgres, write_section  # noqa: E402

CHARS = "华信中铁港湾天路金海龙腾宏达东方北海新宇三和泰山兰亭星河祁连鼎盛远航恒基鸿建瑞丰安达博远海川金桥"
INDUSTRY = ["路桥工程", "港务", "矿业", "电力建设", "水泥", "纺织", "通信", "铁路工程"]
SUFFIX = ["有限公司", "集团有限公司", "股份有限公司"]
COUNTRIES = ["CN", "KE", "TZ", "ET", "PK", "ID", "VN", "KZ", "RS", "PE"]
SECTORS = ["infrastructure", "transport", "mining", "power", "manufacturing", "telecom"]
EXPORT_SQL = """
SELECT l.id, l.list_type, e.id, e.legal_name, e.chinese_name, e.country, e.sector, l.effective_from, l.expires_on,
       l.reason_codes, l.grounds, d.total_score, d.pillar_scores, d.id
FROM listings l JOIN enterprises e ON e.id = l.enterprise_id JOIN decisions d ON d.id = l.decision_id
WHERE l.status = 'active' AND l.kind = 'listing' ORDER BY l.id
"""


def _rows(n: int, start: int, seed: int):  # noqa: ANN202
    rnd = random.Random(seed)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    for k in range(start, start + n):
        brand = "".join(rnd.choice(CHARS) for _ in range(3))
        chinese = brand + rnd.choice(INDUSTRY) + rnd.choice(SUFFIX)
        legal = f"Bench {k} {brand} Engineering Co., Ltd."
        black = rnd.random() < 0.4
        since = date(2026, 1, 1) + timedelta(days=rnd.randrange(300))
        total = round(rnd.uniform(20, 45) if black else rnd.uniform(75, 95), 1)
        pillars = json.dumps({p: round(rnd.uniform(10, 99), 1) for p in "ESGP"})
        grounds = (f'A knock-out was confirmed with evidence, "site {k}"; workers\' camp, 强迫劳动.' if black
                   else f"Meets international standards with no weak pillar. Total {total}.")
        yield {
            "enterprise": (k, legal, chinese, rnd.choice(COUNTRIES), rnd.choice(SECTORS), now, now, 1),
            "alias": (k, f"{brand}{k}", "alias"),
            "identifier": (k, "uscc", f"91{k:016d}"),
            "decision": (k, k, 1, "BLACK" if black else "RED", json.dumps(["KNOCKOUT"] if black else ["MEETS_RED"]), total,
                         pillars, "{}", "{}", "0" * 64, "1.1", "bench", now),
            "listing": (k, f"LB{k}", "listing", k, "black" if black else "red", "active", k,
                        json.dumps(["KNOCKOUT"] if black else ["MEETS_RED"]), grounds, now, since, now, since,
                        since + timedelta(days=365 * (3 if black else 2))),
            "event": (k, k, datetime.combine(since, datetime.min.time(), tzinfo=timezone.utc), "proposed", "active"),
        }


COLUMNS = {
    "enterprises": "id, legal_name, chinese_name, country, sector, created_at, updated_at, version",
    "enterprise_aliases": "enterprise_id, name, kind",
    "identifiers": "enterprise_id, scheme, value",
    "decisions": ("id, enterprise_id, ruleset_id, outcome, reason_codes, total_score, pillar_scores, document, inputs, "
                  "input_hash, engine_version, trigger, created_at"),
    "listings": ("id, reference, kind, enterprise_id, list_type, status, decision_id, reason_codes, grounds, proposed_at, "
                 "objection_deadline, confirmed_at, effective_from, expires_on"),
    "listing_events": "id, listing_id, at, from_status, to_status",
}
KEYS = {"enterprises": "enterprise", "enterprise_aliases": "alias", "identifiers": "identifier", "decisions": "decision",
        "listings": "listing", "listing_events": "event"}


def load(url: str, n: int, start: int = 1, seed: int = 7) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    pg = engine.dialect.name == "postgresql"
    batch: dict[str, list[tuple]] = {t: [] for t in COLUMNS}

    def flush() -> None:
        if pg:
            raw = engine.raw_connection()
            try:
                with raw.driver_connection.cursor() as cur:
                    for table, rows in batch.items():
                        with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
                raw.driver_connection.commit()
            finally:
                raw.close()
        else:
            with engine.begin() as conn:
                for table, rows in batch.items():
                    if not rows:
                        continue
                    cols = COLUMNS[table]
                    marks = ", ".join("?" for _ in cols.split(","))
                    conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                         [tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row)
                                          for row in rows])
        for rows in batch.values():
            rows.clear()

    for i, record in enumerate(_rows(n, start, seed), 1):
        for table, key in KEYS.items():
            batch[table].append(record[key])
        if i % 20_000 == 0:
            flush()
    flush()
    if pg:
        with engine.begin() as conn:
            for table in COLUMNS:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    engine.dispose()


def change(url: str, n: int, share: float) -> dict[str, int]:
    """1% of the listings change: half get new grounds, a quarter are revoked, a quarter are new."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    count = int(n * share)
    rnd = random.Random(11)
    ids = rnd.sample(range(1, n + 1), count // 2 + count // 4)
    edited, revoked = ids[: count // 2], ids[count // 2:]
    with engine.begin() as conn:
        conn.execute(text("UPDATE listings SET grounds = grounds || ' Amended.' WHERE id IN (%s)" % ",".join(map(str, edited))))
        conn.execute(text("UPDATE listings SET status = 'revoked' WHERE id IN (%s)" % ",".join(map(str, revoked))))
    engine.dispose()
    load(url, count // 4, start=n + 1, seed=13)
    return {"edited": len(edited), "revoked": len(revoked), "added": count // 4}


def child(args: argparse.Namespace) -> None:
    """One measured step in this process; prints a JSON line with seconds and peak RSS."""
    from vetting.app import create_app
    from vetting.publication import files, release

    app = create_app({"VETTING_DATABASE_URL": args.url, "VETTING_INSTANCE_PATH": args.instance})
    database = app.extensions["vetting"].database
    out: dict[str, float] = {}
    t = time.perf_counter()
    if args.child == "export":
        if args.url.startswith("sqlite"):
            path = args.url.removeprefix("sqlite:///")
            with open(Path(args.instance) / "export.csv", "wb") as fh:
                subprocess.run(["sqlite3", "-csv", path, EXPORT_SQL], stdout=fh, check=True)
        else:
            raw = database.engine.raw_connection()
            try:
                with raw.driver_connection.cursor() as cur, open(Path(args.instance) / "export.csv", "wb") as fh:
                    with cur.copy(f"COPY ({EXPORT_SQL}) TO STDOUT WITH CSV") as copy:
                        for chunk in copy:
                            fh.write(chunk)
            finally:
                raw.close()
    elif args.child == "listings":
        folder = Path(tempfile.mkdtemp(dir=args.instance))
        with release.snapshot_lines(database) as (_session, lines):
            files.write_listings(folder, lines)
            out["stored"] = lines.stored
    elif args.child in ("listings_csv", "cold"):
        folder = Path(tempfile.mkdtemp(dir=args.instance))
        if args.child == "cold":
            stale(database)
            t = time.perf_counter()
        with release.snapshot_lines(database) as (_session, lines), (folder / "listings.csv").open("wb") as fh:
            fh.write(files.header_line().encode("utf-8"))
            for everything, *_ in lines.blocks():
                fh.write(everything)
            out["stored"] = lines.stored
    elif args.child == "release":
        if args.cold:
            stale(database)
            t = time.perf_counter()
        published = release.publish(database, dict(app.config), force=True)
        out["delta_rows"] = published.manifest["delta_rows"]
        out["release"] = published.number
    elif args.child == "delta":
        folder = Path(tempfile.mkdtemp(dir=args.instance))
        storage = release.storage(dict(app.config))
        numbers = release.numbers(storage)
        delta = files.write_delta(folder, storage / str(numbers[-2]) / "listings.csv", storage / str(numbers[-1]) / "listings.csv")
        out["delta_rows"] = delta.rows
    out["seconds"] = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.child == "export" and args.url.startswith("sqlite"):
        usage = max(usage, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    out["peak_mb"] = usage / 1024
    print(json.dumps(out))


def stale(database) -> None:  # noqa: ANN001
    """Every stored line stale: each listing's mark raised, as a bulk change would."""
    from sqlalchemy import text

    with database.session() as session:
        session.execute(text("UPDATE listing_line_marks SET mark = mark + 1"))
        session.execute(text("INSERT INTO listing_line_marks (listing_id, mark) SELECT l.id, 1 FROM listings l "
                             "WHERE NOT EXISTS (SELECT 1 FROM listing_line_marks m WHERE m.listing_id = l.id)"))
        session.commit()


def step(name: str, url: str, instance: str, *extra: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", name, "--url", url, "--instance", instance, *extra],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_db(kind: str, n: int, repeats: int) -> dict:
    from vetting.db import Database, make_engine
    from vetting.resources import bundled_path
    from vetting.services.setup import initialize

    work = tempfile.mkdtemp(prefix="vetting-release-bench-")

    def measure(url: str) -> dict:
        database = Database(make_engine(url))
        initialize(database, bundled_path("seeds"), demo=False)
        database.dispose()
        t = time.perf_counter()
        load(url, n)
        loaded = time.perf_counter() - t
        print(f"{kind}: loaded {n:,} listings in {loaded:.0f}s", flush=True)
        export, cold, listings_csv, listings = [], [], [], []
        for _ in range(repeats):  # alternate, so that noise hits all alike
            export.append(step("export", url, work))
            cold.append(step("cold", url, work))  # leaves every line current
            listings_csv.append(step("listings_csv", url, work))
            listings.append(step("listings", url, work))
        first = step("release", url, work, "--cold")
        changed = change(url, n, 0.01)
        second = step("release", url, work)
        delta = step("delta", url, work)
        result = {"load": loaded, "export": export, "cold": cold, "listings_csv": listings_csv, "listings": listings,
                  "first": first, "second": second, "delta": delta, "changed": changed}
        print(kind, json.dumps(result), flush=True)
        return result

    if kind == "postgresql":
        with scratch_postgres() as url:
            return measure(url)
    return measure(f"sqlite:///{work}/bench.sqlite3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--instance")
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = {kind: run_db(kind, args.n, args.repeats) for kind in args.db.split(",")}
    lines = []
    verdicts = []
    for kind, r in results.items():
        export = median([x["seconds"] for x in r["export"]])
        cold = median([x["seconds"] for x in r["cold"]])
        alone = median([x["seconds"] for x in r["listings_csv"]])
        three = median([x["seconds"] for x in r["listings"]])
        # the current figures must have streamed stored lines, the cold ones rebuilt them
        assert all(x["stored"] for x in r["listings_csv"] + r["listings"] + r["cold"]), r
        steps = r["cold"] + r["listings_csv"] + r["listings"]
        peak = max([x["peak_mb"] for x in steps] + [r["first"]["peak_mb"], r["second"]["peak_mb"], r["delta"]["peak_mb"]])
        ratio = alone / export
        name = "SQLite" if kind == "sqlite" else "PostgreSQL"
        print(f"{name}: export {export:.2f}s, listings.csv current {alone:.2f}s ({ratio:.2f}×), cold {cold:.2f}s "
              f"({cold / export:.2f}×), three files {three:.2f}s ({three / export:.2f}×), peak {peak:.0f} MB", flush=True)
        lines.append(f"| {name} | {export:.2f} | {alone:.2f} | {ratio:.2f}× | {cold:.2f} | {cold / export:.2f}× | "
                     f"{three:.2f} | {three / export:.2f}× | {r['first']['seconds']:.1f} | "
                     f"{r['second']['seconds']:.1f} | {r['delta']['seconds']:.1f} ({r['delta']['delta_rows']:,} rows) | "
                     f"{max(x['peak_mb'] for x in steps):.0f} / {r['first']['peak_mb']:.0f} / {r['delta']['peak_mb']:.0f} |")
        verdicts.append(f"{name}: listings.csv with the stored lines current at {ratio:.2f}× the database's own export "
                        f"({'meets' if ratio <= 2 else 'does NOT meet'} the 2× target), cold at {cold / export:.2f}×; "
                        f"peak RSS {peak:.0f} MB ({'meets' if peak <= 200 else 'does NOT meet'} the 200 MB target).")
    write_section("release", f"""
## Building a release

`{command()}` on {machine()}; PostgreSQL on 127.0.0.1, SQLite in a file on local disk; {args.n:,} active listings
(Chinese names, aliases, identifiers, grounds with commas and quotes). Each figure is measured in a fresh child process
(median of {args.repeats} for the export and each listings.csv figure); peak memory is that process's maximum resident set size.

Each active listing's finished line is stored with the mark it was built at (docs/operations.md, "Stored release
lines"). *Current*: nothing changed since the lines were last built, so a release checks that none is stale and streams
them (the target figure). *Cold*: every line stale first (each listing's mark raised, as after a bulk change or the
upgrade that adds stored lines), so the release rebuilds every line, then streams them. Both include the rebuild step and
the repeatable-read snapshot a release runs. The first release is cold; the second follows a change to 1% of the
listings (half edited, a quarter revoked, a quarter new) and rebuilds those lines.

| Database | Baseline: the database's own CSV export (s) | listings.csv, lines current (s) | Ratio (target ≤ 2×) | listings.csv, cold: every line rebuilt (s) | Ratio, cold | listings.csv + red.csv + black.csv, lines current (s) | Ratio, three files (twice the rows) | First release, cold, every file (s) | Second release (s) | Delta alone (s) | Peak MB (listings / release / delta) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(lines)}

Baseline: `sqlite3 -csv` / `COPY (…) TO STDOUT WITH CSV` of the same listings joined with their enterprises and decisions
(no aliases or identifiers, which the release adds). {' '.join(verdicts)}
""")


if __name__ == "__main__":
    main()
