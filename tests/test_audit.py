"""The hash-chained audit log."""

import pytest

from sqlalchemy import select, update

from vetting.models import AuditEvent
from vetting.services import audit
from vetting.services.actors import SystemActor


@pytest.mark.tampers_with_audit
def test_chain_verifies_and_names_the_first_tampered_event(session, make_account):
    actor = make_account(role="registrar")
    events = [audit.record(session, actor, "thing.change", "thing", i, {"n": i, "name": "华信"}) for i in range(5)]
    assert all(e.prev_hash != e.hash for e in events)
    assert events[1].prev_hash == events[0].hash
    report = audit.verify(session)
    assert report.ok and report.events >= 5

    session.execute(update(AuditEvent).where(AuditEvent.id == events[2].id).values(summary='{"n":99}'))
    session.expire_all()
    report = audit.verify(session)
    assert not report.ok
    assert report.first_broken_id == events[2].id
    assert "altered" in report.problem


@pytest.mark.tampers_with_audit
def test_deleting_an_event_breaks_the_link(session):
    actor = SystemActor("test")
    events = [audit.record(session, actor, "x", "thing", i) for i in range(3)]
    session.delete(session.get(AuditEvent, events[1].id))
    session.flush()
    session.expire_all()
    report = audit.verify(session)
    assert not report.ok and report.first_broken_id == events[2].id
    assert "does not link" in report.problem


def test_events_record_the_actor(session, make_account):
    actor = make_account(role="registrar")
    ev = audit.record(session, actor, "a", "s", 1)
    loaded = session.scalar(select(AuditEvent).where(AuditEvent.id == ev.id))
    assert loaded.actor_id == actor.id and loaded.actor_label == actor.email


def test_cli_verify_passes_then_names_the_tampered_event(tmp_path):
    from click.testing import CliRunner

    from tests.conftest import scratch_database
    from vetting import migrate
    from vetting.cli import main
    from vetting.db import Database, make_engine

    with scratch_database(tmp_path, "audit") as url:
        db = Database(make_engine(url))
        migrate.upgrade(db.engine)
        with db.session() as s:
            ids = [audit.record(s, SystemActor("t"), "x", "thing", i).id for i in range(4)]
            s.commit()
        env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i")}
        ok = CliRunner().invoke(main, ["audit", "verify"], env=env)
        assert ok.exit_code == 0 and "4 events" in ok.output
        with db.engine.begin() as conn:
            conn.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(action="y"))
        bad = CliRunner().invoke(main, ["audit", "verify"], env=env)
        assert bad.exit_code == 1 and f"event {ids[1]}" in bad.output
        db.dispose()


def test_events_in_savepoints_and_after_a_rollback_still_link(session):
    actor = SystemActor("test")
    first = audit.record(session, actor, "thing.change", "thing", 1)
    second = audit.record(session, actor, "thing.change", "thing", 2)  # links without reading the tail again
    assert second.prev_hash == first.hash
    nested = session.begin_nested()
    audit.record(session, actor, "thing.change", "thing", 3)
    nested.rollback()  # the remembered tail is gone with the savepoint
    fourth = audit.record(session, actor, "thing.change", "thing", 4)
    assert fourth.prev_hash == second.hash
    nested = session.begin_nested()
    fifth = audit.record(session, actor, "thing.change", "thing", 5)
    nested.commit()
    sixth = audit.record(session, actor, "thing.change", "thing", 6)
    assert fifth.prev_hash == fourth.hash and sixth.prev_hash == fifth.hash
    assert audit.verify(session).ok


def test_an_append_from_a_session_that_has_not_begun_waits_for_the_chain_lock(tmp_path):
    """A session whose first statement is the audit append (as in publishing a release) takes
    the chain's lock too: it waits for a writer holding it and links to that writer's event
    instead of reading a stale tail and failing on the unique prev_hash."""
    import os
    import threading

    from tests.conftest import TEST_URL_ENV, scratch_database
    from vetting import migrate
    from vetting.db import Database, make_engine

    if not os.environ.get(TEST_URL_ENV):
        pytest.skip("the chain's advisory lock is PostgreSQL's (SQLite serialises writers itself)")
    with scratch_database(tmp_path, "auditlock") as url:
        db = Database(make_engine(url))
        try:
            migrate.upgrade(db.engine)
            outcome: dict = {}

            def append_from_a_fresh_session():
                with db.session() as s:
                    try:
                        event = audit.record(s, SystemActor("second"), "b", "thing", 2)
                        s.commit()
                        outcome["prev"] = event.prev_hash
                    except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                        outcome["error"] = exc

            with db.session() as first:
                held = audit.record(first, SystemActor("first"), "a", "thing", 1)  # holds the lock until commit
                second = threading.Thread(target=append_from_a_fresh_session)
                second.start()
                second.join(1.0)
                assert second.is_alive(), outcome  # waiting for the lock, not done with a stale tail
                first.commit()
            second.join(30)
            assert not second.is_alive()
            assert "error" not in outcome, outcome.get("error")
            assert outcome["prev"] == held.hash
            with db.session() as s:
                assert audit.verify(s).ok
        finally:
            db.dispose()
