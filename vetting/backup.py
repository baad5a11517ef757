"""Backing up a whole installation into one archive, and restoring one.

An archive is a tar file (gzip-compressed when its name ends in ``.gz`` or ``.tgz``) holding:

``manifest.json``
    format and version, creation time, backend, schema revision, row counts, and the size and
    SHA-256 of every other member.
``database/vetting.sqlite3`` or ``database/vetting.pgdump``
    SQLite: a consistent copy made with SQLite's online backup API while the service runs.
    PostgreSQL: ``pg_dump --format=custom`` of the configured database, taken in the same
    snapshot as the manifest's counts.
``signing-key.pem``
    the private key that signs releases (so the archive must be kept as safe as the key).
``releases/<n>/<file>``
    every published release.

:func:`backup` writes the archive under a temporary name beside its destination, syncs it and
renames it into place, so the final name never holds a partial archive. :func:`restore` checks
every member against the manifest before it changes anything, refuses to replace existing data
unless forced, restores the database, the key and the releases, then verifies the audit chain
and the latest release with the same functions as ``vetting audit verify`` and ``vetting
releases verify``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

from sqlalchemy import create_engine, func, inspect, literal, select, table
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from vetting.db import Database
from vetting.errors import DomainError

FORMAT = "vetting-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/vetting.sqlite3"
PGDUMP_MEMBER = "database/vetting.pgdump"
KEY_MEMBER = "signing-key.pem"
DATABASE_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": PGDUMP_MEMBER}
_RELEASE_MEMBER = re.compile(r"releases/([0-9]+)/([A-Za-z0-9][A-Za-z0-9._-]*)")
_CHUNK = 1 << 20
#: Tables counted into the manifest, by the name the counts use.
COUNTED_TABLES = {"enterprises": "enterprises", "listings": "listings", "audit_events": "audit_events"}


class BackupError(DomainError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""

    code = "backup_error"


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

def _backend(url: URL) -> str:
    name = url.get_backend_name()
    if name not in DATABASE_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL databases, not {name}")
    return name


def _sqlite_path(url: URL) -> Path:
    name = url.database
    if not name or name == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _describe(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"the PostgreSQL database {url.database} on {where}"


def _plain_engine(url: URL, timeout: float) -> Engine:
    """An engine of its own (no pool, none of the service's connection hooks)."""
    if url.get_backend_name() == "sqlite":
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout})
    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": max(1, int(timeout))})


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


def _census(conn: Connection) -> tuple[str | None, dict[str, int]]:
    """The schema revision and the counted tables' row counts, as ``conn`` sees them."""
    from alembic.runtime.migration import MigrationContext

    missing = [name for name in COUNTED_TABLES.values() if not inspect(conn).has_table(name)]
    if missing:
        raise BackupError(f"the database has no {missing[0]} table: it is not a vetting database "
                          "(or was never initialised with `vetting init`)")
    revision = MigrationContext.configure(conn).get_current_revision()
    counts = {key: int(conn.scalar(select(func.count()).select_from(table(name))) or 0)
              for key, name in COUNTED_TABLES.items()}
    return revision, counts


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _HashingReader:
    """Wraps a binary file: everything read through it is counted and hashed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _client_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                             ("sslkey", "PGSSLKEY")):
        value = url.query.get(option)
        if isinstance(value, str) and value:
            env[variable] = value
    return env


def _client_args(url: URL) -> list[str]:
    """pg_dump / pg_restore options naming the server and user of ``url``, never prompting."""
    args = ["--no-password"]
    host = url.host or url.query.get("host")
    if isinstance(host, str) and host:
        args.append(f"--host={host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    return args


def _executable(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(f"{program} was not found on PATH: install the PostgreSQL client programs "
                          "(the same major version as the server, or newer)")
    return found


def _run_client(program: str, args: list[str], env: dict[str, str]) -> None:
    executable = _executable(program)
    try:
        done = subprocess.run([executable, *args], env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"cannot run {program}: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout or "").strip().splitlines() if line.strip()]
        detail = "; ".join(lines[-5:]) or "no message"
        raise BackupError(f"{program} failed (exit status {done.returncode}): {detail}")


def _releases_folder(config: dict[str, Any]) -> Path:
    configured = config.get("VETTING_RELEASES_PATH")
    return Path(configured) if configured else Path(config["VETTING_INSTANCE_PATH"]) / "releases"


def _release_numbers(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    from vetting.publication import release

    return release.numbers(folder)


def _key_path(config: dict[str, Any]) -> Path:
    from vetting.publication import signing

    return signing.key_path(config)


def plural(count: int, noun: str) -> str:
    """``plural(1, "release")`` -> ``1 release``; ``plural(3, "release")`` -> ``3 releases``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KB``; for the command line's messages."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------

@dataclass
class _Member:
    name: str
    path: Path
    size: int
    sha256: str
    mode: int = 0o600


@dataclass
class BackupResult:
    path: Path
    bytes: int
    manifest: dict[str, Any]

    @property
    def summary(self) -> str:
        m = self.manifest
        counts = m["counts"]
        key = "the signing key" if any(x["name"] == KEY_MEMBER for x in m["members"]) else "no signing key"
        return (f"{m['backend']} database at revision {m['alembic_revision'] or 'base'} "
                f"({plural(counts['enterprises'], 'enterprise')}, {plural(counts['listings'], 'listing')}, "
                f"{plural(counts['audit_events'], 'audit event')}), {key}, {plural(counts['releases'], 'release')}")


def default_name(moment: datetime) -> str:
    return f"vetting-backup-{moment.strftime('%Y%m%dT%H%M%SZ')}.tar"


def _destination(dest: Path, moment: datetime) -> Path:
    dest = dest.expanduser()
    if dest.is_dir():
        return dest.resolve() / default_name(moment)
    if not dest.parent.exists():
        raise BackupError(f"the folder {dest.parent} does not exist")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a folder")
    return dest.parent.resolve() / dest.name


def _copy_sqlite(source: Path, copy: Path, timeout: float) -> None:
    """A consistent copy of a live SQLite database with the online backup API."""
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    try:
        src = sqlite3.connect(str(source), timeout=timeout)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the SQLite database {source}: {exc}") from None
    try:
        dst = sqlite3.connect(str(copy))
        try:
            src.backup(dst)
            # The copy stands alone: one file, no write-ahead log beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the SQLite database {source}: {exc}") from None
    finally:
        src.close()


def _census_of_file(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _census(conn)
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read the copy of the database: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _dump_postgresql(url: URL, out: Path, timeout: float) -> tuple[str | None, dict[str, int]]:
    """pg_dump the database in one exported snapshot, and count rows in that same snapshot."""
    _executable("pg_dump")  # before connecting: a missing program is the clearer error
    engine = _plain_engine(url, timeout)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                census = _census(conn)
                _run_client("pg_dump", [*_client_args(url), "--format=custom", f"--file={out}",
                                        f"--snapshot={snapshot}", f"--dbname={url.database}"], _client_env(url))
        return census
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read {_describe(url)}: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _release_members(folder: Path) -> list[_Member]:
    members = []
    for number in _release_numbers(folder):
        for path in sorted((folder / str(number)).iterdir()):
            if not path.is_file():
                continue
            name = f"releases/{number}/{path.name}"
            if not _RELEASE_MEMBER.fullmatch(name):
                continue  # not a file publishing writes
            size, digest = _sha256_file(path)
            members.append(_Member(name, path, size, digest, 0o444))
    return members


def _add(tar: tarfile.TarFile, member: _Member, mtime: float) -> None:
    info = tarfile.TarInfo(member.name)
    info.size = member.size
    info.mode = member.mode
    info.mtime = int(mtime)
    try:
        with member.path.open("rb") as fh:
            reader = _HashingReader(fh)
            tar.addfile(info, reader)  # type: ignore[arg-type]
    except OSError as exc:
        raise BackupError(f"cannot archive {member.path}: {exc}") from None
    if reader.size != member.size or reader.digest.hexdigest() != member.sha256:
        raise BackupError(f"{member.path} changed while it was being archived; run the backup again")


def backup(config: dict[str, Any], dest: str | Path, *, now: datetime | None = None) -> BackupResult:
    """Write the configured database, the signing key and the releases into one archive.

    ``dest`` is the archive's file name, or an existing folder to write
    ``vetting-backup-<UTC time>.tar`` into. The archive is made under a hidden temporary name in
    the same folder and renamed into place once it is complete and synced; a failure leaves no
    archive (and no temporary files)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    url = make_url(config["VETTING_DATABASE_URL"])
    backend = _backend(url)
    timeout = float(config.get("VETTING_DB_TIMEOUT", 5.0))
    target = _destination(Path(dest), moment)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    try:
        staging.mkdir(mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot write in {target.parent}: {exc}") from None
    try:
        if backend == "sqlite":
            dump = staging / "vetting.sqlite3"
            _copy_sqlite(_sqlite_path(url), dump, timeout)
            revision, counts = _census_of_file(dump)
        else:
            dump = staging / "vetting.pgdump"
            revision, counts = _dump_postgresql(url, dump, timeout)
        members = [_Member(DATABASE_MEMBERS[backend], dump, *_sha256_file(dump))]
        key = _key_path(config)
        if key.is_file():
            members.append(_Member(KEY_MEMBER, key, *_sha256_file(key)))
        releases = _release_members(_releases_folder(config))
        members.extend(releases)
        counts["releases"] = len({m.name.split("/")[1] for m in releases})
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "vetting_version": _version(),
            "backend": backend,
            "alembic_revision": revision,
            "counts": counts,
            "members": [{"name": m.name, "bytes": m.size, "sha256": m.sha256} for m in members],
        }
        part = staging / "archive.part"
        _write_archive(part, target.name, manifest, members, moment.timestamp())
        os.replace(part, target)
        _fsync_dir(target.parent)
        return BackupResult(target, target.stat().st_size, manifest)
    except OSError as exc:
        raise BackupError(f"the backup to {target} failed: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_archive(part: Path, final_name: str, manifest: dict[str, Any], members: list[_Member], mtime: float) -> None:
    compressed = final_name.endswith((".gz", ".tgz"))
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        with tarfile.open(fileobj=fh, mode="w:gz" if compressed else "w") as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(mtime)
            tar.addfile(info, io.BytesIO(data))
            for member in members:
                _add(tar, member, mtime)
        fh.flush()
        os.fsync(fh.fileno())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vetting")
    except PackageNotFoundError:  # pragma: no cover (running from a bare checkout)
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Reading and checking an archive
# ---------------------------------------------------------------------------------------------

@dataclass
class Archive:
    """An opened archive whose members all match its manifest."""

    path: Path
    tar: tarfile.TarFile
    manifest: dict[str, Any]
    infos: dict[str, tarfile.TarInfo]

    @property
    def expected(self) -> dict[str, dict[str, Any]]:
        return {m["name"]: m for m in self.manifest["members"]}

    @property
    def releases(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for name in self.expected:
            match = _RELEASE_MEMBER.fullmatch(name)
            if match:
                out.setdefault(int(match.group(1)), []).append(name)
        return dict(sorted(out.items()))

    def stream(self, name: str) -> Iterator[bytes]:
        """The member's bytes in chunks; raises if they do not match the manifest."""
        info = self.infos[name]
        entry = self.expected[name]
        digest = hashlib.sha256()
        size = 0
        try:
            fh = self.tar.extractfile(info)
            if fh is None:
                raise BackupError(f"archive member {name} is not a regular file")
            with fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"archive member {name} cannot be read (the archive is truncated or damaged): {exc}") from None
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"archive member {name} is damaged: its SHA-256 or size does not match manifest.json "
                              f"({size} bytes, sha256 {digest.hexdigest()}; the manifest says {entry['bytes']} bytes, "
                              f"sha256 {entry['sha256']})")

    def extract(self, name: str, path: Path, mode: int = 0o600) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            for chunk in self.stream(name):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())

    def read(self, name: str) -> bytes:
        return b"".join(self.stream(name))

    def close(self) -> None:
        self.tar.close()


def _check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("manifest.json does not describe a vetting backup")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"the archive has format version {version}; this version of vetting reads "
                          f"version {FORMAT_VERSION} (restore it with a newer vetting)")
    if manifest.get("backend") not in DATABASE_MEMBERS:
        raise BackupError(f"manifest.json names an unknown database backend: {manifest.get('backend')!r}")
    members = manifest.get("members")
    if not isinstance(members, list) or not all(
            isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("bytes"), int)
            and isinstance(m.get("sha256"), str) for m in members):
        raise BackupError("manifest.json has no valid list of members")
    names = [m["name"] for m in members]
    if len(set(names)) != len(names):
        raise BackupError("manifest.json lists a member twice")
    for name in names:
        if name not in (SQLITE_MEMBER, PGDUMP_MEMBER, KEY_MEMBER) and not _RELEASE_MEMBER.fullmatch(name):
            raise BackupError(f"manifest.json lists {name!r}, which is not something a vetting backup holds")
    database = DATABASE_MEMBERS[manifest["backend"]]
    if database not in names:
        raise BackupError(f"manifest.json does not list the database member {database}")
    if not isinstance(manifest.get("counts"), dict):
        raise BackupError("manifest.json has no counts")


def open_archive(path: str | Path) -> Archive:
    """Open an archive and check every member against the manifest before anything is used.

    Raises :class:`BackupError` naming the first member that is missing, unexpected or damaged."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is not a readable tar archive: {exc}") from None
    try:
        try:
            infos_list = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{path} is truncated or damaged: {exc}") from None
        infos: dict[str, tarfile.TarInfo] = {}
        for info in infos_list:
            if info.name in infos:
                raise BackupError(f"archive member {info.name} appears twice")
            infos[info.name] = info
        if MANIFEST not in infos:
            raise BackupError(f"{path} has no manifest.json: it is not a vetting backup")
        try:
            handle = tar.extractfile(infos[MANIFEST])
            manifest = json.loads(handle.read().decode("utf-8")) if handle else None
        except (ValueError, tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"manifest.json cannot be read: {exc}") from None
        _check_manifest(manifest)
        archive = Archive(path, tar, manifest, infos)
        expected = archive.expected
        for name, info in infos.items():
            if name == MANIFEST:
                continue
            if name not in expected:
                raise BackupError(f"archive member {name} is not listed in manifest.json")
            if not info.isreg():
                raise BackupError(f"archive member {name} is not a regular file")
        for name in expected:
            if name not in infos:
                raise BackupError(f"archive member {name} is listed in manifest.json but missing from the archive")
            for _chunk in archive.stream(name):
                pass
        return archive
    except BaseException:
        tar.close()
        raise


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    database: str
    key_path: Path | None
    releases_folder: Path
    releases_restored: list[int] = field(default_factory=list)
    releases_kept: list[int] = field(default_factory=list)
    releases_removed: list[int] = field(default_factory=list)
    revision: str | None = None
    head: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    audit: Any = None  # vetting.services.audit.ChainReport
    latest_release: int | None = None
    release_check: Any = None  # vetting.publication.release.Verification
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _nonempty_table(conn: Connection) -> str | None:
    for name in sorted(inspect(conn).get_table_names()):
        if name == "alembic_version":
            continue
        if conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None:
            return name
    return None


def _database_holds_data(url: URL, timeout: float) -> str | None:
    """The name of a table with rows in the configured database, or None when it is empty."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if not path.exists():
            return None
        if not path.is_file():
            raise BackupError(f"{path} is not a file")
    engine = _plain_engine(url, timeout)
    try:
        with engine.connect() as conn:
            return _nonempty_table(conn)
    except SQLAlchemyError as exc:
        hint = " (create it first, for example with createdb)" if "does not exist" in str(exc) else ""
        raise BackupError(f"cannot open {_describe(url)}: {_first_line(exc)}{hint}") from None
    finally:
        engine.dispose()


def _same_release(archive: Archive, folder: Path, names: list[str]) -> bool:
    present = {p.name for p in folder.iterdir()}
    wanted = {name.rsplit("/", 1)[1] for name in names}
    if present != wanted:
        return False
    for name in names:
        entry = archive.expected[name]
        path = folder / name.rsplit("/", 1)[1]
        if not path.is_file() or _sha256_file(path) != (entry["bytes"], entry["sha256"]):
            return False
    return True


def _restore_sqlite(archive: Archive, url: URL, staging: Path, timeout: float) -> None:
    target = _sqlite_path(url)
    copy = staging / "vetting.sqlite3"
    archive.extract(SQLITE_MEMBER, copy)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(str(copy))
        try:
            check = src.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise BackupError(f"the archived SQLite database fails its integrity check: {check[0] if check else 'no answer'}")
            dst = sqlite3.connect(str(target), timeout=timeout)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore into the SQLite database {target}: {exc}") from None


def _restore_postgresql(archive: Archive, url: URL, staging: Path) -> None:
    dump = staging / "vetting.pgdump"
    archive.extract(PGDUMP_MEMBER, dump)
    _run_client("pg_restore", [*_client_args(url), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                               "--single-transaction", f"--dbname={url.database}", str(dump)], _client_env(url))


def _write_key(archive: Archive, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    try:
        archive.extract(KEY_MEMBER, part, 0o600)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _put_release(archive: Archive, folder: Path, number: int, names: list[str]) -> None:
    """Write one release under a temporary name and rename it into place, as publishing does."""
    build = folder / f".tmp-restore-{number}-{uuid.uuid4().hex}"
    build.mkdir()
    try:
        for name in names:
            archive.extract(name, build / name.rsplit("/", 1)[1], 0o444)
        _fsync_dir(build)
        target = folder / str(number)
        if target.exists():
            old = folder / f".tmp-replaced-{number}-{uuid.uuid4().hex}"
            os.rename(target, old)
            os.rename(build, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(build, target)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)


def _put_back(archive: Archive, config: dict[str, Any], database: Database, url: URL, timeout: float,
              result: RestoreResult, wanted: dict[int, list[str]], extra: list[int]) -> None:
    """Write the database, then the key, then the releases (the database first: it is the part
    most likely to fail, and a failed PostgreSQL restore changes nothing)."""
    instance = Path(config["VETTING_INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    staging = instance / f".restore-{uuid.uuid4().hex}"
    staging.mkdir(mode=0o700)
    try:
        database.dispose()  # no pooled connection may hold the old database open
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(archive, url, staging, timeout)
        else:
            _restore_postgresql(archive, url, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if result.key_path is not None:
        _write_key(archive, result.key_path)
    folder = result.releases_folder
    folder.mkdir(parents=True, exist_ok=True)
    for number, names in wanted.items():
        if number not in result.releases_kept:
            _put_release(archive, folder, number, names)
            result.releases_restored.append(number)
    for number in extra:
        shutil.rmtree(folder / str(number))
        result.releases_removed.append(number)
    _fsync_dir(folder)


def restore(config: dict[str, Any], database: Database, archive_path: str | Path, *, force: bool = False) -> RestoreResult:
    """Restore an archive into the configured database, signing key and releases folder.

    Nothing is changed unless every member matches the manifest. Without ``force`` a database
    that holds any row, a different signing key, or releases that differ from (or are missing
    from) the archive make the restore refuse before anything is written. Afterwards the audit
    chain and the latest release are verified and the row counts compared with the manifest;
    their outcome is in the result (``ok``)."""
    from vetting import migrate
    from vetting.publication import release, signing
    from vetting.services import audit

    url = make_url(config["VETTING_DATABASE_URL"])
    backend = _backend(url)
    timeout = float(config.get("VETTING_DB_TIMEOUT", 5.0))
    archive = open_archive(archive_path)
    try:
        manifest = archive.manifest
        if manifest["backend"] != backend:
            raise BackupError(f"the archive holds a {manifest['backend']} database but VETTING_DATABASE_URL names a "
                              f"{backend} database; restore it into a {manifest['backend']} database")
        # Everything that could make us refuse is decided before anything is written.
        refusals = []
        occupied = _database_holds_data(url, timeout)
        if occupied:
            refusals.append(f"{_describe(url)} already holds data (table {occupied} is not empty)")
        key = _key_path(config)
        has_key = KEY_MEMBER in archive.expected
        if has_key and key.exists() and _sha256_file(key) != (archive.expected[KEY_MEMBER]["bytes"],
                                                              archive.expected[KEY_MEMBER]["sha256"]):
            refusals.append(f"a different signing key is already at {key}")
        folder = _releases_folder(config)
        wanted = archive.releases
        present = _release_numbers(folder)
        kept = [n for n in present if n in wanted and _same_release(archive, folder / str(n), wanted[n])]
        differing = [n for n in present if n in wanted and n not in kept]
        extra = [n for n in present if n not in wanted]
        if differing:
            refusals.append(f"releases {', '.join(map(str, differing))} in {folder} differ from the archive's")
        if extra:
            refusals.append(f"releases {', '.join(map(str, extra))} in {folder} are not in the archive")
        if refusals and not force:
            raise BackupError("nothing was restored: " + "; ".join(refusals) + ". Add --force to replace what is there "
                              "with the archive's contents")

        result = RestoreResult(manifest, _describe(url), key if has_key else None, folder, releases_kept=kept)
        try:
            _put_back(archive, config, database, url, timeout, result, wanted, extra)
        except OSError as exc:
            raise BackupError(f"the restore failed: {exc}") from None
    finally:
        archive.close()

    # Verification, with what `vetting audit verify` and `vetting releases verify` use.
    try:
        with database.engine.connect() as conn:
            result.revision, counts = _census(conn)
    except SQLAlchemyError as exc:
        raise BackupError(f"the restored database cannot be read: {_first_line(exc)}") from None
    counts["releases"] = len(_release_numbers(folder))
    result.counts = counts
    result.head = migrate.head_revision()
    for name, expected in manifest["counts"].items():
        if counts.get(name) != expected:
            result.problems.append(f"{name}: the archive's manifest says {expected}, the restored copy has {counts.get(name)}")
    with database.session() as session:
        result.audit = audit.verify(session)
    if not result.audit.ok:
        result.problems.append(f"audit chain broken at event {result.audit.first_broken_id}: {result.audit.problem}")
    numbers = _release_numbers(folder)
    if numbers:
        result.latest_release = numbers[-1]
        if not key.is_file():
            result.problems.append(f"release {numbers[-1]} cannot be verified: there is no signing key at {key}")
        else:
            result.release_check = release.verify(str(folder / str(numbers[-1])), signing.public_pem(config))
            result.problems.extend(f"release {numbers[-1]}: {p}" for p in result.release_check.problems)
    return result
