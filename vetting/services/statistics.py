"""Figures for the statistics page: listings per list over time (from the listing history),
the lists by host country and by sector today, and rater agreement per criterion under the
active ruleset. Everything is read-only."""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting import clock
from vetting.models import Enterprise, Listing, ListingEvent, ListingStatus, Project, Ruleset, RulesetStatus

MONTHS = 24


@dataclass(frozen=True)
class Breakdown:
    key: str
    red: int
    black: int


@dataclass(frozen=True)
class Agreement:
    code: str
    name: str
    alpha: float | None
    units: int


@dataclass(frozen=True)
class Statistics:
    today: date
    months: list[str]  # "YYYY-MM", oldest first
    red_over_time: list[int]  # active red listings at each month's end (today for this month)
    black_over_time: list[int]
    by_host_country: list[Breakdown]  # enterprises listed today with a project in the country
    by_sector: list[Breakdown]
    ruleset_version: str | None
    agreement: list[Agreement]


def _month_ends(today: date, count: int) -> list[date]:
    ends = []
    year, month = today.year, today.month
    for _ in range(count):
        last = date(year, month, calendar.monthrange(year, month)[1])
        ends.append(min(last, today))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return ends[::-1]


def active_intervals(events: list[tuple[int, datetime, ListingStatus | None, ListingStatus]]) -> dict[int, list[tuple[date, date | None]]]:
    """Per listing, the [start, end) days it was active, from its events (ordered by time)."""
    out: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    started: dict[int, date] = {}
    for listing_id, at, _before, after in events:
        day = at.date()
        if after is ListingStatus.ACTIVE:
            started.setdefault(listing_id, day)
        elif listing_id in started:
            out[listing_id].append((started.pop(listing_id), day))
    for listing_id, day in started.items():
        out[listing_id].append((day, None))
    return out


def statistics(session: Session, *, months: int = MONTHS) -> Statistics:
    from vetting.services.agreement import agreement_report

    today = clock.today(session)
    lists = dict(session.execute(select(Listing.id, Listing.list_type).where(Listing.kind == "listing")).all())
    events = session.execute(select(ListingEvent.listing_id, ListingEvent.at, ListingEvent.from_status, ListingEvent.to_status)
                             .join(Listing, Listing.id == ListingEvent.listing_id).where(Listing.kind == "listing")
                             .order_by(ListingEvent.at, ListingEvent.id)).all()
    intervals = active_intervals([tuple(e) for e in events])
    ends = _month_ends(today, months)
    series = {"red": [0] * len(ends), "black": [0] * len(ends)}
    for listing_id, spans in intervals.items():
        kind = lists[listing_id].value
        for i, end in enumerate(ends):
            if any(start <= end and (stop is None or stop > end) for start, stop in spans):
                series[kind][i] += 1

    active = session.execute(select(Listing.enterprise_id, Listing.list_type, Enterprise.sector)
                             .join(Enterprise, Enterprise.id == Listing.enterprise_id)
                             .where(Listing.status == ListingStatus.ACTIVE, Listing.kind == "listing")).all()
    on = {ent_id: list_type.value for ent_id, list_type, _sector in active}
    sectors: dict[str, dict[str, int]] = defaultdict(lambda: {"red": 0, "black": 0})
    for _ent_id, list_type, sector in active:
        sectors[sector][list_type.value] += 1
    hosts: dict[str, dict[str, set[int]]] = defaultdict(lambda: {"red": set(), "black": set()})
    if on:
        for ent_id, country in session.execute(select(Project.enterprise_id, Project.host_country)
                                               .where(Project.enterprise_id.in_(list(on)))):
            hosts[country][on[ent_id]].add(ent_id)

    def _sorted(table: dict[str, dict[str, int]]) -> list[Breakdown]:
        rows = [Breakdown(key, counts["red"], counts["black"]) for key, counts in table.items()]
        return sorted(rows, key=lambda b: (-(b.red + b.black), b.key))

    ruleset = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    agreement: list[Agreement] = []
    if ruleset is not None:
        names = {c["code"]: c["name"] for c in json.loads(ruleset.document)["criteria"]}
        by_code = agreement_report(session).by_version.get(ruleset.version, {})
        agreement = [Agreement(code, names[code], by_code.get(code, {}).get("alpha"), by_code.get(code, {}).get("units", 0))
                     for code in names]
    return Statistics(
        today=today, months=[f"{d:%Y-%m}" for d in ends], red_over_time=series["red"], black_over_time=series["black"],
        by_host_country=_sorted({k: {"red": len(v["red"]), "black": len(v["black"])} for k, v in hosts.items()}),
        by_sector=_sorted(sectors), ruleset_version=ruleset.version if ruleset else None, agreement=agreement,
    )

