"""The rows of a release: every active listing with its enterprise, read in one transaction
(repeatable read on PostgreSQL, so every query sees the same instant) and streamed in listing-id
order, a batch at a time; memory does not grow with the number of listings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Text, func, select, type_coerce
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


def _json(value: Any, empty: Any) -> Any:
    """A JSON column read as text (SQLite) or already decoded by the driver (psycopg)."""
    if value is None:
        return empty
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def rows(session: Session) -> Iterator[dict[str, Any]]:
    """Each active listing as a row (a dict over ``COLUMNS``, every value a string), by listing
    id: one streamed query for the listings with their enterprise and decision, and per batch one
    query each for aliases, identifiers, first listing day and last transition."""
    versions = dict(session.execute(select(Ruleset.id, Ruleset.version)).all())
    query = (select(Listing.id, Listing.list_type, Listing.enterprise_id, Enterprise.legal_name, Enterprise.chinese_name,
                    Enterprise.country, Enterprise.sector, Listing.effective_from, Listing.expires_on,
                    type_coerce(Listing.reason_codes, Text), Listing.grounds, Decision.total_score,
                    type_coerce(Decision.pillar_scores, Text), Decision.ruleset_id, Listing.decision_id)
             .join(Enterprise, Enterprise.id == Listing.enterprise_id).join(Decision, Decision.id == Listing.decision_id)
             .where(Listing.status == ListingStatus.ACTIVE, Listing.kind == "listing").order_by(Listing.id)
             .execution_options(yield_per=BATCH))
    for partition in session.execute(query).partitions():
        yield from _rows_of(session, partition, versions)


def _rows_of(session: Session, found: Any, versions: dict[int, str]) -> Iterator[dict[str, Any]]:
    ids = [row[0] for row in found]
    enterprise_ids = sorted({row[2] for row in found})
    aliases: dict[int, list[str]] = defaultdict(list)
    for ent_id, name in session.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.name)
                                        .where(EnterpriseAlias.enterprise_id.in_(enterprise_ids))):
        aliases[ent_id].append(name)
    identifiers: dict[int, list[str]] = defaultdict(list)
    for ent_id, scheme, value in session.execute(select(Identifier.enterprise_id, Identifier.scheme, Identifier.value)
                                                 .where(Identifier.enterprise_id.in_(enterprise_ids))):
        identifiers[ent_id].append(f"{scheme}:{value}")
    first = {(ent_id, list_type): day for ent_id, list_type, day in session.execute(
        select(Listing.enterprise_id, Listing.list_type, func.min(Listing.effective_from))
        .where(Listing.enterprise_id.in_(enterprise_ids), Listing.kind == "listing", Listing.effective_from.is_not(None))
        .group_by(Listing.enterprise_id, Listing.list_type))}
    last = dict(session.execute(select(ListingEvent.listing_id, func.max(ListingEvent.at))
                                .where(ListingEvent.listing_id.in_(ids)).group_by(ListingEvent.listing_id)).all())
    for (listing_id, list_type, ent_id, legal, chinese, country, sector, effective_from, expires_on, reason_codes, grounds,
         total, pillars, ruleset_id, decision_id) in found:
        pillar_scores = _json(pillars, {})
        yield {
            "listing_id": str(listing_id), "list": list_type.value, "enterprise_id": str(ent_id),
            "legal_name": one_line(legal), "chinese_name": one_line(chinese),
            "aliases": _joined(aliases[ent_id]), "identifiers": _joined(identifiers[ent_id]), "country": country,
            "sector": sector, "effective_from": _iso(effective_from), "expires_on": _iso(expires_on),
            "reason_codes": ";".join(_json(reason_codes, [])), "grounds": one_line(grounds),
            "total_score": _score(total),
            "pillar_scores": ";".join(f"{code}:{_score(v)}" for code, v in sorted(pillar_scores.items()) if v is not None),
            "ruleset_version": versions.get(ruleset_id, ""), "decision_id": str(decision_id),
            "first_listed": _iso(first.get((ent_id, list_type))), "last_change": _iso(last.get(listing_id)),
        }
