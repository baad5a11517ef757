"""Time for the services, injectable so that tests move through windows and expiries without
sleeping. A session carries its clock in ``session.info["clock"]`` (set by whoever makes the
session); without one, services read the system clock in UTC. An operator sets the service's
clock to rehearse a date (``VETTING_TODAY``, ``vetting --as-of``): see :func:`parse_instant`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from sqlalchemy.orm import Session


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until moved (tests, simulations)."""

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


SYSTEM = SystemClock()


def clock_of(session: Session) -> Clock:
    return session.info.get("clock") or SYSTEM


def now(session: Session) -> datetime:
    return clock_of(session).now()


def today(session: Session) -> date:
    return clock_of(session).now().date()


#: The time of day a bare date stands for: noon UTC is that same calendar day from UTC-12 to UTC+11.
DATE_AT = time(12, 0, tzinfo=timezone.utc)

#: The forms a rehearsal instant may take, for error messages and help.
INSTANT_FORM = "an ISO date (2027-03-20, taken as 12:00 UTC) or date and time (2027-03-20T09:00:00Z)"


def parse_instant(text: str) -> datetime:
    """The instant an operator wrote: an ISO date means noon UTC that day, a date and time
    without an offset means UTC. Returned timezone-aware in UTC; ValueError if malformed."""
    value = text.strip()
    try:
        return datetime.combine(date.fromisoformat(value), DATE_AT)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected {INSTANT_FORM}, not {text!r}") from None
    return as_utc(parsed)


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive datetime is taken to be UTC already."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")
