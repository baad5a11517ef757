"""Accounts (people) and their API tokens. Secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vetting.db import Base
from vetting.models.types import AccountStatus, Role, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from vetting.models.association import Association


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # Reviewers and association admins act for one association; registrars for none.
        CheckConstraint(
            "(role = 'registrar' AND association_id IS NULL) OR "
            "(role <> 'registrar' AND association_id IS NOT NULL)",
            name="role_association",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "account_role"))
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    status: Mapped[AccountStatus] = mapped_column(str_enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: carried by every sign-in session; signing out or a new password raises it, ending every copy
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    association: Mapped[Association | None] = relationship(back_populates="accounts")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="account", cascade="all, delete-orphan")


class ApiToken(Base):
    """A bearer token. Only its public prefix and the SHA-256 of the whole token are stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(back_populates="tokens")
