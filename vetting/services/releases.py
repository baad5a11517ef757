"""Publishing a release as a use case: the build (``vetting.publication``), then an audit event
naming the release and its manifest's checksum. Called by the CLI, the registrar API and the
periodic job alike.

One write path. The build reads its own snapshot and stores its lines in transactions of its
own; it runs outside the caller's transaction, which it therefore ends first. (On SQLite a
request that may write holds the write lock from its first statement: had it kept it, the
build's own writes, and the audit event written beside it, would have waited for that lock
until they failed, after the release was already visible.) The audit event is then appended in
the caller's unit of work and committed there, once, so it is stored together with whatever
that commit stores (an API request's Idempotency-Key, marked carried out): exactly one event
per published release, none for a skipped or lost run."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from vetting.clock import clock_of
from vetting.db import Database, begin_for_write
from vetting.publication import release
from vetting.services import audit
from vetting.services.actors import Actor

#: The audit action of a published release.
ACTION = "release.publish"


def publish(database: Database, config: dict[str, Any], actor: Actor, *, force: bool = False,
            session: Session | None = None) -> release.Published:
    """Publish the next release as of the service clock's now (skipped when nothing changed
    since the previous one, unless ``force``) and record it.

    ``session`` is the caller's unit of work (an API request's session): its clock dates the
    release, and the audit event is committed in it. Its open transaction is rolled back before
    the build, so it must hold nothing uncommitted. Without one, a session of ``database`` is
    used (the CLI, the jobs)."""
    if session is None:
        with database.session() as own:
            return publish(database, config, actor, force=force, session=own)
    if session.in_transaction():
        session.rollback()  # release the caller's locks (SQLite: the write lock) for the build
    result = release.publish(database, config, force=force, clock=clock_of(session))
    if result.published:
        _record(session, actor, result, force)
    return result


def _record(session: Session, actor: Actor, result: release.Published, force: bool) -> None:
    """The audit event of a published release, committed in ``session``."""
    assert result.path is not None
    digest = hashlib.sha256((result.path / "index.json").read_bytes()).hexdigest()
    begin_for_write(session)
    audit.record(session, actor, ACTION, "release", result.number,
                 {"counts": result.manifest["counts"], "index_sha256": digest, "forced": force})
    session.commit()


def listing(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every published release, newest first: number, times, counts, files."""
    folder = release.storage(config)
    out = []
    for number in reversed(release.numbers(folder)):
        try:
            out.append(release.manifest(folder, number))
        except (OSError, ValueError):
            continue  # a folder without a readable manifest is not a release anyone can use
    return out
