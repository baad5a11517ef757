"""Name and identifier search over the register.

Candidates come from the stored token index (``name_tokens``, one indexed query on either
database), ranked by how many tokens they share with the query; the best few hundred are then
scored with ``vetting.matching`` against all their names, filtered and paginated. The index
follows every change of names (registration, merge) and is rebuilt by `vetting search reindex`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from vetting.errors import NotFound, ValidationError
from vetting.matching import Match, best_match, tokens
from vetting.matching.score import searchable
from vetting.models import Enterprise, EnterpriseAlias, Identifier, Listing, ListingStatus, NameToken

CANDIDATES = 300


def names_of(session: Session, enterprise_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in enterprise_ids}
    for ent_id, legal, chinese in session.execute(
            select(Enterprise.id, Enterprise.legal_name, Enterprise.chinese_name).where(Enterprise.id.in_(enterprise_ids))):
        out[ent_id] += [n for n in (legal, chinese) if n]
    for ent_id, alias in session.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.name)
                                         .where(EnterpriseAlias.enterprise_id.in_(enterprise_ids))):
        out[ent_id].append(alias)
    return out


def index_enterprises(session: Session, enterprise_ids: list[int]) -> int:
    """(Re)write the tokens of these enterprises (flushes; the caller commits). Merged
    enterprises get none: their id answers with a redirect, never as a search result."""
    session.flush()
    session.execute(delete(NameToken).where(NameToken.enterprise_id.in_(enterprise_ids)))
    live = set(session.scalars(select(Enterprise.id).where(Enterprise.id.in_(enterprise_ids), Enterprise.merged_into_id.is_(None))))
    rows = [{"enterprise_id": ent_id, "token": token}
            for ent_id, names in names_of(session, sorted(live)).items()
            for token in sorted(set().union(*(tokens(n) for n in names)) if names else set())]
    if rows:
        session.execute(insert(NameToken), rows)
    return len(rows)


def reindex(session: Session, *, batch: int = 1000, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index in batches; commits. Returns the number of enterprises."""
    ids = session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
    session.execute(delete(NameToken))
    for i in range(0, len(ids), batch):
        index_enterprises(session, ids[i:i + batch])
        if progress:
            progress(len(ids[i:i + batch]))
    session.commit()
    return len(ids)


@dataclass(frozen=True)
class Hit:
    enterprise: Enterprise
    match: Match
    list: str | None


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]


def search(session: Session, q: str, *, country: str | None = None, sector: str | None = None, list_type: str | None = None,
           min_score: float = 0.6, limit: int = 20, offset: int = 0) -> Results:
    """Enterprises whose names match ``q``, best first, each with its score and explanation."""
    query_tokens = sorted(tokens(q))
    if not query_tokens or not searchable(q):
        return Results(0, [])
    shared = func.count(NameToken.id).label("shared")
    candidate_query = (select(NameToken.enterprise_id, shared).where(NameToken.token.in_(query_tokens))
                       .group_by(NameToken.enterprise_id).order_by(shared.desc(), NameToken.enterprise_id).limit(CANDIDATES))
    candidates = [row.enterprise_id for row in session.execute(candidate_query)]
    if not candidates:
        return Results(0, [])
    filters = [Enterprise.id.in_(candidates), Enterprise.merged_into_id.is_(None)]
    if country:
        filters.append(Enterprise.country == country.upper())
    if sector:
        filters.append(Enterprise.sector == sector)
    enterprises = {e.id: e for e in session.scalars(select(Enterprise).where(*filters))}
    lists = dict(session.execute(select(Listing.enterprise_id, Listing.list_type).where(
        Listing.enterprise_id.in_(list(enterprises)), Listing.status == ListingStatus.ACTIVE)).all())
    hits, by_alias = [], set()
    for ent_id, names in names_of(session, list(enterprises)).items():
        on = lists.get(ent_id)
        if list_type and (on is None or on.value != list_type):
            continue
        match = best_match(q, names)
        if match is not None and match.score >= min_score:
            hits.append(Hit(enterprises[ent_id], match, on.value if on else None))
            if match.name not in (enterprises[ent_id].legal_name, enterprises[ent_id].chinese_name):
                by_alias.add(ent_id)
    # Equal scores: an enterprise whose own name matched ranks before one that matched through
    # an alias (an alias can repeat another enterprise's name).
    hits.sort(key=lambda h: (-h.match.score, h.enterprise.id in by_alias, h.enterprise.legal_name, h.enterprise.id))
    return Results(len(hits), hits[offset:offset + limit])


def by_identifier(session: Session, text: str) -> Enterprise:
    """The enterprise holding ``scheme:value`` (e.g. ``uscc:91…``); a malformed or invalid
    identifier is a 422 naming the problem, a valid unknown one a 404."""
    from vetting.identifiers import InvalidIdentifier, parse_identifier

    try:
        scheme, value = parse_identifier(text)
    except InvalidIdentifier as exc:
        raise ValidationError("the identifier is not valid", {"identifier": [exc.message]}) from None
    holder = session.scalar(select(Identifier.enterprise_id).where(Identifier.scheme == scheme, Identifier.value == value))
    if holder is None:
        raise NotFound(f"no enterprise holds {scheme}:{value}")
    return session.get(Enterprise, holder)
