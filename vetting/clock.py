"""Time for the services, injectable so that tests move through windows and expiries without
sleeping. A session carries its clock in ``session.info["clock"]`` (set by whoever makes the
session); without one, services read the system clock in UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
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
