"""Publishing, listing and verifying releases (see the package docstring for the layout)."""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import shutil
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from vetting.clock import Clock, clock_of
from vetting.errors import DomainError
from vetting.publication import files, signing
from vetting.publication.snapshot import COLUMNS, Lines, csv_lines, refresh

STALE_SECONDS = 3600  # a temporary folder older than this is a crashed build's and is removed
#: Media types of the served files. Werkzeug adds ``; charset=utf-8`` to a text type itself, so
#: none is named here (naming it too made ``text/csv; charset=utf-8; charset=utf-8``).
CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json", ".sig": "application/octet-stream",
                 ".pem": "application/x-pem-file", ".txt": "text/plain"}


def storage(config: dict[str, Any]) -> Path:
    configured = config.get("VETTING_RELEASES_PATH")
    path = Path(configured) if configured else Path(config["VETTING_INSTANCE_PATH"]) / "releases"
    path.mkdir(parents=True, exist_ok=True)
    return path


def numbers(folder: Path) -> list[int]:
    """Published release numbers, oldest first (a folder named by a number is published: only a
    finished build is ever renamed to one)."""
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


def manifest(folder: Path, number: int) -> dict[str, Any]:
    return json.loads((folder / str(number) / "index.json").read_text(encoding="utf-8"))


@dataclass
class Published:
    number: int | None
    path: Path | None = None
    skipped: bool = False  # nothing changed since the previous release
    lost: bool = False  # another publisher took this number first
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def published(self) -> bool:
        """Whether this run published a new release (neither skipped nor beaten to its number)."""
        return self.path is not None and not self.skipped and not self.lost

    @property
    def message(self) -> str:
        if self.skipped:
            return f"no change since release {self.number}; nothing published (use --force to publish anyway)"
        if self.lost:
            return f"another publisher published release {self.number} first; nothing published by this run"
        counts = self.manifest.get("counts", {})
        return (f"release {self.number} published at {self.path}: {counts.get('red', 0)} red, {counts.get('black', 0)} black, "
                f"{self.manifest.get('delta_rows', 0)} changes ({self.seconds:.1f}s)")


def _clean_stale(folder: Path) -> None:
    now = time.time()
    for path in folder.glob(".tmp-*"):
        try:
            if now - path.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            pass


def _snapshot_session(database: Any, clock: Clock | None) -> Any:
    session = database.session()
    if clock is not None:
        session.info["clock"] = clock
    bind = session.get_bind()
    # Every query of the release sees one instant. (A session handed an open connection, as in
    # the tests, already runs inside its owner's transaction.)
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session


#: Rounds of rebuilding stored lines before a snapshot streams them: the second catches the
#: few lines a writer changed while the first (cold, long) one ran.
REFRESH_ROUNDS = 3


@contextlib.contextmanager
def snapshot_lines(database: Any, clock: Clock | None = None) -> Iterator[tuple[Any, Lines]]:
    """A release's snapshot session and its lines, stored ones whenever they can be made
    current. The lines are those shown as of the snapshot's instant (``lines.as_of``, read from
    ``clock``, else from the clock the database's sessions carry, else the system's), so the
    day that decides which listings are in force is the day of the release's ``as_of``.

    The snapshot first counts the stale lines; if there are some, it is left, the stale lines
    are rebuilt in transactions of their own (read committed; on SQLite each span is one write),
    and a new snapshot is taken, up to ``REFRESH_ROUNDS`` times. The last one streams whatever
    it finds: stored lines if none is stale in it, else every line formatted anew. So
    rebuilding decides only how fast a release is, never what it holds."""
    for attempt in range(REFRESH_ROUNDS + 1):
        with _snapshot_session(database, clock) as session:
            lines = csv_lines(session, clock_of(session).now())
            if attempt < REFRESH_ROUNDS and lines.stale():
                session.rollback()
                with database.session() as writer:
                    refresh(writer, lines.day)
                continue
            try:
                yield session, lines
            finally:
                lines.close()
                session.rollback()
            return


def publish(database: Any, config: dict[str, Any], *, force: bool = False, fail_after: str | None = None,
            clock: Clock | None = None) -> Published:
    """Build the next release and publish it by renaming it into place. The release shows the
    lists as of ``clock``'s now (see ``snapshot_lines``). ``fail_after`` (tests and fault drills
    only) names a step after which the build stops as if the process died."""
    started = time.perf_counter()
    folder = storage(config)
    _clean_stale(folder)
    published = numbers(folder)
    previous = published[-1] if published else None
    number = (previous or 0) + 1
    build = folder / f".tmp-{number}-{uuid.uuid4().hex}"
    try:
        build.mkdir()
        with snapshot_lines(database, clock) as (_session, lines):
            snapshot = files.write_listings(build, lines)
        _stop_if(fail_after, "listings")
        if previous is not None and not force and _unchanged(folder, previous, snapshot):
            shutil.rmtree(build, ignore_errors=True)
            return Published(previous, folder / str(previous), skipped=True, manifest=manifest(folder, previous),
                             seconds=time.perf_counter() - started)
        _write_derived(build, folder, number, previous, snapshot)
        _stop_if(fail_after, "delta")
        # generated_at is on the same clock as the snapshot
        index = _write_manifest(build, config, number, previous, snapshot, lines.as_of,
                                lines.as_of + timedelta(seconds=time.perf_counter() - started))
        _stop_if(fail_after, "signed")
        target = folder / str(number)
        if not _move_into_place(build, target):
            return Published(number, lost=True, seconds=time.perf_counter() - started)
        return Published(number, target, manifest=index, seconds=time.perf_counter() - started)
    except SimulatedCrash:
        raise  # leave the folder as a killed process would
    except BaseException as exc:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in FULL:
            raise NoSpace(f"no space left on the device holding {folder}: release {number} was not published and its "
                          f"partial build was removed; the previous release is unchanged. Free space there and publish "
                          f"again.", release=number) from exc
        raise


def _unchanged(folder: Path, previous: int, snapshot: files.Snapshot) -> bool:
    """Whether the new listings.csv is the previous release's, byte for byte."""
    old = {f["name"]: f["sha256"] for f in manifest(folder, previous).get("files", [])}
    return old.get("listings.csv") == snapshot.files["listings.csv"].sha256


def _write_derived(build: Path, folder: Path, number: int, previous: int | None, snapshot: files.Snapshot) -> None:
    """delta.csv (against the previous release), entities.ftm.json and datapackage.json, each
    described in ``snapshot.files``."""
    previous_listings = folder / str(previous) / "listings.csv" if previous is not None else None
    snapshot.files["delta.csv"] = files.write_delta(build, previous_listings, build / "listings.csv")
    with (build / "listings.csv").open(encoding="utf-8", newline="") as src, \
            (build / "entities.ftm.json").open("w", encoding="utf-8") as out:
        entity_count = files.entities(csv.DictReader(src, lineterminator="\n"), out)
    snapshot.files["entities.ftm.json"] = files.describe(build / "entities.ftm.json", entity_count)
    (build / "datapackage.json").write_bytes(files.manifest_bytes(files.datapackage(number, snapshot.files)))
    snapshot.files["datapackage.json"] = files.describe(build / "datapackage.json", len(files.CSV_FILES))


def _write_manifest(build: Path, config: dict[str, Any], number: int, previous: int | None, snapshot: files.Snapshot,
                    as_of: datetime, generated_at: datetime) -> dict[str, Any]:
    """index.json and its signature, and the same checksums in sha256sum's format, signed too (a
    consumer with openssl and sha256sum alone checks everything: docs/releases.md)."""
    described = sorted(snapshot.files.values(), key=lambda w: w.name)
    index = {
        "release": number, "previous": previous, "generated_at": _stamp(generated_at), "as_of": _stamp(as_of),
        "counts": {"red": snapshot.counts["red"], "black": snapshot.counts["black"],
                   "total": snapshot.counts["red"] + snapshot.counts["black"]},
        "delta_rows": snapshot.files["delta.csv"].rows,
        "rulesets": sorted(snapshot.rulesets), "columns": list(COLUMNS),
        "files": [{"name": w.name, "rows": w.rows, "bytes": w.bytes, "sha256": w.sha256} for w in described],
        "signature": {"algorithm": "Ed25519", "file": "index.json.sig", "public_key": "/releases/signing-key.pem"},
    }
    data = files.manifest_bytes(index)
    (build / "index.json").write_bytes(data)
    (build / "index.json.sig").write_bytes(signing.sign(config, data))
    sums = "".join(f"{w.sha256}  {w.name}\n" for w in described) + f"{hashlib.sha256(data).hexdigest()}  index.json\n"
    (build / "SHA256SUMS").write_text(sums, encoding="utf-8")
    (build / "SHA256SUMS.sig").write_bytes(signing.sign(config, sums.encode("utf-8")))
    return index


def _move_into_place(build: Path, target: Path) -> bool:
    """Make the finished build read-only, sync it and rename it to ``target``: the publication.
    False (and the build removed) when another publisher took the number first."""
    for path in build.iterdir():
        path.chmod(0o444)
    files.sync_folder(build)
    try:
        os.rename(build, target)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            shutil.rmtree(build, ignore_errors=True)
            return False
        raise
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


#: The errors of a device that is full (ENOSPC) or of a quota used up (EDQUOT).
FULL = (errno.ENOSPC, errno.EDQUOT)


class NoSpace(DomainError):
    """The releases folder's device is full: nothing was published, the previous release stands."""

    status = 507
    code = "insufficient_storage"


class SimulatedCrash(RuntimeError):
    """Raised by ``publish(fail_after=...)``; the temporary folder is left as a dead process would."""


def _stop_if(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise SimulatedCrash(step)


def _stamp(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Verification:
    source: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _fetch(source: str, name: str) -> bytes | None:
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{source.rstrip('/')}/{name}", timeout=60) as resp:  # noqa: S310 (http(s) only)
                return resp.read()
        except OSError:
            return None
    path = Path(source) / name
    return path.read_bytes() if path.exists() else None


def verify(source: str, public_key_pem: bytes | None = None) -> Verification:
    """Check a release folder or URL: the manifest's signature, then every file's size and
    SHA-256. Each problem is named. Without ``public_key_pem`` a URL's key is fetched from the
    same site (``/releases/signing-key.pem``)."""
    report = Verification(source)
    index = _fetch(source, "index.json")
    signature = _fetch(source, "index.json.sig")
    if index is None:
        report.problems.append("index.json is missing")
        return report
    if public_key_pem is None and source.startswith(("http://", "https://")):
        base = source.rstrip("/").rsplit("/releases/", 1)[0]
        public_key_pem = _fetch(base + "/releases", "signing-key.pem")
    if public_key_pem is None:
        report.problems.append("no public key to check the signature with")
    elif signature is None:
        report.problems.append("index.json.sig is missing")
    elif not signing.verify(public_key_pem, index, signature):
        report.problems.append("index.json.sig does not match index.json: the manifest was changed or signed by another key")
    else:
        report.checked.append("index.json signature")
    sums, sums_sig = _fetch(source, "SHA256SUMS"), _fetch(source, "SHA256SUMS.sig")
    if public_key_pem is not None and sums is not None:
        if sums_sig is None or not signing.verify(public_key_pem, sums, sums_sig):
            report.problems.append("SHA256SUMS.sig does not match SHA256SUMS")
        elif f"{hashlib.sha256(index).hexdigest()}  index.json" not in sums.decode("utf-8", "replace").splitlines():
            report.problems.append("SHA256SUMS does not list this index.json")
        else:
            report.checked.append("SHA256SUMS signature")
    try:
        listed = json.loads(index)["files"]
    except (ValueError, KeyError, TypeError):
        report.problems.append("index.json is not a release manifest")
        return report
    for entry in listed:
        data = _fetch(source, entry["name"])
        if data is None:
            report.problems.append(f"{entry['name']} is missing")
            continue
        if len(data) != entry["bytes"]:
            report.problems.append(f"{entry['name']} has {len(data)} bytes, the manifest says {entry['bytes']}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            report.problems.append(f"{entry['name']} has SHA-256 {digest}, the manifest says {entry['sha256']}")
        else:
            report.checked.append(entry["name"])
    return report
