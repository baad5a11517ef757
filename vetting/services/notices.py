"""Delivering the outbox of notices by SMTP, with retries and backoff.

Notices are written by the change they announce (see ``listings``). This job sends each
undelivered notice whose time has come, records the delivery (a proposal's objection window
opens on the day its notice is accepted by the SMTP server), and on failure records the error
and schedules the next attempt after an exponential backoff (1, 2, 4, ... minutes, at most a
day). Each notice is committed on its own, so one bad address does not hold the rest back. A
crash between sending and committing can send a notice twice; each message carries a stable
Message-ID so mail systems can tell.

``VETTING_SMTP_URL`` looks like ``smtp://user:password@host:587?starttls=true&from=vetting@example.org``
(``smtps://`` for implicit TLS).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import ValidationError
from vetting.models import Listing, Notice
from vetting.services import audit, listings
from vetting.services.actors import SystemActor

MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    sender: str
    tls: str  # "none", "starttls" or "implicit"

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationError("VETTING_SMTP_URL is not an SMTP URL",
                                  {"VETTING_SMTP_URL": ["use smtp://[user:password@]host[:port][?starttls=true&from=address]"]})
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        return cls(host=parts.hostname, port=parts.port or (465 if implicit else 25),
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   sender=query.get("from", ["vetting@localhost"])[0],
                   tls="implicit" if implicit else "starttls" if starttls else "none")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    no_address: int = 0


def _message(notice: Notice, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = notice.to_email
    message["Subject"] = notice.subject
    message["Message-ID"] = make_msgid(idstring=f"notice-{notice.id}", domain=settings.sender.rpartition("@")[2] or "localhost")
    message.set_content(notice.body)
    return message


def _send(message: EmailMessage, settings: SmtpSettings, timeout: float) -> None:
    if settings.tls == "implicit":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with client:
        if settings.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(message)


def deliver(session: Session, smtp_url: str, *, limit: int = 200, timeout: float = 10.0) -> DeliveryReport:
    """Send the notices that are due; commits after each one."""
    settings = SmtpSettings.from_url(smtp_url)
    now = clock.now(session)
    report = DeliveryReport()
    due = session.scalars(
        select(Notice).where(Notice.sent_at.is_(None), Notice.next_attempt_at <= now)
        .order_by(Notice.id).limit(limit)
    ).all()
    for notice in due:
        if not notice.to_email:
            notice.last_error = "the enterprise has no contact email; a registrar must reach it another way"
            notice.next_attempt_at = None  # not retried: waits in the registrar's list of undelivered notices
            notice.attempts += 1
            session.commit()
            report.no_address += 1
            continue
        try:
            _send(_message(notice, settings), settings, timeout)
        except (OSError, smtplib.SMTPException) as exc:
            notice.attempts += 1
            notice.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            notice.next_attempt_at = now + min(timedelta(minutes=2 ** (notice.attempts - 1)), MAX_BACKOFF)
            report.failed += 1
        else:
            notice.attempts += 1
            notice.sent_at = clock.now(session)
            notice.served_on, notice.delivered_by = clock.today(session), "email"
            notice.last_error = None
            _opened(session, notice)
            report.sent += 1
        session.commit()
    return report


def _opened(session: Session, notice: Notice) -> None:
    """A delivered notice of a proposal opens the proposal's objection window, in the same
    transaction that records the delivery."""
    if notice.listing_id is None or notice.kind != "listing.proposed":
        return
    listing = session.get(Listing, notice.listing_id, with_for_update=True)
    actor = SystemActor("jobs")
    audit.append_many(session, actor, [("notice.deliver", "notice", notice.id, {"listing_id": listing.id, "to": notice.to_email}),
                                       *listings.open_window(session, actor, listing, notice.served_on, "email")])


def undelivered(session: Session, *, limit: int = 200) -> list[Notice]:
    """Notices not yet delivered, oldest first (for the registrar pages)."""
    return list(session.scalars(select(Notice).where(Notice.sent_at.is_(None)).order_by(Notice.id).limit(limit)))
