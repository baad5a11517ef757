"""Enterprises: the vetted companies, with their names, registry identifiers and projects."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from vetting.countries import normalize_country
from vetting.db import Base
from vetting.identifiers import normalize_identifier
from vetting.models.types import BrigcClass, EquatorCategory, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from vetting.models.association import Membership

#: Sectors an enterprise or project is filed under.
SECTORS: tuple[str, ...] = (
    "agriculture",
    "chemicals",
    "infrastructure",
    "manufacturing",
    "mining",
    "oil_gas",
    "power",
    "real_estate",
    "renewables",
    "telecom",
    "transport",
    "water",
)


def normalize_sector(value: str) -> str:
    sector = (value or "").strip().lower()
    if sector not in SECTORS:
        raise ValueError(f"unknown sector '{value}' (known: {', '.join(SECTORS)})")
    return sector


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    chinese_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    sector: Mapped[str] = mapped_column(String(32), index=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    #: Set when this enterprise was merged into another; the absorbed id redirects there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    aliases: Mapped[list[EnterpriseAlias]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="EnterpriseAlias.id"
    )
    identifiers: Mapped[list[Identifier]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="Identifier.id"
    )
    projects: Mapped[list[Project]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="Project.id"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="enterprise", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def alias_names(self) -> list[str]:
        return [alias.name for alias in self.aliases]

    @validates("country")
    def _country(self, _key: str, value: str) -> str:
        return normalize_country(value)

    @validates("sector")
    def _sector(self, _key: str, value: str) -> str:
        return normalize_sector(value)


class EnterpriseAlias(Base):
    """Another name of an enterprise: short name, former name, pinyin or traditional form."""

    __tablename__ = "enterprise_aliases"
    __table_args__ = (UniqueConstraint("enterprise_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="alias")

    enterprise: Mapped[Enterprise] = relationship(back_populates="aliases")


class Identifier(Base):
    """A registry identifier; (scheme, value) is unique across all enterprises."""

    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("scheme", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))

    enterprise: Mapped[Enterprise] = relationship(back_populates="identifiers")

    def __init__(self, scheme: str, value: str, **kwargs: object) -> None:
        scheme = (scheme or "").strip().lower()
        super().__init__(scheme=scheme, value=normalize_identifier(scheme, value), **kwargs)


class Project(Base):
    """An enterprise's overseas project."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    host_country: Mapped[str] = mapped_column(String(2), index=True)
    sector: Mapped[str] = mapped_column(String(32))
    equator_category: Mapped[EquatorCategory | None] = mapped_column(str_enum(EquatorCategory, "equator_category"))
    brigc_class: Mapped[BrigcClass | None] = mapped_column(str_enum(BrigcClass, "brigc_class"))
    start_year: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="projects")

    @validates("host_country")
    def _country(self, _key: str, value: str) -> str:
        return normalize_country(value)

    @validates("sector")
    def _sector(self, _key: str, value: str) -> str:
        return normalize_sector(value)
