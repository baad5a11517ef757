"""Decisions: the engine's output for one enterprise, stored with the inputs that produced it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base
from vetting.models.types import Outcome, UTCDateTime, str_enum, utcnow


class Decision(Base):
    """One evaluation. ``inputs`` (canonical JSON of the facts) and the ruleset replay to the
    byte-identical ``document``; earlier decisions of an enterprise are kept."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_enterprise_created", "enterprise_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    ruleset_id: Mapped[int] = mapped_column(ForeignKey("rulesets.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "decision_outcome"))
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    total_score: Mapped[float | None] = mapped_column(Float)
    pillar_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document: Mapped[str] = mapped_column(Text)
    inputs: Mapped[str] = mapped_column(Text)
    input_hash: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(64))
    triggered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
