"""Counters of failed authentications (sign-ins per email, invalid bearer tokens per client
address) and the locks they lead to; see :mod:`vetting.services.lockout`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base
from vetting.models.types import UTCDateTime


class AuthFailure(Base):
    """One subject of one scope: ``failures`` counted since ``window_started_at``, refused
    until ``locked_until``. The row means nothing after ``expires_at`` and may be deleted."""

    __tablename__ = "auth_failures"
    __table_args__ = (UniqueConstraint("scope", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
