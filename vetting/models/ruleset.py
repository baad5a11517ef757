"""Rulesets: immutable, versioned scoring definitions identified by their content hash."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base
from vetting.models.types import RulesetStatus, UTCDateTime, str_enum, utcnow


class Ruleset(Base):
    """A stored ruleset. ``document`` is the canonical JSON whose SHA-256 is ``content_hash``;
    neither ever changes once stored. At most one ruleset is ``active`` at a time."""

    __tablename__ = "rulesets"
    __table_args__ = (
        Index(
            "uq_rulesets_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    document: Mapped[str] = mapped_column(Text)
    status: Mapped[RulesetStatus] = mapped_column(str_enum(RulesetStatus, "ruleset_status"), default=RulesetStatus.DRAFT)
    effective_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
