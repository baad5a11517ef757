"""The rows of a release: every active listing with its enterprise, read in one transaction
(repeatable read on PostgreSQL, so every query sees the same instant) and streamed in listing-id
order, a batch at a time; memory does not grow with the number of listings."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vetting.models import Decision, Enterprise, EnterpriseAlias, Identifier, Listing, ListingEvent, ListingStatus, Ruleset

#: The columns of listings.csv, red.csv and black.csv, in order. Never reorder or rename: add at
#: the end, and say so in docs/releases.md.
COLUMNS: tuple[str, ...] = (
    "listing_id", "list", "enterprise_id", "legal_name", "chinese_name", "aliases", "identifiers", "country", "sector",
    "effective_from", "expires_on", "reason_codes", "grounds", "total_score", "pillar_scores", "ruleset_version",
    "decision_id", "first_listed", "last_change",
)
BATCH = 2000


def one_line(text: str | None) -> str:
    """A value without line breaks (they become spaces; runs of spaces one)."""
    return " ".join((text or "").split())


def _joined(values: list[str]) -> str:
    return ";".join(sorted({one_line(v).replace(";", ",") for v in values if v}))


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def active_listing_ids(session: Session) -> Iterator[int]:
    yield from session.scalars(select(Listing.id).where(Listing.status == ListingStatus.ACTIVE, Listing.kind == "listing")
                               .order_by(Listing.id)).yield_per(10_000)


def rows(session: Session) -> Iterator[dict[str, Any]]:
    """Each active listing as a row (a dict over ``COLUMNS``, every value a string), by listing id."""
    versions = dict(session.execute(select(Ruleset.id, Ruleset.version)).all())
    batch: list[int] = []
    for listing_id in active_listing_ids(session):
        batch.append(listing_id)
        if len(batch) == BATCH:
            yield from _rows_of(session, batch, versions)
            batch = []
    if batch:
        yield from _rows_of(session, batch, versions)


def _rows_of(session: Session, ids: list[int], versions: dict[int, str]) -> Iterator[dict[str, Any]]:
    found = session.execute(
        select(Listing, Enterprise, Decision.ruleset_id, Decision.total_score, Decision.pillar_scores)
        .join(Enterprise, Enterprise.id == Listing.enterprise_id).join(Decision, Decision.id == Listing.decision_id)
        .where(Listing.id.in_(ids)).order_by(Listing.id)).all()
    enterprise_ids = sorted({row[1].id for row in found})
    aliases: dict[int, list[str]] = defaultdict(list)
    for ent_id, name in session.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.name)
                                        .where(EnterpriseAlias.enterprise_id.in_(enterprise_ids))):
        aliases[ent_id].append(name)
    identifiers: dict[int, list[str]] = defaultdict(list)
    for ent_id, scheme, value in session.execute(select(Identifier.enterprise_id, Identifier.scheme, Identifier.value)
                                                 .where(Identifier.enterprise_id.in_(enterprise_ids))):
        identifiers[ent_id].append(f"{scheme}:{value}")
    first = dict(session.execute(
        select(Listing.enterprise_id, func.min(Listing.effective_from))
        .where(Listing.enterprise_id.in_(enterprise_ids), Listing.kind == "listing", Listing.effective_from.is_not(None))
        .group_by(Listing.enterprise_id)).all())
    last = dict(session.execute(select(ListingEvent.listing_id, func.max(ListingEvent.at))
                                .where(ListingEvent.listing_id.in_(ids)).group_by(ListingEvent.listing_id)).all())
    for listing, ent, ruleset_id, total, pillars in found:
        pillar_scores = pillars if isinstance(pillars, dict) else json.loads(pillars or "{}")
        yield {
            "listing_id": str(listing.id), "list": listing.list_type.value, "enterprise_id": str(ent.id),
            "legal_name": one_line(ent.legal_name), "chinese_name": one_line(ent.chinese_name),
            "aliases": _joined(aliases[ent.id]), "identifiers": _joined(identifiers[ent.id]), "country": ent.country,
            "sector": ent.sector, "effective_from": _iso(listing.effective_from), "expires_on": _iso(listing.expires_on),
            "reason_codes": ";".join(listing.reason_codes or []), "grounds": one_line(listing.grounds),
            "total_score": _score(total),
            "pillar_scores": ";".join(f"{code}:{_score(v)}" for code, v in sorted(pillar_scores.items()) if v is not None),
            "ruleset_version": versions.get(ruleset_id, ""), "decision_id": str(listing.decision_id),
            "first_listed": _iso(first.get(ent.id)), "last_change": _iso(last.get(listing.id)),
        }
