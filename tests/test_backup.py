"""Backups: `vetting backup` writes one archive of the database, the signing key and the
releases; `vetting restore` brings it back into an empty database and empty folders, checked
member by member first, and verifies the audit chain and the latest release afterwards."""

from __future__ import annotations

import hashlib
import os
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, table, update

from tests.conftest import TEST_URL_ENV, scratch_database, valid_uscc, serve_notice
from vetting import backup as service
from vetting.cli import main
from vetting.clock import FixedClock
from vetting.config import load_config
from vetting.db import Database
from vetting.models import Account, Association, AuditEvent, Enterprise, Identifier, Role
from vetting.publication import release, signing
from vetting.resources import bundled_path
from vetting.services import assessments, listings
from vetting.services.actors import SystemActor
from vetting.services.releases import publish
from vetting.services.setup import initialize

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "site inspection report"}]
SETTINGS_FROM_OUTSIDE = ("VETTING_SIGNING_KEY", "VETTING_RELEASES_PATH", "VETTING_DEMO", "VETTING_SECRET_KEY")


def _env(url: str, instance: Path, **more: str) -> dict[str, str | None]:
    """The environment of one installation for the CLI (settings from outside cleared)."""
    env: dict[str, str | None] = {name: None for name in SETTINGS_FROM_OUTSIDE}
    env.update(VETTING_DATABASE_URL=url, VETTING_INSTANCE_PATH=str(instance), **more)
    return env


def _config(env: dict[str, str | None]) -> dict:
    return load_config(environ={k: v for k, v in env.items() if v is not None})


def _populate(database: Database) -> None:
    """Two black-listed enterprises (assessed, proposed, confirmed) and one unlisted: every step
    leaves audit events."""
    fixed = FixedClock(datetime.now(timezone.utc) - timedelta(days=40))
    with database.session() as session:
        session.info["clock"] = fixed
        associations = [Association(code=f"BK{n}", name=f"Backup Association {n}", country="CN") for n in (1, 2)]
        session.add_all(associations)
        session.flush()
        reviewer = Account(email="reviewer@backup.example", display_name="Reviewer", role=Role.REVIEWER,
                           association=associations[0])
        registrar = Account(email="registrar@backup.example", display_name="Registrar", role=Role.REGISTRAR)
        session.add_all([reviewer, registrar])
        session.flush()
        names = ["Backup Harbour Works Co., Ltd.", "Backup Tunnel Engineering Co., Ltd.", "Backup Grid Power Co., Ltd."]
        for n, name in enumerate(names):
            ent = Enterprise(legal_name=name, country="CN", sector="infrastructure", contact_email=f"c{n}@example.org")
            ent.identifiers.append(Identifier(scheme="uscc", value=valid_uscc(7100 + n)))
            session.add(ent)
            session.flush()
            if n == 2:
                continue  # registered, never assessed
            body = {"enterprise_id": ent.id, "conflict": {"declared": False},
                    "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
                    "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]}
            assessments.file_and_submit(session, reviewer, body)
            proposal = listings.open_proposal(session, ent.id)
            serve_notice(session, registrar, proposal)
            fixed.advance(days=16)
            listings.confirm(session, registrar, proposal.id)
        session.commit()


def _row_counts(database: Database) -> dict[str, int]:
    """Rows in every table of the database."""
    with database.engine.connect() as conn:
        return {name: conn.scalar(select(func.count()).select_from(table(name)))
                for name in sorted(inspect(conn).get_table_names())}


def _chain(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id)))


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """One installation with data, a published release and an archive made by `vetting backup`."""
    root = tmp_path_factory.mktemp("backup-source")
    with scratch_database(root, "bksrc") as url:
        env = _env(url, root / "instance")
        config = _config(env)
        database = Database.from_config(config)
        try:
            initialize(database, bundled_path("seeds"), demo=False)
            _populate(database)
            published = publish(database, config, SystemActor("test"))
            assert published.number == 1 and published.manifest["counts"]["black"] == 2
            archive = root / "backup.tar"
            done = CliRunner().invoke(main, ["backup", str(archive)], env=env)
            assert done.exit_code == 0, done.output
            yield SimpleNamespace(url=url, env=env, config=config, database=database, archive=archive, root=root,
                                  published=published, output=done.output)
        finally:
            database.dispose()


def _fresh_target(tmp_path: Path, url: str, **more: str) -> SimpleNamespace:
    env = _env(url, tmp_path / "instance", **more)
    return SimpleNamespace(env=env, config=_config(env))


def test_a_backup_restores_into_an_empty_database_and_empty_folders(source, tmp_path):
    out = source.output
    assert f"wrote {source.archive} (" in out and "2 listings" in out and "1 release" in out, out
    assert source.archive.stat().st_mode & 0o777 == 0o600  # it holds the private key
    assert [p.name for p in source.archive.parent.iterdir() if p.name.startswith(".")] == []
    with tarfile.open(source.archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and service.KEY_MEMBER in names and "releases/1/listings.csv" in names
    assert (service.SQLITE_MEMBER if source.config["VETTING_DATABASE_URL"].startswith("sqlite") else service.PGDUMP_MEMBER) in names

    with scratch_database(tmp_path, "bkdst") as url:
        # The target keeps its releases outside the instance folder: the configured path is honoured.
        target = _fresh_target(tmp_path, url, VETTING_RELEASES_PATH=str(tmp_path / "shared-releases"))
        done = CliRunner().invoke(main, ["restore", str(source.archive)], env=target.env)
        assert done.exit_code == 0, done.output
        before = _row_counts(source.database)
        events = len(_chain(source.database))
        assert f"audit chain verified: {events} events" in done.output, done.output
        assert "release 1 verified" in done.output and "restore complete" in done.output

        restored = Database.from_config(target.config)
        try:
            assert _row_counts(restored) == before
            assert _chain(restored) == _chain(source.database)
            assert before["enterprises"] == 3 and before["listings"] == 2 and before["audit_events"] == events > 10
            key = signing.key_path(target.config)
            assert key == tmp_path / "instance" / "signing-key.pem"
            assert key.read_bytes() == signing.key_path(source.config).read_bytes()
            assert key.stat().st_mode & 0o777 == 0o600
            folder = tmp_path / "shared-releases"
            assert release.numbers(folder) == [1]
            assert release.verify(str(folder / "1"), signing.public_pem(target.config)).ok
            assert (folder / "1" / "listings.csv").read_bytes() == (source.published.path / "listings.csv").read_bytes()
            assert sorted(p.name for p in folder.iterdir()) == ["1"]  # no temporary folder left
            assert [p.name for p in (tmp_path / "instance").iterdir() if p.name.startswith(".")] == []
            # The restored installation works: the next release follows on from the restored one.
            again = publish(restored, target.config, SystemActor("test"), force=True)
            assert again.number == 2 and release.verify(str(again.path), signing.public_pem(target.config)).ok
        finally:
            restored.dispose()


def test_a_damaged_member_is_refused_by_name_before_anything_is_written(source, tmp_path):
    with tarfile.open(source.archive) as tar:
        offsets = {m.name: (m.offset_data, m.size) for m in tar.getmembers()}
    with scratch_database(tmp_path, "bkbad") as url:
        target = _fresh_target(tmp_path, url)
        database_member = service.SQLITE_MEMBER if url.startswith("sqlite") else service.PGDUMP_MEMBER
        for member in ("releases/1/listings.csv", database_member, service.KEY_MEMBER):
            damaged = tmp_path / f"damaged-{member.replace('/', '-')}.tar"
            data = bytearray(source.archive.read_bytes())
            offset, size = offsets[member]
            data[offset + size // 2] ^= 0x01  # one flipped bit, as a failing disk would leave it
            damaged.write_bytes(bytes(data))
            done = CliRunner().invoke(main, ["restore", str(damaged)], env=target.env)
            assert done.exit_code == 2, done.output
            assert f"archive member {member} is damaged" in done.output, done.output
            assert "Traceback" not in done.output
        not_an_archive = tmp_path / "notes.tar"
        not_an_archive.write_text("not a tar file\n", encoding="utf-8")
        done = CliRunner().invoke(main, ["restore", str(not_an_archive)], env=target.env)
        assert done.exit_code == 2 and "is not a readable tar archive" in done.output, done.output
        # Nothing was written anywhere.
        instance = tmp_path / "instance"
        assert not (instance / "signing-key.pem").exists()
        assert not (instance / "releases").exists() or release.numbers(instance / "releases") == []
        empty = Database.from_config(target.config)
        try:
            assert _row_counts(empty) == {}
        finally:
            empty.dispose()


def test_restoring_over_data_is_refused_without_force_and_leaves_it_untouched(source, tmp_path):
    with scratch_database(tmp_path, "bkfull") as url:
        target = _fresh_target(tmp_path, url)
        existing = Database.from_config(target.config)
        try:
            initialize(existing, bundled_path("seeds"), demo=False)  # rulesets and their audit events
            counts, chain = _row_counts(existing), _chain(existing)
            assert chain
            existing.dispose()
            done = CliRunner().invoke(main, ["restore", str(source.archive)], env=target.env)
            assert done.exit_code == 2, done.output
            assert "already holds data" in done.output and "--force" in done.output, done.output
            assert _row_counts(existing) == counts and _chain(existing) == chain
            assert not signing.key_path(target.config).exists()
            assert release.numbers(release.storage(target.config)) == []

            forced = CliRunner().invoke(main, ["restore", "--force", str(source.archive)], env=target.env)
            assert forced.exit_code == 0, forced.output
            existing.dispose()
            assert _row_counts(existing) == _row_counts(source.database)
            assert _chain(existing) == _chain(source.database)
        finally:
            existing.dispose()


def test_a_different_signing_key_is_not_replaced_without_force(source, tmp_path):
    with scratch_database(tmp_path, "bkkey") as url:
        target = _fresh_target(tmp_path, url)
        own_key = signing.public_pem(target.config)  # makes this installation's own key
        result_key = signing.key_path(target.config).read_bytes()
        database = Database.from_config(target.config)
        try:
            with pytest.raises(service.BackupError, match="a different signing key is already at"):
                service.restore(target.config, database, source.archive)
            assert signing.key_path(target.config).read_bytes() == result_key
            assert _row_counts(database) == {}  # the database was not touched either
            result = service.restore(target.config, database, source.archive, force=True)
            assert result.ok, result.problems
            assert result.audit.ok and result.release_check.ok and result.latest_release == 1
            assert signing.public_pem(target.config) != own_key
        finally:
            database.dispose()


def test_a_restore_that_does_not_verify_exits_1_and_names_what_failed(source, tmp_path):
    """An archive of an installation whose audit log and latest release were altered (its
    members match its manifest) restores, and the verification afterwards says what is wrong."""
    with scratch_database(tmp_path, "bkmid") as middle_url:
        middle = _fresh_target(tmp_path / "middle", middle_url)
        database = Database.from_config(middle.config)
        try:
            assert service.restore(middle.config, database, source.archive).ok
            second = _chain(database)[1]
            with database.engine.begin() as conn:
                conn.execute(update(AuditEvent).where(AuditEvent.hash == second).values(action="listing.nothing"))
            listing_csv = release.storage(middle.config) / "1" / "listings.csv"
            listing_csv.chmod(0o644)
            listing_csv.write_bytes(listing_csv.read_bytes().replace(b"Backup Harbour", b"Backup Harbor"))
            altered = service.backup(middle.config, tmp_path / "altered.tar").path
        finally:
            database.dispose()
    with scratch_database(tmp_path, "bkend") as url:
        target = _fresh_target(tmp_path / "last", url)
        done = CliRunner().invoke(main, ["restore", str(altered)], env=target.env)
        assert done.exit_code == 1, done.output
        assert "PROBLEM  audit chain broken at event" in done.output and "was altered" in done.output, done.output
        assert "PROBLEM  release 1: listings.csv has" in done.output, done.output
        assert "restore complete" not in done.output and "Traceback" not in done.output


def test_a_folder_destination_gets_a_dated_name_and_gz_compresses(source, tmp_path):
    moment = datetime(2027, 5, 4, 3, 2, 1, tzinfo=timezone.utc)
    named = service.backup(source.config, tmp_path, now=moment)
    assert named.path == tmp_path / "vetting-backup-20270504T030201Z.tar"
    compressed = service.backup(source.config, tmp_path / "nightly.tar.gz")
    with open(compressed.path, "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"
    for result in (named, compressed):
        archive = service.open_archive(result.path)  # every member checks against the manifest
        try:
            assert archive.manifest["counts"] == result.manifest["counts"]
            assert archive.manifest["counts"]["releases"] == 1
            digest = hashlib.sha256(archive.read("releases/1/listings.csv")).hexdigest()
            assert digest == hashlib.sha256((source.published.path / "listings.csv").read_bytes()).hexdigest()
        finally:
            archive.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly.tar.gz", "vetting-backup-20270504T030201Z.tar"]
    with pytest.raises(service.BackupError, match="does not exist"):
        service.backup(source.config, tmp_path / "no-such-folder" / "x.tar")


def test_a_database_that_cannot_be_dumped_leaves_no_archive(source, tmp_path):
    base = os.environ.get(TEST_URL_ENV)
    if base:
        from sqlalchemy.engine import make_url

        url = make_url(base).set(database=f"{make_url(base).database}_missing_backup").render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    out = tmp_path / "out"
    out.mkdir()
    done = CliRunner().invoke(main, ["backup", str(out / "backup.tar")], env=_env(url, tmp_path / "instance"))
    assert done.exit_code == 2, done.output
    assert "error:" in done.output and "does not exist" in done.output and "Traceback" not in done.output, done.output
    assert list(out.iterdir()) == []
    assert not (tmp_path / "missing.sqlite3").exists()  # the check did not create an empty database


def test_a_failing_pg_dump_leaves_no_archive(source, tmp_path):
    if not os.environ.get(TEST_URL_ENV):
        pytest.skip("pg_dump runs only for a PostgreSQL database")
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "pg_dump"
    # A pg_dump that dies half-way: it has written part of its output when it fails.
    script.write_text("#!/bin/sh\n"
                      "for arg in \"$@\"; do case \"$arg\" in --file=*) printf 'PGDMP partial' > \"${arg#--file=}\";; esac; done\n"
                      "echo 'pg_dump: error: query failed: server closed the connection unexpectedly' >&2\n"
                      "exit 1\n", encoding="utf-8")
    script.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    env = {**source.env, "PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = CliRunner().invoke(main, ["backup", str(out / "backup.tar")], env=env)
    assert done.exit_code == 2, done.output
    assert "pg_dump failed (exit status 1)" in done.output and "server closed the connection" in done.output, done.output
    assert list(out.iterdir()) == []
