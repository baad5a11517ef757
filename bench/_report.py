"""Write a benchmark's results into its own section of docs/benchmarks.md (or, with ``path``,
of another document such as docs/reliability.md)."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import statistics
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Each section is written by the script named in it, which measures a baseline in the same run.
The machine is shared and noisy: figures are medians of repeated runs, and ratios to the
same-run baseline are the numbers to compare across machines.
"""

#: The load test and the database-restart drill write here (bench/load.py, bench/restart_drill.py).
RELIABILITY_DOC = DOC.parent / "reliability.md"
RELIABILITY_HEADER = """# Reliability

How the service behaves under a mixed load and when its database goes away. Each section is
written by the script named in it (`bench/load.py`, `bench/restart_drill.py`), which starts the
production server (gunicorn with `vetting serve`'s options) against a scratch PostgreSQL
database, drives it over HTTP, then checks the database against every write the server
acknowledged. A script exits non-zero when a check fails; the figures below are from runs on a
shared, noisy machine, so rates and latencies are indicative, the checks are not.
"""


def machine() -> str:
    return (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"{platform.machine()}, {datetime.now(timezone.utc):%Y-%m-%d}")


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_section(name: str, markdown: str, path: Path | None = None, header: str | None = None) -> None:
    """Replace (or append) the section ``name`` of ``path`` (default docs/benchmarks.md); a
    missing file is created starting with ``header`` (default: the benchmarks header)."""
    doc = path or DOC
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text(encoding="utf-8") if doc.exists() else (header or HEADER)
    block = f"<!-- bench:{name} -->\n{markdown.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def code_revision() -> str:
    """The commit of the code measured, and whether the package or migrations differed from it."""
    import subprocess

    root = DOC.parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "vetting", "migrations"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {head}" + (" with uncommitted changes to vetting/" if dirty else "")


def changed_since(revision: str) -> str:
    """A sentence for the end of a section when the code measured changed during the run."""
    now = code_revision()
    return "" if now == revision else f"\nThe code changed during this run ({revision} at the start, {now} at the end).\n"


def command() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0], DOC.parents[1])] + sys.argv[1:])


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new empty PostgreSQL database beside VETTING_BENCH_DATABASE_URL (default: the local
    `test` database), dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("VETTING_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = f"vetting_bench_{uuid.uuid4().hex[:8]}"
    # pre-ping: the database server may have been restarted meanwhile (bench/restart_drill.py)
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
