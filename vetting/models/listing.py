"""Listings on the red or black list, with their full transition history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ColumnElement, Date, ForeignKey, Index, Integer, String, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vetting.db import Base
from vetting.models.types import ListingStatus, ListType, UTCDateTime, str_enum, utcnow


class Listing(Base):
    """An enterprise's entry on a list. Proposed, then active once the enterprise was notified,
    the objection window passed and a second registrar confirmed it; it ends withdrawn, expired,
    removed or revoked. A red listing is suspended while a knock-out black proposal is pending.
    The database refuses a second active listing for the same enterprise, so no one is on both
    lists."""

    __tablename__ = "listings"
    __table_args__ = (
        Index(
            "uq_listings_one_active_per_enterprise",
            "enterprise_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_listings_status_list", "status", "list_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)  # quoted in notices and objections
    # "listing" puts the enterprise on list_type; "removal" proposes taking it off that list
    kind: Mapped[str] = mapped_column(String(16), default="listing", server_default="listing")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    list_type: Mapped[ListType] = mapped_column(str_enum(ListType, "list_type"))
    status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus, "listing_status"), default=ListingStatus.PROPOSED)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    grounds: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    triggered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    #: days the enterprise has to object, fixed from the ruleset when the listing is proposed
    objection_days: Mapped[int | None] = mapped_column(Integer)
    #: the day the enterprise was notified (notice delivered, or service recorded by a registrar);
    #: the objection window runs from it, and nothing is confirmed before it
    notified_on: Mapped[date | None] = mapped_column(Date)
    #: the window's last day: ``notified_on`` plus ``objection_days``; unknown until notified
    objection_deadline: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    effective_from: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    events: Mapped[list[ListingEvent]] = relationship(
        back_populates="listing", cascade="all, delete-orphan", order_by="ListingEvent.id"
    )

    @classmethod
    def in_force_on(cls, day: date | ColumnElement[date]) -> ColumnElement[bool]:
        """The listings that put an enterprise on a list on ``day``: active, through their
        ``expires_on`` and never after, whether or not the expiry job has recorded the end."""
        return and_(cls.status == ListingStatus.ACTIVE, cls.effective_from <= day, cls.expires_on >= day)

    def lapsed(self, day: date) -> bool:
        """Active or suspended in the database but past its last day on ``day``."""
        return self.status in (ListingStatus.ACTIVE, ListingStatus.SUSPENDED) and self.expires_on is not None \
            and self.expires_on < day


class ListingEvent(Base):
    """One transition of a listing: the history that answers "what was the status on date X"."""

    __tablename__ = "listing_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[ListingStatus | None] = mapped_column(str_enum(ListingStatus, "listing_event_from"))
    to_status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus, "listing_event_to"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    listing: Mapped[Listing] = relationship(back_populates="events")
