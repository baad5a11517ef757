"""Associations (accredited guilds) and the memberships of enterprises in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from vetting.countries import normalize_country
from vetting.db import Base
from vetting.models.types import AssociationStatus, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from vetting.models.account import Account
    from vetting.models.enterprise import Enterprise


class Association(Base):
    __tablename__ = "associations"
    __table_args__ = (CheckConstraint("length(code) between 2 and 16", name="code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[AssociationStatus] = mapped_column(
        str_enum(AssociationStatus, "association_status"), default=AssociationStatus.ACCREDITED
    )
    accredited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="association")
    memberships: Mapped[list[Membership]] = relationship(back_populates="association")

    @validates("country")
    def _country(self, _key: str, value: str) -> str:
        return normalize_country(value)


class Membership(Base):
    """An enterprise's membership in an association: the basis of conflict-of-interest rules.

    A member from ``since`` (or always, when unknown) until the day before ``ended_on``. Ending
    is asked for (``end_requested_on``) and takes effect when a registrar confirms it; each
    assessment's standing was fixed on its submission date, so an end never re-qualifies an
    assessment filed before it."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("association_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    since: Mapped[date | None] = mapped_column(Date)
    #: the first day the enterprise is no longer a member (the day a registrar confirmed the end)
    ended_on: Mapped[date | None] = mapped_column(Date)
    #: an end asked for and waiting for a registrar's confirmation (four eyes)
    end_requested_on: Mapped[date | None] = mapped_column(Date)
    end_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    end_reason: Mapped[str | None] = mapped_column(Text)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    association: Mapped[Association] = relationship(back_populates="memberships")
    enterprise: Mapped[Enterprise] = relationship(back_populates="memberships")
