"""Name search: latency and recall on SQLite and PostgreSQL, against a brute-force baseline.

For each database and size: a fresh database migrated with the default ruleset, N synthetic
enterprises from ``bench/names.py`` (Chinese and English legal names, aliases, USCCs) loaded in
bulk, the token index built, and a set of perturbed queries (exact Chinese, short Chinese,
traditional characters, pinyin spaced and joined, another English legal form, a typo, words
reordered, full-width letters), each with the one enterprise it should find. Then:

- in-process: ``vetting.services.search.search(session, q, limit=10)``, one session per query
  as a request has; p50/p95 latency, recall@1 and recall@10, recall@1 per kind of query;
- where the time goes, on a subset: time in the candidate query (``name_tokens``), in the other
  SQL, and in scoring (``best_match``: forms of the stored names, forms of the query, pair scores);
- over HTTP (``--http``): ``GET /api/v1/enterprises?q=…&limit=10`` against gunicorn (as
  `vetting serve` runs it, 2 workers of 4 threads) on 127.0.0.1, one client in sequence;
- same-run baseline: rapidfuzz ``process.extract(q, every_name, scorer=WRatio, limit=10)`` over a
  list of every stored name (legal, Chinese, aliases), names mapped back to their enterprise.

The token index is written by ``bench.names.index_fast`` (the rows ``index_enterprises`` writes,
computed in parallel and bulk-inserted; a sample is checked against the service); up to
``--service-reindex-up-to`` enterprises the service's own ``reindex`` is timed as well.

Targets (at 1,000,000 enterprises): p95 at most 50 ms in-process, recall@1 at least 0.95, and
at least 20 times faster than the baseline. Sizes above ``--sqlite-up-to`` (100,000) run on
PostgreSQL only, and only when loading and indexing the previous size in this run projects to
under ``--budget-minutes``.

Building a million enterprises takes longer than measuring them, so a database can be kept and
measured again: ``--keep DIR`` keeps each database it builds (SQLite files and build records in
DIR, PostgreSQL databases named ``vetting_bench_search_<db>_<size>_seed<seed>``) with the generated
enterprises, and reuses them on a later invocation with the same size and seed (the index is
checked again on a sample first). ``--build-only`` builds what is not kept yet and measures
nothing; ``--copy-index`` fills an index from the kept build of the same data on the other
database instead of computing the same rows again. Drop kept databases yourself.

Usage: python bench/search.py [--sizes 10000,100000] [--queries 300] [--db sqlite,postgresql] [--http]
       [--results FILE] [--merge FILE,...]   (a long size run on its own, then merged into one section)
       [--keep DIR [--build-only] [--copy-index]] [--baseline-queries 0]   (0: the size's baseline comes from --merge)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, select, text  # noqa: E402

from bench._report import code_revision, command, machine, scratch_postgres, write_section  # noqa: E402
from bench.names import KINDS, Enterprise, Query, check_index, copy_index, generate, index_fast, load, queries  # noqa: E402
from vetting.db import Database, make_engine  # noqa: E402
from vetting.resources import bundled_path  # noqa: E402
from vetting.services.setup import initialize  # noqa: E402
import vetting.services.search  # noqa: E402,F401  (imported now, with the revision below)

#: The code measured: the package is imported from the working tree when this module loads.
REVISION = code_revision()

TARGET_P95_MS = 50
TARGET_RECALL1 = 0.95
TARGET_SPEEDUP = 20
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: SQL sent by a search, told apart by the table it reads first.
SQL_KINDS = (("token_stats", "stats_sql"), ("name_tokens", "candidates"), ("name_forms", "forms_sql"))


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Pass:
    """Latencies (seconds) and ranks (1-based, None when not in the top 10) of one pass."""

    latencies: list[float] = field(default_factory=list)
    ranks: list[int | None] = field(default_factory=list)

    def add(self, seconds: float, rank: int | None) -> None:
        self.latencies.append(seconds)
        self.ranks.append(rank)

    def p(self, q: float) -> float:
        return pct(self.latencies, q) * 1000

    def recall(self, k: int, only: Sequence[int] | None = None) -> float:
        ranks = self.ranks if only is None else [self.ranks[i] for i in only]
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else float("nan")


@dataclass
class Run:
    db: str
    size: int
    names: int = 0
    token_rows: int = 0
    form_rows: int = 0
    generate_s: float = 0.0
    load_s: float = 0.0
    index_s: float = 0.0
    service_reindex_s: float | None = None
    checked: int = 0
    index_copied: bool = False  # index rows copied from the other database's build (``--copy-index``)
    reused: bool = False  # the database was built by an earlier invocation (``--keep``)
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after the in-process pass
    inproc: Pass = field(default_factory=Pass)
    http: Pass | None = None
    kinds: list[str] = field(default_factory=list)
    breakdown: dict[str, float] = field(default_factory=dict)


@dataclass
class Baseline:
    size: int
    names: int
    subset: list[int]
    result: Pass = field(default_factory=Pass)
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after


# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def scratch(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        with scratch_postgres() as url:
            yield url
        return
    folder = tempfile.mkdtemp(prefix="vetting-bench-sqlite-")
    try:
        yield f"sqlite:///{folder}/bench.sqlite3"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Built:
    """What loading and indexing one database produced, kept beside it under ``--keep`` so a
    later invocation with the same size and seed measures the same data without rebuilding."""

    first_id: int
    token_rows: int
    form_rows: int
    load_s: float
    index_s: float
    service_reindex_s: float | None
    checked: int
    index_copied: bool = False  # the index rows were copied from the other database's build of the same data


@contextlib.contextmanager
def kept(kind: str, size: int, seed: int, folder: Path) -> Iterator[tuple[str, Path]]:
    """A database kept after the run: a SQLite file in ``folder``, or a PostgreSQL database
    named after the size and seed beside VETTING_BENCH_DATABASE_URL; yields its URL and the
    path of its record (present once it was fully built)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    folder.mkdir(parents=True, exist_ok=True)
    name = f"search-{kind}-{size}-seed{seed}"
    record = folder / f"{name}.json"
    if kind == "sqlite":
        file = folder.resolve() / f"{name}.sqlite3"
        if not record.exists():  # a build that did not finish starts again from nothing
            for leftover in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                leftover.unlink(missing_ok=True)
        yield f"sqlite:///{file}", record
        return
    url = make_url(_postgres_url(name))
    database = url.database
    admin = create_engine(_bench_base_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            present = c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database})
            if present and not record.exists():
                c.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
                present = None
            if not present:
                record.unlink(missing_ok=True)
                c.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        admin.dispose()
    yield url.render_as_string(hide_password=False), record


def rank_of(ids: Sequence[int], expected: int) -> int | None:
    return ids.index(expected) + 1 if expected in ids else None


def run_inprocess(db: Database, qs: Sequence[Query], first_id: int) -> Pass:
    from vetting.services.search import search

    out = Pass()
    for n, q in enumerate(qs):
        t = time.perf_counter()
        with db.session() as session:
            results = search(session, q.text, limit=10)
            ids = [h.enterprise.id for h in results.hits]
        out.add(time.perf_counter() - t, rank_of(ids, first_id + q.expected))
        if (n + 1) % 100 == 0:
            print(f"    in-process {n + 1}/{len(qs)}: p50 {out.p(50):.0f} ms", flush=True)
    return out


def breakdown(db: Database, qs: Sequence[Query]) -> dict[str, float]:
    """Run ``qs`` through the service with timers on the SQL it sends (by the table it reads)
    and on the functions it calls to decode and score the stored forms (wrapped at run time,
    nothing in the package changed); medians per query, in milliseconds. Then, for the same
    queries, how many tokens and postings the candidate query reads out of all the query's."""
    import vetting.services.search as service
    from vetting.matching import tokens

    acc: dict[str, float] = defaultdict(float)

    def before(_conn, _cursor, _statement, _params, context, _many):  # noqa: ANN001, ANN202
        context._bench_started = time.perf_counter()

    def after(_conn, _cursor, statement, _params, context, _many):  # noqa: ANN001, ANN202
        head = statement.split("WHERE", 1)[0]
        key = next((k for table, k in SQL_KINDS if table in head), "other_sql")
        acc[key] += time.perf_counter() - context._bench_started

    originals = {name: getattr(service, name) for name in ("best_matches", "unpack") if hasattr(service, name)}

    def timed_best_matches(query, entries, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        entries = list(entries)
        acc["names_scored"] += len(entries)
        acc["candidates_scored"] += len({e[0] for e in entries})
        t = time.perf_counter()
        try:
            return originals["best_matches"](query, entries, *a, **kw)
        finally:
            acc["scoring"] += time.perf_counter() - t

    def timed_unpack(packed):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        try:
            return originals["unpack"](packed)
        finally:
            acc["unpack"] += time.perf_counter() - t

    per_query: dict[str, list[float]] = defaultdict(list)
    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    wrappers = {"best_matches": timed_best_matches, "unpack": timed_unpack}
    for name in originals:
        setattr(service, name, wrappers[name])
    try:
        for q in qs:
            acc.clear()
            t = time.perf_counter()
            with db.session() as session:
                service.search(session, q.text, limit=10)
            acc["total"] = time.perf_counter() - t
            for key in ("total", "stats_sql", "candidates", "forms_sql", "other_sql", "unpack", "scoring"):
                per_query[key].append(acc[key] * 1000)
            per_query["candidates_scored"].append(acc["candidates_scored"])
            per_query["names_scored"].append(acc["names_scored"])
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        for name, original in originals.items():
            setattr(service, name, original)
    try:  # the reading plan, as the service computes it from the token statistics
        from vetting.models import TokenStat

        with db.session() as session:
            for q in qs:
                toks = sorted(tokens(q.text))
                stats = dict(session.execute(select(TokenStat.token, TokenStat.enterprises)
                                             .where(TokenStat.token.in_([*toks, ""]))).all())
                read = service.token_weights(toks, stats)
                per_query["query_tokens"].append(len(toks))
                per_query["tokens_read"].append(len(read))
                per_query["postings_read"].append(sum(stats.get(t, 0) for t in read))
                per_query["postings_all"].append(sum(stats.get(t, 0) for t in toks))
    except (ImportError, AttributeError) as exc:
        print(f"    (no reading plan: {exc})", flush=True)
    out = {key: statistics.median(values) for key, values in per_query.items()}
    timed = sum(out[k] for k in ("stats_sql", "candidates", "forms_sql", "other_sql", "unpack", "scoring"))
    out["rest"] = max(0.0, out["total"] - timed)
    out["queries"] = len(qs)
    return out


def run_http(url: str, qs: Sequence[Query], first_id: int) -> Pass:
    from bench._serve import serve

    out = Pass()
    with serve(url, workers=2) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def get(q: str) -> list[int]:
            conn.request("GET", "/api/v1/enterprises?" + urllib.parse.urlencode({"q": q, "limit": 10}))
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET ?q={q!r}: {resp.status} {body[:300]!r}")
            return [r["enterprise"]["id"] for r in json.loads(body)["results"]]

        for q in qs[:5]:  # warm-up: both workers import, connect and fill their caches
            get(q.text)
        for n, q in enumerate(qs):
            t = time.perf_counter()
            ids = get(q.text)
            out.add(time.perf_counter() - t, rank_of(ids, first_id + q.expected))
            if (n + 1) % 100 == 0:
                print(f"    HTTP {n + 1}/{len(qs)}: p50 {out.p(50):.0f} ms", flush=True)
        conn.close()
    return out


def run_baseline(ents: Sequence[Enterprise], qs: Sequence[Query], subset: list[int]) -> Baseline:
    from rapidfuzz import fuzz, process, utils

    names: list[str] = []
    owner: list[int] = []
    for i, e in enumerate(ents):
        for name in e.names():
            names.append(name)
            owner.append(i)
    base = Baseline(len(ents), len(names), subset)
    load_before = os.getloadavg()[0]
    for n, i in enumerate(subset):
        q = qs[i]
        t = time.perf_counter()
        found = process.extract(q.text, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=10)
        ids = list(dict.fromkeys(owner[index] for _name, _score, index in found))
        base.result.add(time.perf_counter() - t, rank_of(ids, q.expected))
        if (n + 1) % 10 == 0:
            print(f"    baseline {n + 1}/{len(subset)}: p50 {base.result.p(50):.0f} ms", flush=True)
    base.load = [load_before, os.getloadavg()[0]]
    return base


def build(db: Database, kind: str, size: int, args: argparse.Namespace, ents: list[Enterprise]) -> Built:
    """Migrate, load and index a new database; check a sample of the index against the service."""
    from vetting.services.search import reindex

    initialize(db, bundled_path("seeds"), demo=False)
    t = time.perf_counter()
    first_id = load(db.engine, ents)
    load_s = time.perf_counter() - t
    print(f"  [{kind} {size:,}] loaded in {load_s:.1f}s", flush=True)
    t = time.perf_counter()
    source = _copy_source(kind, size, args)
    if source is not None:
        path, source_first_id = source
        token_rows, form_rows = copy_index(db.engine, path, first_id - source_first_id)
    else:
        token_rows, form_rows = index_fast(db.engine, ents, first_id)
    index_s = time.perf_counter() - t
    print(f"  [{kind} {size:,}] indexed ({token_rows:,} token rows, {form_rows:,} form rows"
          f"{', copied from ' + source[0] if source else ''}) in {index_s:.1f}s", flush=True)
    service_reindex_s = None
    if size <= args.service_reindex_up_to:
        with db.session() as session:
            t = time.perf_counter()
            reindex(session)
            service_reindex_s = time.perf_counter() - t
        print(f"  [{kind} {size:,}] service reindex in {service_reindex_s:.1f}s", flush=True)
    with db.session() as session:
        sample = random.Random(size).sample(range(first_id, first_id + size), min(300, size))
        checked = check_index(session, sample)
    _settle(db)
    return Built(first_id, token_rows, form_rows, load_s, index_s, service_reindex_s, checked, index_copied=source is not None)


def _copy_source(kind: str, size: int, args: argparse.Namespace) -> tuple[str, int] | None:
    """With ``--copy-index``, the kept build of the same size and seed on the other database to
    copy the index from (a SQLite file or a PostgreSQL URL, and its first id), when there is one."""
    if not args.copy_index or not args.keep:
        return None
    other = "sqlite" if kind == "postgresql" else "postgresql"
    name = f"search-{other}-{size}-seed{args.seed}"
    record = Path(args.keep) / f"{name}.json"
    if not record.exists():
        return None
    first_id = json.loads(record.read_text(encoding="utf-8"))["first_id"]
    if other == "sqlite":  # opened read only
        return f"sqlite:///file:{(Path(args.keep) / f'{name}.sqlite3').resolve()}?mode=ro&uri=true", first_id
    return _postgres_url(name), first_id


def _bench_base_url():  # noqa: ANN202
    """VETTING_BENCH_DATABASE_URL (default: the local ``test`` database), parsed."""
    from sqlalchemy.engine import make_url

    return make_url(os.environ.get("VETTING_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))


def _postgres_url(name: str) -> str:
    """The URL of the kept PostgreSQL database of build ``name``, beside VETTING_BENCH_DATABASE_URL."""
    return _bench_base_url().set(database=f"vetting_bench_{name.replace('-', '_')}").render_as_string(hide_password=False)


def measure(kind: str, size: int, args: argparse.Namespace, ents: list[Enterprise], qs: list[Query], gen_s: float) -> Run:
    run = Run(kind, size, names=sum(len(e.names()) for e in ents), generate_s=gen_s, kinds=[q.kind for q in qs])
    where = kept(kind, size, args.seed, Path(args.keep)) if args.keep else contextlib.nullcontext((None, None))
    with contextlib.ExitStack() as stack:
        url, record = stack.enter_context(where)
        if url is None:
            url = stack.enter_context(scratch(kind))
        db = Database(make_engine(url, pool_size=2))
        try:
            if record is not None and record.exists():
                built = Built(**json.loads(record.read_text(encoding="utf-8")))
                with db.session() as session:  # the index as built, checked again on a sample
                    sample = random.Random(size).sample(range(built.first_id, built.first_id + size), min(300, size))
                    check_index(session, sample)
                print(f"  [{kind} {size:,}] reusing {url} (built earlier: load {built.load_s:.1f}s, "
                      f"index {built.index_s:.1f}s)", flush=True)
                reused = True
            else:
                built = build(db, kind, size, args, ents)
                if record is not None:
                    record.write_text(json.dumps(asdict(built)), encoding="utf-8")
                reused = False
            first_id = built.first_id
            run.index_copied, run.reused = built.index_copied, reused
            run.token_rows, run.form_rows, run.load_s, run.index_s = built.token_rows, built.form_rows, built.load_s, built.index_s
            run.service_reindex_s, run.checked = built.service_reindex_s, built.checked
            warm = queries(ents, 10, args.seed + 99)
            run_inprocess(db, warm, first_id)
            load_before = os.getloadavg()[0]
            run.inproc = run_inprocess(db, qs, first_id)
            run.load = [load_before, os.getloadavg()[0]]
            print(f"  [{kind} {size:,}] in-process p50 {run.inproc.p(50):.0f} ms, p95 {run.inproc.p(95):.0f} ms, "
                  f"recall@1 {run.inproc.recall(1):.3f}, @10 {run.inproc.recall(10):.3f}", flush=True)
            run.breakdown = breakdown(db, qs[:args.profile_queries])
            print(f"  [{kind} {size:,}] breakdown: " + ", ".join(f"{k} {v:.1f}" for k, v in run.breakdown.items()), flush=True)
            db.dispose()
            if args.http and size <= args.http_up_to:
                run.http = run_http(url, qs, first_id)
                print(f"  [{kind} {size:,}] HTTP p50 {run.http.p(50):.0f} ms, p95 {run.http.p(95):.0f} ms, "
                      f"recall@1 {run.http.recall(1):.3f}", flush=True)
        finally:
            db.dispose()
    return run


def _settle(db: Database) -> None:
    """Statistics as a running database would have them after a bulk load (autovacuum on
    PostgreSQL sets the visibility map and planner statistics; SQLite is left as deployed)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# ---------------------------------------------------------------------------------------------
# Report

def _f(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(sources: list[dict], runs: list[Run], baselines: dict[int, Baseline], skipped: list[tuple[str, int, str]]) -> str:
    """The section: ``sources`` are the invocations the figures come from (this one last)."""
    runs = sorted(runs, key=lambda r: (r.size, r.db != "sqlite"))
    baselines = dict(sorted(baselines.items()))
    if len(sources) == 1:
        origin = f"`{sources[0]['command']}` on {sources[0]['machine']}; {sources[0]['revision']}"
    else:
        origin = (f"Figures from {len(sources)} invocations on {sources[-1]['machine']}: "
                  + "; ".join(f"`{src['command']}` ({src['revision']})" for src in sources))
    queries_per_size = len(runs[0].kinds) if runs else 0
    profiled = int(runs[0].breakdown.get("queries", 0)) if runs else 0
    seed = sources[-1]["seed"]
    lines = [
        "## Name search: latency and recall",
        "",
        f"{origin}; PostgreSQL on 127.0.0.1, SQLite in a file on local disk.",
        "",
        "Data: synthetic enterprises from `bench/names.py` (seed {seed}): a Chinese legal name (optional place, two- or "
        "three-character trade name, industry, optional numbered branch, legal form), its English legal name in pinyin, "
        "0–2 aliases, a valid USCC. Queries: {q} per size, enterprises picked at random, the kinds in turn "
        "({kinds}); each has exactly one right answer. Latency is wall time of `search(session, q, limit=10)` with a new "
        "session per query, after 10 warm-up queries; HTTP is `GET /api/v1/enterprises?q=…&limit=10` against gunicorn "
        "(2 workers of 4 threads as `vetting serve` runs it, rate limits raised) from one client in sequence. PostgreSQL gets `VACUUM ANALYZE` after the "
        "bulk load (what autovacuum would do).".format(seed=seed, q=queries_per_size, kinds=", ".join(KINDS)),
        "",
        "| Database | Enterprises | Names | Index rows (tokens / forms) | Load s | Index s (bulk) | `reindex` s (service) "
        "| p50 ms | p95 ms | Recall@1 | Recall@10 | HTTP p50 ms | HTTP p95 ms | HTTP recall@1 | Load (1-min avg, before / after) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {LABEL[r.db]} | {r.size:,} | {r.names:,} | {r.token_rows:,} / {r.form_rows:,} | {r.load_s:.1f} | {r.index_s:.1f}"
            f"{' (copied)' if r.index_copied else ''}{'*' if r.reused else ''} | "
            f"{_f(r.service_reindex_s, '{:.1f}')} | {r.inproc.p(50):,.0f} | {r.inproc.p(95):,.0f} | {r.inproc.recall(1):.3f} | "
            f"{r.inproc.recall(10):.3f} | {_f(r.http.p(50) if r.http else None)} | {_f(r.http.p(95) if r.http else None)} | "
            f"{_f(r.http.recall(1) if r.http else None, '{:.3f}')} | "
            + (f"{r.load[0]:.1f} / {r.load[1]:.1f}" if r.load else "—") + " |")
    lines += ["", "Index s (bulk): the `name_tokens` and `name_forms` rows of the service's `index_rows`, computed in "
              f"{os.cpu_count()} processes and bulk-inserted (COPY / executemany), then the service's `refresh_token_stats`; "
              f"a sample of {runs[0].checked if runs else 0} enterprises per run is checked against what the service "
              "computes from the stored names. `reindex` s: the service's `reindex` (what `vetting search reindex` runs) "
              "over the same data, where it was timed. Load: the machine's 1-minute load average before and after the "
              f"in-process pass ({os.cpu_count()} CPUs; above that, queries waited for a CPU and wall times grew with it)."]
    if any(r.index_copied for r in runs):
        lines += ["", "(copied): the index rows were copied from the other database's build of the same enterprises "
                  "(`--copy-index`: the same rows, computed once), so that Index s is the copy's time, not a build's; "
                  "the sample check against the service ran on the copy as on every build."]
    if any(r.reused for r in runs):
        lines += ["", "*: the database was built by an earlier invocation with the same size and seed and kept (`--keep`); "
                  "its load and index times are that build's, on a machine that was then busy with other work too, "
                  "and its index was checked again on a sample before measuring."]
    lines += [""]

    lines += ["### Baseline: rapidfuzz over every stored name", "",
              "`process.extract(q, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=10)` over a Python list "
              "of every legal name, Chinese name and alias, the 10 names mapped back to their enterprises; on the first "
              "queries of the same set (all kinds in turn). Speed-ups compare with the service's in-process latency on the "
              "same queries; the load columns say how busy the machine was during each (a busier baseline inflates the "
              "speed-up, a busier search deflates it).", "",
              "| Enterprises | Names | Queries | Baseline p50 ms | Baseline p95 ms | Recall@1 | Recall@10 | Database "
              "| Search p50 ms (same queries) | Search p95 ms | Speed-up p50 | Speed-up p95 | Load during baseline |",
              "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        b = baselines.get(r.size)
        if not b:
            continue
        sub = Pass([r.inproc.latencies[i] for i in b.subset], [r.inproc.ranks[i] for i in b.subset])
        lines.append(f"| {b.size:,} | {b.names:,} | {len(b.subset)} | {b.result.p(50):,.0f} | {b.result.p(95):,.0f} | "
                     f"{b.result.recall(1):.3f} | {b.result.recall(10):.3f} | {LABEL[r.db]} | {sub.p(50):,.0f} | {sub.p(95):,.0f} | "
                     f"{b.result.p(50) / sub.p(50):.2f}× | {b.result.p(95) / sub.p(95):.2f}× | "
                     + (f"{b.load[0]:.1f} / {b.load[1]:.1f}" if b.load else "—") + " |")

    lines += ["", "### Recall@1 by kind of query", "",
              "| Kind | " + " | ".join(f"{LABEL[r.db]} {r.size:,}" for r in runs) + " | Baseline " +
              " | Baseline ".join(f"{s:,}" for s in baselines) + " |",
              "|---|" + "---:|" * (len(runs) + len(baselines))]
    for kind in KINDS:
        cells = []
        for r in runs:
            idx = [i for i, k in enumerate(r.kinds) if k == kind]
            cells.append(f"{r.inproc.recall(1, idx):.2f} ({len(idx)})")
        for b in baselines.values():
            kinds = runs[0].kinds if runs else []
            idx = [n for n, i in enumerate(b.subset) if kinds[i] == kind]
            cells.append(f"{b.result.recall(1, idx):.2f} ({len(idx)})" if idx else "—")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")

    lines += ["", "### Where the time goes", "",
              f"The service run again on the first {profiled} queries with timers on the SQL it sends (by the "
              "table its outer query reads first) and on the functions it calls to decode and score stored forms (medians per query, ms; "
              "the timers add a little). Reading plan: the query's tokens, those the candidate query reads (rarest "
              "first, within the service's postings budget) and their postings, from the token statistics.", "",
              "| Database | Enterprises | Total | Token statistics SQL | Candidate query (`name_tokens`, with the candidates' "
              "`name_forms`) | Name forms SQL (on its own) | Other SQL (result cards, transaction) | Unpacking forms "
              "| Scoring (`best_matches`) | ORM and the rest "
              "| Candidates scored | Names scored | Query tokens | Tokens read | Postings read | Postings of all its tokens |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        b = defaultdict(lambda: float("nan"), r.breakdown)
        lines.append(f"| {LABEL[r.db]} | {r.size:,} | {b['total']:,.0f} | {b['stats_sql']:,.1f} | {b['candidates']:,.1f} | "
                     f"{b['forms_sql']:,.1f} | {b['other_sql']:,.1f} | {b['unpack']:,.1f} | {b['scoring']:,.1f} | {b['rest']:,.1f} | "
                     f"{b['candidates_scored']:,.0f} | {b['names_scored']:,.0f} | {b['query_tokens']:,.0f} | {b['tokens_read']:,.0f} | "
                     f"{b['postings_read']:,.0f} | {b['postings_all']:,.0f} |")

    lines += ["", "### Targets", "",
              f"At 1,000,000 enterprises: p95 at most {TARGET_P95_MS} ms in-process, recall@1 at least {TARGET_RECALL1}, "
              f"at least {TARGET_SPEEDUP}× faster than the baseline (p50).", "",
              "| Database | Enterprises | p95 ≤ 50 ms | Recall@1 ≥ 0.95 | ≥ 20× baseline |", "|---|---:|---|---|---|"]
    for r in runs:
        b = baselines.get(r.size)
        speed = None
        if b:
            sub = [r.inproc.latencies[i] for i in b.subset]
            speed = b.result.p(50) / (pct(sub, 50) * 1000)
        lines.append(f"| {LABEL[r.db]} | {r.size:,} | {_verdict(r.inproc.p(95) <= TARGET_P95_MS)} ({r.inproc.p(95):,.0f} ms) | "
                     f"{_verdict(r.inproc.recall(1) >= TARGET_RECALL1)} ({r.inproc.recall(1):.3f}) | "
                     + (f"{_verdict(speed >= TARGET_SPEEDUP)} ({speed:.2f}×)" if speed is not None else "not measured") + " |")
    largest = max((r.size for r in runs), default=0)
    if largest < 1_000_000:
        lines += ["", f"1,000,000 was not measured (largest size measured: {largest:,}); the targets are stated for "
                  "1,000,000, so each verdict above is for the size in its row only."]
        for r in runs:
            if r.size == largest:
                setup = (r.generate_s + r.load_s + r.index_s) * 1_000_000 / r.size
                lines += ["", f"Projected linearly from {LABEL[r.db]} at {r.size:,}: generating, loading and indexing "
                          f"1,000,000 would take about {setup / 60:.0f} min."]
    if any(r.http is None for r in runs):
        lines += ["", "HTTP columns show — where the HTTP pass did not run (`--http`, up to `--http-up-to` enterprises)."]
    present = {(r.db, r.size) for r in runs}
    for db, size, note in skipped:
        if (db, size) not in present:
            lines += ["", note]
    for src in sources:
        if src.get("revision_end", src["revision"]) != src["revision"]:
            lines += ["", f"The code changed during `{src['command']}` ({src['revision']} at the start, {src['revision_end']} "
                      "at the end): its in-process figures are for the code at the start (imported once); each HTTP server "
                      "imported the code on disk when it started."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Results kept between invocations (a long size can be run on its own and merged)

def save_results(path: Path, source: dict, runs: list[Run], baselines: dict[int, Baseline],
                 skipped: list[tuple[str, int, str]]) -> None:
    data = {"source": {**source, "revision_end": code_revision()}, "runs": [asdict(r) for r in runs],
            "baselines": [asdict(b) for b in baselines.values()], "skipped": skipped}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(path)


def load_results(path: Path) -> tuple[dict, list[Run], dict[int, Baseline], list[tuple[str, int, str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    runs = [Run(**{**r, "inproc": Pass(**r["inproc"]), "http": Pass(**r["http"]) if r["http"] else None}) for r in data["runs"]]
    baselines = {b["size"]: Baseline(**{**b, "result": Pass(**b["result"])}) for b in data["baselines"]}
    return data["source"], runs, baselines, [tuple(x) for x in data["skipped"]]


# ---------------------------------------------------------------------------------------------

def generated(size: int, args: argparse.Namespace) -> tuple[list[Enterprise], float]:
    """The enterprises of this size and seed and the seconds generating them took; under
    ``--keep`` kept in a file beside the databases (generation is deterministic) and read back
    on a later invocation."""
    import pickle

    file = Path(args.keep) / f"enterprises-{size}-seed{args.seed}.pickle" if args.keep else None
    if file is not None and file.exists():
        with file.open("rb") as fh:
            gen_s, ents = pickle.load(fh)
        print(f"  read from {file} (generated earlier in {gen_s:.1f}s)", flush=True)
        return ents, gen_s
    t = time.perf_counter()
    ents = list(generate(size, args.seed))
    gen_s = time.perf_counter() - t
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(file.name + ".partial")
        with partial.open("wb") as fh:
            pickle.dump((gen_s, ents), fh, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(file)
    return ents, gen_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of enterprises")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--http", action="store_true", help="also time the queries over HTTP against gunicorn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-queries", type=int, default=50,
                        help="queries the baseline runs (the first of the set); 0 for none (one merged with --merge is shown)")
    parser.add_argument("--profile-queries", type=int, default=50, help="queries timed piece by piece")
    parser.add_argument("--service-reindex-up-to", type=int, default=100_000,
                        help="also time the service's reindex up to this many enterprises")
    parser.add_argument("--http-up-to", type=int, default=100_000, help="the HTTP pass runs up to this many enterprises")
    parser.add_argument("--sqlite-up-to", type=int, default=100_000, help="sizes above this run on PostgreSQL only")
    parser.add_argument("--budget-minutes", type=float, default=45,
                        help="skip a size whose load and index, projected linearly from the previous size, exceed this")
    parser.add_argument("--results", help="keep this invocation's figures in this JSON file (rewritten after every step)")
    parser.add_argument("--merge", help="comma-separated results files of earlier invocations to include in the section")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep each database after the run (SQLite files in DIR, PostgreSQL databases named by size "
                             "and seed, their build records in DIR) and reuse one built earlier with the same size and seed")
    parser.add_argument("--copy-index", action="store_true",
                        help="with --keep: build an index by copying the rows of the kept build of the same size and seed "
                             "on the other database (the same rows, not computed twice); its index time is then the copy's")
    parser.add_argument("--build-only", action="store_true",
                        help="with --keep: build the databases that are not kept yet, measure nothing")
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing docs/benchmarks.md")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    dbs = [d.strip() for d in args.db.split(",")]
    assert all(d in LABEL for d in dbs), dbs
    if args.build_only and not args.keep:
        parser.error("--build-only needs --keep")

    runs: list[Run] = []
    baselines: dict[int, Baseline] = {}
    skipped: list[tuple[str, int, str]] = []
    previous: dict[str, Run] = {}
    source = {"command": command(), "machine": machine(), "revision": REVISION, "seed": args.seed}
    earlier: list[tuple[dict, list[Run], dict[int, Baseline], list]] = [
        load_results(Path(p)) for p in (args.merge.split(",") if args.merge else [])]

    def section(in_progress: bool = False) -> str:
        mine = {(r.db, r.size) for r in runs}
        all_runs = [r for _s, rs, _b, _k in earlier for r in rs if (r.db, r.size) not in mine] + runs
        all_baselines = {size: b for _s, _r, bs, _k in earlier for size, b in bs.items()} | baselines
        notes = [k for _s, _r, _b, ks in earlier for k in ks] + skipped
        if in_progress:
            notes = notes + [("", 0, "(Run in progress: more sizes follow.)")]
        return report([src for src, *_ in earlier] + [source], all_runs, all_baselines, notes)

    def keep() -> None:
        if args.results:
            save_results(Path(args.results), source, runs, baselines, skipped)
    for size in sizes:
        todo = [d for d in dbs if d == "postgresql" or size <= args.sqlite_up_to]
        for d in dbs:
            if d not in todo:
                skipped.append((d, size, f"{LABEL[d]} was not run at {size:,} enterprises (sizes above "
                                         f"{args.sqlite_up_to:,} run on PostgreSQL only)."))
        for d in list(todo):
            prev = previous.get(d)
            if prev is not None:
                projected = (prev.generate_s + prev.load_s + prev.index_s) * size / prev.size
                if projected > args.budget_minutes * 60:
                    todo.remove(d)
                    skipped.append((d, size, f"{LABEL[d]} was not run at {size:,} enterprises: generating, loading and "
                                    f"indexing {prev.size:,} took {prev.generate_s + prev.load_s + prev.index_s:.0f} s in this "
                                    f"run, projected to {projected / 60:.0f} min at {size:,} (budget {args.budget_minutes:g} min)."))
        if not todo:
            continue
        print(f"{size:,} enterprises: generating", flush=True)
        ents, gen_s = generated(size, args)
        qs = queries(ents, args.queries, args.seed + 1)
        print(f"  generated in {gen_s:.1f}s; {len(qs)} queries", flush=True)
        if args.build_only:
            for d in todo:
                with kept(d, size, args.seed, Path(args.keep)) as (url, record):
                    if record.exists():
                        print(f"  [{d} {size:,}] kept already: {url}", flush=True)
                        continue
                    db = Database(make_engine(url, pool_size=2))
                    try:
                        record.write_text(json.dumps(asdict(build(db, d, size, args, ents))), encoding="utf-8")
                    finally:
                        db.dispose()
                    print(f"  [{d} {size:,}] built and kept: {url}", flush=True)
            continue
        subset = list(range(min(args.baseline_queries, len(qs))))
        if subset:  # none: the baseline of this size comes from a merged invocation
            print("  baseline (rapidfuzz over every name)", flush=True)
            baselines[size] = run_baseline(ents, qs, subset)
            keep()
            b = baselines[size].result
            print(f"  baseline p50 {b.p(50):.0f} ms, p95 {b.p(95):.0f} ms, recall@1 {b.recall(1):.3f}", flush=True)
        for d in todo:
            run = measure(d, size, args, ents, qs, gen_s)
            runs.append(run)
            previous[d] = run
            keep()
            if not args.no_write:  # after every run, so a long run that fails later keeps what it measured
                write_section("search", section(in_progress=True))
        del ents
    keep()
    if args.build_only:
        print("built; nothing measured, docs/benchmarks.md left as it was")
    elif args.no_write:
        print(section())
    else:
        write_section("search", section())
        print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
