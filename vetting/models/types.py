"""Column types and vocabularies shared by the models."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC on every backend and returned as an aware UTC value."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint, storing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Role(str, enum.Enum):
    REVIEWER = "reviewer"
    ASSOCIATION_ADMIN = "association_admin"
    REGISTRAR = "registrar"


class AssociationStatus(str, enum.Enum):
    ACCREDITED = "accredited"
    SUSPENDED = "suspended"


class AccountStatus(str, enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"


class EquatorCategory(str, enum.Enum):
    A = "A"
    B = "B"
    C = "C"


class BrigcClass(str, enum.Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class AssessmentStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class FindingStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    ALLEGED = "alleged"


class RulesetStatus(str, enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class Outcome(str, enum.Enum):
    RED = "RED"
    BLACK = "BLACK"
    NONE = "NONE"


class ListType(str, enum.Enum):
    RED = "red"
    BLACK = "black"


class ListingStatus(str, enum.Enum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REMOVED = "removed"
    REVOKED = "revoked"
    #: a red listing held while a knock-out black proposal is pending; restored if it is withdrawn
    SUSPENDED = "suspended"


class RequestStatus(str, enum.Enum):
    """Lifecycle of an objection or a repair request."""

    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"
    GRANTED = "granted"
    REFUSED = "refused"


class ReleaseStatus(str, enum.Enum):
    PUBLISHED = "published"
    FAILED = "failed"
