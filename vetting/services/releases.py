"""Publishing a release as a use case: the build (``vetting.publication``), then an audit event
naming the release and its manifest's checksum. Called by the CLI, the registrar API and the
periodic job alike."""

from __future__ import annotations

import hashlib
from typing import Any

from vetting.db import Database
from vetting.publication import release
from vetting.services import audit
from vetting.services.actors import Actor


def publish(database: Database, config: dict[str, Any], actor: Actor, *, force: bool = False) -> release.Published:
    result = release.publish(database, config, force=force)
    if result.path is not None and not result.skipped and not result.lost:
        digest = hashlib.sha256((result.path / "index.json").read_bytes()).hexdigest()
        with database.session() as session:
            audit.record(session, actor, "release.publish", "release", result.number,
                         {"counts": result.manifest["counts"], "index_sha256": digest, "forced": force})
            session.commit()
    return result


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
