"""Notices delivered over SMTP to a real local server (aiosmtpd), with retries and backoff."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.conftest import free_port
from vetting.clock import FixedClock
from vetting.models import Notice
from vetting.services import notices


@pytest.fixture()
def clock(session):
    fixed = FixedClock(datetime(2027, 1, 10, 12, 0, tzinfo=timezone.utc))
    session.info["clock"] = fixed
    yield fixed
    session.info.pop("clock", None)


def _notice(session, make_enterprise, clock, email="legal@quay.example"):
    ent = make_enterprise(contact_email=email)
    notice = Notice(enterprise_id=ent.id, kind="listing.proposed", to_email=email, subject="Proposed black listing L2027-TEST",
                    body="Reference: L2027-TEST\nYou may object until 2027-01-25.", created_at=clock.now(),
                    next_attempt_at=clock.now())
    session.add(notice)
    session.flush()
    return notice


def test_a_notice_is_delivered_and_recorded(session, clock, smtp_server, make_enterprise):
    inbox, url = smtp_server
    notice = _notice(session, make_enterprise, clock)
    report = notices.deliver(session, url)
    assert (report.sent, report.failed) == (1, 0)
    (sender, recipients, content), = inbox.messages
    assert sender == "notices@vetting.example" and recipients == ["legal@quay.example"]
    assert "Subject: Proposed black listing L2027-TEST" in content and "Reference: L2027-TEST" in content
    assert f"notice-{notice.id}" in content  # a stable Message-ID
    session.refresh(notice)
    assert notice.sent_at == clock.now() and notice.attempts == 1
    assert notices.deliver(session, url).sent == 0  # never sent twice


def test_failures_back_off_then_succeed(session, clock, smtp_server, make_enterprise):
    inbox, url = smtp_server
    notice = _notice(session, make_enterprise, clock)
    closed = f"smtp://127.0.0.1:{free_port()}?from=notices@vetting.example"
    assert notices.deliver(session, closed, timeout=2).failed == 1
    session.refresh(notice)
    assert notice.attempts == 1 and notice.last_error and notice.next_attempt_at == datetime(2027, 1, 10, 12, 1, tzinfo=timezone.utc)
    assert notices.deliver(session, url).sent == 0  # not yet due
    clock.advance(minutes=1)
    assert notices.deliver(session, closed, timeout=2).failed == 1
    session.refresh(notice)
    assert notice.attempts == 2 and notice.next_attempt_at == datetime(2027, 1, 10, 12, 3, tzinfo=timezone.utc)
    clock.advance(minutes=2)
    assert notices.deliver(session, url).sent == 1
    assert len(inbox.messages) == 1 and notices.undelivered(session) == []


def test_a_notice_without_an_address_waits_for_a_registrar(session, clock, smtp_server, make_enterprise):
    _inbox, url = smtp_server
    notice = _notice(session, make_enterprise, clock, email=None)
    assert notices.deliver(session, url).no_address == 1
    assert notices.deliver(session, url).no_address == 0  # not retried in a loop
    assert [n.id for n in notices.undelivered(session)] == [notice.id]
    assert "no contact email" in session.scalar(select(Notice.last_error).where(Notice.id == notice.id))


def test_a_bad_smtp_url_is_named(session):
    from vetting.errors import ValidationError

    with pytest.raises(ValidationError) as exc:
        notices.deliver(session, "http://mail.example")
    assert "VETTING_SMTP_URL" in exc.value.errors


def test_jobs_run_delivers_the_outbox(tmp_path, smtp_server):
    from click.testing import CliRunner
    from sqlalchemy import insert

    from tests.conftest import scratch_database
    from vetting import migrate
    from vetting.cli import main
    from vetting.db import make_engine
    from vetting.models import Enterprise

    inbox, url = smtp_server
    with scratch_database(tmp_path, "jobs") as db_url:
        engine = make_engine(db_url)
        migrate.upgrade(engine)
        now = datetime.now(timezone.utc)
        with engine.begin() as conn:
            ent = conn.execute(insert(Enterprise).returning(Enterprise.id), {
                "legal_name": "Quay Works Co., Ltd.", "country": "CN", "sector": "infrastructure", "contact_email": "legal@quay.example",
                "created_at": now, "updated_at": now, "version": 1}).scalar()
            conn.execute(insert(Notice), {"enterprise_id": ent, "kind": "listing.proposed", "to_email": "legal@quay.example",
                                          "subject": "Proposed listing", "body": "Reference: L-JOBS", "created_at": now,
                                          "next_attempt_at": now, "attempts": 0})
        env = {"VETTING_DATABASE_URL": db_url, "VETTING_INSTANCE_PATH": str(tmp_path / "i"), "VETTING_SMTP_URL": url}
        result = CliRunner().invoke(main, ["jobs", "run"], env=env)
        assert result.exit_code == 0, result.output
        assert "notices: {'sent': 1" in result.output and "expiry: {'expired': []}" in result.output
        assert len(inbox.messages) == 1
        without = CliRunner().invoke(main, ["jobs", "run"], env={k: v for k, v in env.items() if k != "VETTING_SMTP_URL"})
        assert "VETTING_SMTP_URL is not set" in without.output
        engine.dispose()
