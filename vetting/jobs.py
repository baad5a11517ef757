"""Periodic work, run by `vetting jobs run` (once) from cron or a systemd timer: listings past
their term expire, due notices are delivered, the search index's token statistics are
recounted, and a release is published when the lists changed. Each job calls the same services
the API and the pages use. A database lock keeps the jobs to one instance at a time (a
PostgreSQL advisory lock; on SQLite a lock file in the instance folder): a second runner finds
the lock taken and does nothing.

The jobs read time from their sessions' clock: the system clock, or the one the application
was built with (``VETTING_TODAY``, ``vetting --as-of``), which every session of its database
carries. The worker waits for real times, so the command line refuses it a rehearsal clock."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text

from vetting.db import Database
from vetting.services.actors import SystemActor


@dataclass
class JobsReport:
    ran: dict[str, Any] = field(default_factory=dict)


LOCK_KEY = 0x766A_6F62  # "vjob": the advisory lock id of the periodic jobs (the audit chain uses "vett")


@contextlib.contextmanager
def job_lock(database: Database, config: dict[str, Any]) -> Iterator[bool]:
    """Yields whether this process holds the jobs lock (never waits for it)."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()
        return
    path = Path(config["VETTING_INSTANCE_PATH"]) / "jobs.lock"
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_due(database: Database, config: dict[str, Any], *, release: bool = True) -> JobsReport:
    """Run every job once, under the jobs lock: expiry first (its notices go out in the same
    run), then delivery, the search statistics, and the release."""
    report = JobsReport()
    with job_lock(database, config) as held:
        if not held:
            report.ran["skipped"] = "another instance is running the jobs"
            return report
        _run(database, config, report, release)
    return report


def _run(database: Database, config: dict[str, Any], report: JobsReport, release: bool) -> None:
    from vetting.services import listings, notices

    actor = SystemActor("jobs")
    with database.session() as session:
        expired = listings.expire_due(session, actor)
        report.ran["expiry"] = {"expired": [x.id for x in expired]}
    url = config.get("VETTING_SMTP_URL")
    if url:
        with database.session() as session:
            delivered = notices.deliver(session, url)
        report.ran["notices"] = {"sent": delivered.sent, "failed": delivered.failed, "no_address": delivered.no_address}
    else:
        report.ran["notices"] = {"skipped": "VETTING_SMTP_URL is not set; notices wait in the outbox"}
    from vetting.services.search import refresh_token_stats

    with database.session() as session:
        report.ran["search_statistics"] = {"tokens": refresh_token_stats(session)}
        session.commit()
    if release:
        from vetting.services.releases import publish

        result = publish(database, config, actor)
        report.ran["release"] = result.message


def next_run(schedule: str, after: datetime) -> datetime:
    """The first time ``schedule`` (cron syntax, UTC) fires after ``after``."""
    from croniter import croniter

    if not croniter.is_valid(schedule):
        raise ValueError(f"VETTING_RELEASE_SCHEDULE '{schedule}' is not a cron expression (e.g. '0 2 * * *')")
    return croniter(schedule, after.astimezone(timezone.utc)).get_next(datetime)


def worker(database: Database, config: dict[str, Any], *, log: Callable[[str], None] = print,
           stop: Callable[[], bool] = lambda: False, sleep: Callable[[float], None] = time.sleep,
           now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
    """Run every job at each time of ``VETTING_RELEASE_SCHEDULE`` until ``stop()``; several
    workers may run (the jobs lock lets one of them do the work)."""
    schedule = config.get("VETTING_RELEASE_SCHEDULE") or "0 2 * * *"
    due = next_run(schedule, now())
    log(f"next run at {due:%Y-%m-%d %H:%M} UTC ({schedule})")
    while not stop():
        wait = (due - now()).total_seconds()
        if wait > 0:
            sleep(min(wait, 60.0))
            continue
        try:
            report = run_due(database, config)
            for name, outcome in report.ran.items():
                log(f"{name}: {outcome}")
        except Exception as exc:  # noqa: BLE001 - a failed run is logged and retried at the next time
            log(f"the jobs failed: {type(exc).__name__}: {exc}")
        due = next_run(schedule, now())
        log(f"next run at {due:%Y-%m-%d %H:%M} UTC")
