"""The candidate index for name search: short tokens of every form of every name of an
enterprise (see ``vetting.matching``), so that a query finds its candidates with one indexed
query on SQLite and PostgreSQL alike before they are scored."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base


class NameToken(Base):
    __tablename__ = "name_tokens"
    __table_args__ = (Index("ix_name_tokens_token_enterprise", "token", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64))
