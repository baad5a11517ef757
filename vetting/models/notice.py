"""The outbox of notices to enterprises: written in the transaction that makes the change they
announce, delivered later by a job (and retried), so a notice is never lost nor sent for a
change that was rolled back."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base
from vetting.models.types import UTCDateTime, utcnow


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_undelivered", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_email: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: how the notice reached the enterprise: "email" (accepted by the SMTP server) or the channel a
    #: registrar recorded ("post", "courier", "in_person", "other")
    delivered_by: Mapped[str | None] = mapped_column(String(16))
    #: the day it reached the enterprise (the objection window opens then)
    served_on: Mapped[date | None] = mapped_column(Date)
    service_note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
