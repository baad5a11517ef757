"""The name-search index, kept beside the register and rebuilt by `vetting search reindex`.

- ``name_tokens``: short tokens of every comparison form of every name of an enterprise (see
  ``vetting.matching``): a query finds its candidates with one indexed query on SQLite and
  PostgreSQL alike.
- ``name_forms``: each stored name with its comparison forms already computed, so scoring a
  candidate is string comparison only.
- ``token_stats``: how many enterprises carry each token (a snapshot refreshed by the daily
  job and by a reindex; the row with the empty token holds the number of enterprises). A query
  reads the postings of its rarest tokens first and weighs shared tokens by rarity, so a common
  word such as "engineering" costs nothing at a million enterprises.
- ``token_variants``: each word of the statistics (4 to 16 letters) under every spelling with
  one of its letters dropped, rebuilt with them. A query word the register spells differently
  by one letter (dropped, added, changed, or two letters swapped) meets the registered word
  through a shared variant, the way a spelling corrector works, without the postings growing.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vetting.db import Base


class NameToken(Base):
    __tablename__ = "name_tokens"
    __table_args__ = (Index("ix_name_tokens_token_enterprise", "token", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64))


class NameForms(Base):
    __tablename__ = "name_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    own: Mapped[bool] = mapped_column(Boolean)  # the legal or Chinese name (not an alias)
    forms: Mapped[str] = mapped_column(Text)  # "kind\x1ftext" records joined by "\x1e"


class TokenStat(Base):
    __tablename__ = "token_stats"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    enterprises: Mapped[int] = mapped_column(Integer)


class TokenVariant(Base):
    __tablename__ = "token_variants"
    __table_args__ = (PrimaryKeyConstraint("variant", "token"),)

    variant: Mapped[str] = mapped_column(String(64))  # the word with one letter dropped
    token: Mapped[str] = mapped_column(String(64))
