"""Name and identifier search over the register.

Candidates come from the stored token index (``name_tokens``): the query's rarest tokens are
read first, within a budget of postings, and shared tokens weigh by rarity (``token_stats``).
The best hundred, with the comparison forms stored for each of their names (``name_forms``),
come back from the same statement; they are scored with ``vetting.matching``, filtered and
paginated, and only the page's enterprises are read in full. The index follows every change of
names (registration, merge) and is rebuilt by `vetting search reindex`; the statistics are a
snapshot refreshed by the daily job and by a reindex (a token they do not know counts as rare).
An alphabetic query word (not Chinese) also reads, at a lower weight, the registered words one
edit away from it (``token_variants``, rebuilt with the statistics), so a misspelt trade name
still finds the enterprise.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from sqlalchemy import (BindParameter, CompoundSelect, Float, Integer, Row, Select, String, bindparam, case, cast, delete, func, insert,
                        literal_column, null, select, union_all)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from vetting.db import single_statement_read
from vetting.errors import NotFound, ValidationError
from vetting.matching import Match, forms, tokens
from vetting.matching.forms import LONGEST_CORRECTED, SHORTEST_CORRECTED, corrected_words, pack, spelling_keys, tokens_of, unpack
from vetting.matching.score import best_matches, searchable
from vetting.models import (Enterprise, EnterpriseAlias, Identifier, Listing, ListingStatus, NameForms, NameToken, Project,
                            TokenStat, TokenVariant)

#: Candidates scored per query, best by rarity-weighted shared tokens.
CANDIDATES = 100
#: Postings a query reads at most (token by token, rarest first), beyond its two rarest tokens.
POSTINGS_BUDGET = 20_000
MIN_TOKENS = 2
MAX_QUERY = 200  # characters of a query that are read; no registered name is longer
#: A registered word found one edit away from a query word weighs this share of its rarity.
CORRECTION_WEIGHT = 0.5
#: Registered words read per query word one edit away, at most (those on most enterprises).
CORRECTIONS_PER_WORD = 8


def names_of(session: Session, enterprise_ids: list[int]) -> dict[int, list[str]]:
    """Every name of each enterprise: the legal name, the Chinese name, then the aliases."""
    out: dict[int, list[str]] = {i: [] for i in enterprise_ids}
    for ent_id, legal, chinese in session.execute(
            select(Enterprise.id, Enterprise.legal_name, Enterprise.chinese_name).where(Enterprise.id.in_(enterprise_ids))):
        out[ent_id] = [n for n in (legal, chinese) if n] + out[ent_id]
    for ent_id, alias in session.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.name)
                                         .where(EnterpriseAlias.enterprise_id.in_(enterprise_ids))
                                         .order_by(EnterpriseAlias.enterprise_id, EnterpriseAlias.id)):
        out[ent_id].append(alias)
    return out


def index_rows(enterprise_id: int, names: list[str], own: int) -> tuple[list[dict], list[dict]]:
    """The ``name_tokens`` and ``name_forms`` rows of one enterprise whose first ``own`` names
    are its own (legal, Chinese) and the rest aliases."""
    forms_rows, token_set = [], set()
    for i, name in enumerate(dict.fromkeys(names)):
        name_forms = forms(name)
        token_set |= tokens_of(name_forms)
        forms_rows.append({"enterprise_id": enterprise_id, "name": name, "own": i < own, "forms": pack(name_forms)})
    return [{"enterprise_id": enterprise_id, "token": t} for t in sorted(token_set)], forms_rows


def index_enterprises(session: Session, enterprise_ids: list[int]) -> int:
    """(Re)write the index rows of these enterprises (flushes; the caller commits). Merged
    enterprises get none: their id answers with a redirect, never as a search result."""
    session.flush()
    session.execute(delete(NameToken).where(NameToken.enterprise_id.in_(enterprise_ids)))
    session.execute(delete(NameForms).where(NameForms.enterprise_id.in_(enterprise_ids)))
    live = sorted(session.scalars(select(Enterprise.id).where(Enterprise.id.in_(enterprise_ids), Enterprise.merged_into_id.is_(None))))
    own = dict(session.execute(select(Enterprise.id, case((Enterprise.chinese_name.is_(None), 1), else_=2))
                               .where(Enterprise.id.in_(live))).all())
    token_rows, forms_rows = [], []
    for ent_id, names in names_of(session, live).items():
        t, f = index_rows(ent_id, names, own[ent_id])
        token_rows += t
        forms_rows += f
    if token_rows:
        session.execute(insert(NameToken), token_rows)
    if forms_rows:
        session.execute(insert(NameForms), forms_rows)
    return len(token_rows)


def refresh_token_stats(session: Session) -> int:
    """Recount how many enterprises carry each token (flushes; the caller commits). Returns the
    number of tokens."""
    session.execute(delete(TokenStat))
    session.execute(insert(TokenStat).from_select(["token", "enterprises"],
                                                  select(NameToken.token, func.count()).group_by(NameToken.token)))
    live = session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.merged_into_id.is_(None)))
    session.add(TokenStat(token="", enterprises=live))
    session.flush()
    _refresh_variants(session)
    return session.scalar(select(func.count()).select_from(TokenStat)) - 1


def _refresh_variants(session: Session) -> None:
    """Rewrite ``token_variants`` from the statistics: every word of 4 to 16 letters under each
    of its :func:`~vetting.matching.forms.spelling_keys`, computed by the database."""
    session.execute(delete(TokenVariant))
    stats_t = TokenStat.__table__
    positions = union_all(*(select(literal_column(str(i)).label("i"))
                            for i in range(1, LONGEST_CORRECTED + 1))).subquery("positions")
    length = func.length(stats_t.c.token)
    variant = (func.substr(stats_t.c.token, 1, positions.c.i - 1, type_=String)
               .concat(func.substr(stats_t.c.token, positions.c.i + 1, type_=String)))
    session.execute(insert(TokenVariant).from_select(
        ["variant", "token"],
        select(variant, stats_t.c.token).distinct()
        .where(length.between(SHORTEST_CORRECTED, LONGEST_CORRECTED), positions.c.i <= length)))
    session.flush()


def reindex(session: Session, *, batch: int = 1000, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index in batches, then the token statistics; commits. Returns the
    number of enterprises."""
    ids = session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
    session.execute(delete(NameToken))
    session.execute(delete(NameForms))
    for i in range(0, len(ids), batch):
        index_enterprises(session, ids[i:i + batch])
        if progress:
            progress(len(ids[i:i + batch]))
    refresh_token_stats(session)
    session.commit()
    return len(ids)


def token_weights(query_tokens: list[str], stats: dict[str, int], budget: int | None = None,
                  shares: dict[str, float] | None = None) -> dict[str, float]:
    """The tokens a query reads, rarest first while their postings fit the budget (the two
    rarest always), each weighted by rarity (an inverse document frequency) times its share in
    ``shares`` (1 if not given there). ``stats`` maps tokens to the number of enterprises
    carrying them, and "" to the number of enterprises; without statistics (a new register)
    every token is read and weighs its share."""
    budget = POSTINGS_BUDGET if budget is None else budget
    shares = shares or {}
    total = stats.get("", 0)
    chosen, postings = [], 0
    for token in sorted(query_tokens, key=lambda t: (stats.get(t, 0), t)):
        seen = stats.get(token, 0)
        if len(chosen) >= MIN_TOKENS and postings + seen > budget:
            break
        chosen.append(token)
        postings += seen
    return {t: round((math.log((total + 1) / (stats.get(t, 0) + 0.5)) + 1.0 if total else 1.0) * shares.get(t, 1.0), 4)
            for t in chosen}


@functools.cache
def _stats_statement() -> CompoundSelect:
    """Built once: the statistics of the query's tokens (and "", the number of enterprises),
    with no variant; then the registered words having one of the given spelling variants, with
    their statistics and the variant."""
    stats_t, variants_t = TokenStat.__table__, TokenVariant.__table__
    return union_all(
        select(stats_t.c.token, stats_t.c.enterprises, cast(null(), String).label("variant"))
        .where(stats_t.c.token.in_(bindparam("tokens", expanding=True))),
        select(variants_t.c.token, stats_t.c.enterprises, variants_t.c.variant)
        .join(stats_t, stats_t.c.token == variants_t.c.token)
        .where(variants_t.c.variant.in_(bindparam("variants", expanding=True))),
    )


def query_statistics(connection: Connection, q: str, query_tokens: list[str]) -> tuple[dict[str, int], dict[str, float]]:
    """In one statement, the statistics of the query's tokens and the registered words one edit
    away from its words (:func:`~vetting.matching.forms.corrected_words`); returns the
    statistics of both and the share each correction weighs (``CORRECTION_WEIGHT``). One edit:
    a letter dropped, added or changed, or two neighbouring letters swapped; a word keeps its
    ``CORRECTIONS_PER_WORD`` most used corrections."""
    words = corrected_words(q, query_tokens)
    keys = {word: spelling_keys(word) for word in words}
    asked = set(query_tokens)
    # a word with a letter added: the registered word is one of its keys (too short a key is a
    # letter group, not a word); a letter dropped, changed or swapped: the words share a variant
    shorter = sorted({k for ks in keys.values() for k in ks if len(k) >= SHORTEST_CORRECTED} - asked)
    variants = sorted(set(words) | {k for ks in keys.values() for k in ks})
    stats: dict[str, int] = {}
    via: defaultdict[str, set[str]] = defaultdict(set)
    for token, count, variant in connection.execute(_stats_statement(), {"tokens": [*query_tokens, "", *shorter],
                                                                         "variants": variants}):
        stats[token] = count
        if variant is not None:
            via[variant].add(token)
    shares: dict[str, float] = {}
    for word in words:
        found = {k for k in keys[word] if len(k) >= SHORTEST_CORRECTED and k in stats}
        for variant in (word, *keys[word]):
            found |= via.get(variant, set())
        # a variant shared at different places can be two edits ("huxain", "zhuxin"): keep one
        near = [t for t in found - asked if OSA.distance(word, t, score_cutoff=1) <= 1]
        for token in sorted(near, key=lambda t: (-stats[t], t))[:CORRECTIONS_PER_WORD]:
            shares[token] = CORRECTION_WEIGHT
    return stats, shares


@dataclass(frozen=True, slots=True)
class IdentifierCard:
    scheme: str
    value: str


@dataclass(frozen=True, slots=True)
class ProjectCard:
    id: int
    name: str
    host_country: str
    sector: str
    equator_category: str | None
    brigc_class: str | None
    start_year: int | None


@dataclass(frozen=True, slots=True)
class EnterpriseCard:
    """What a search result or an identifier lookup shows of an enterprise: names,
    identifiers, country, sector and projects, read without the ORM's per-object loading."""

    id: int
    legal_name: str
    chinese_name: str | None
    country: str
    sector: str
    alias_names: tuple[str, ...] = ()
    identifiers: tuple[IdentifierCard, ...] = ()
    projects: tuple[ProjectCard, ...] = ()


def _value(member: object) -> str | None:
    return getattr(member, "value", member)


def _card_statement(owners: Select | BindParameter) -> CompoundSelect:
    """One statement for the cards of the enterprises ``owners`` selects: a row per enterprise
    (kind 0, with the list it is on), then its aliases (1), identifiers (2) and projects (3)."""
    text_null, int_null = cast(null(), String), cast(null(), Integer)
    listed = (select(cast(Listing.list_type, String)).where(Listing.enterprise_id == Enterprise.id, Listing.status == ListingStatus.ACTIVE)
              .limit(1).scalar_subquery())
    return union_all(
        select(literal_column("0").label("kind"), Enterprise.id.label("owner"), Enterprise.id.label("id"),
               Enterprise.legal_name.label("a"), Enterprise.chinese_name.label("b"), Enterprise.country.label("c"),
               Enterprise.sector.label("d"), listed.label("e"), int_null.label("f")).where(Enterprise.id.in_(owners)),
        select(literal_column("1"), EnterpriseAlias.enterprise_id, EnterpriseAlias.id, EnterpriseAlias.name,
               text_null, text_null, text_null, text_null, int_null).where(EnterpriseAlias.enterprise_id.in_(owners)),
        select(literal_column("2"), Identifier.enterprise_id, Identifier.id, Identifier.scheme, Identifier.value,
               text_null, text_null, text_null, int_null).where(Identifier.enterprise_id.in_(owners)),
        select(literal_column("3"), Project.enterprise_id, Project.id, Project.name, Project.host_country, Project.sector,
               cast(Project.equator_category, String), cast(Project.brigc_class, String), cast(Project.start_year, Integer))
        .where(Project.enterprise_id.in_(owners)),
    ).order_by("kind", "owner", "id")


@functools.cache
def _card_statements() -> tuple[CompoundSelect, CompoundSelect]:
    """Built once (building costs more than running): by a list of ids, and by identifier."""
    by_ids = _card_statement(bindparam("ids", expanding=True))
    by_identifier = _card_statement(select(Identifier.enterprise_id).where(Identifier.scheme == bindparam("scheme"),
                                                                           Identifier.value == bindparam("value")))
    return by_ids, by_identifier


def _read_cards(rows: Iterable[Row | tuple]) -> dict[int, tuple[EnterpriseCard, str | None]]:
    """Cards from the rows of :func:`_card_statement` (result rows or plain driver tuples)."""
    found: dict[int, tuple[tuple, list, list, list]] = {}
    for row in rows:
        kind, owner, row_id, a, b, c, d, e, f = row
        if kind == 0:
            found[owner] = ((a, b, c, d, e), [], [], [])
        elif owner not in found:
            continue
        elif kind == 1:
            found[owner][1].append(a)
        elif kind == 2:
            found[owner][2].append(IdentifierCard(a, b))
        else:
            found[owner][3].append(ProjectCard(row_id, a, b, c, _value(d), _value(e), f))
    return {owner: (EnterpriseCard(owner, legal, chinese, country, sector, tuple(aliases), tuple(identifiers), tuple(projects)),
                    _value(listed))
            for owner, ((legal, chinese, country, sector, listed), aliases, identifiers, projects) in found.items()}


@functools.lru_cache(maxsize=8)
def _driver_statement(statement: CompoundSelect, dialect: Dialect) -> tuple[str, dict[str, object]]:
    """``statement`` compiled once for the driver: its SQL and the values of its constant
    parameters, converted as SQLAlchemy would convert them (an enum to its stored string)."""
    compiled = statement.compile(dialect=dialect)
    constants = {}
    for bind, name in compiled.bind_names.items():
        if bind.callable is None and bind.value is not None:
            convert = bind.type.bind_processor(dialect)
            constants[name] = convert(bind.value) if convert else bind.value
    return compiled.string, constants


def _autocommit_engine(session: Session) -> Engine | None:
    """The engine to read from directly, outside the session: PostgreSQL through psycopg, and
    only for a session bound to an engine that is not in a transaction (a session bound to a
    connection, as in the tests, or one that already wrote, reads through the session)."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg" and not session.in_transaction():
        return bind
    return None


def _read_autocommit(engine: Engine, statement: CompoundSelect, params: dict[str, object]) -> list[tuple]:
    """Run one read statement on a pooled connection in autocommit, through the driver alone.

    For a single statement this sees exactly what the session would (a statement is one
    snapshot; ``single_statement_read`` reasons the same), but it skips the session, the ORM
    execution and the result wrapping, which on an identifier lookup cost more than PostgreSQL
    takes to answer. A driver error is raised as SQLAlchemy raises it (a lost database is an
    ``OperationalError``, answered 503); a connection that failed is dropped from the pool, and
    on a disconnect so is every connection opened before it, as SQLAlchemy does."""
    sql, constants = _driver_statement(statement, engine.dialect)
    values = {**constants, **params}
    dbapi = engine.dialect.loaded_dbapi
    pooled = engine.raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        connection.autocommit = False
        return rows
    except dbapi.Error as error:
        disconnect = engine.dialect.is_disconnect(error, connection, None)
        if disconnect:
            engine.pool._invalidate(pooled, error)  # noqa: SLF001  (what SQLAlchemy's own execution does)
        else:
            pooled.invalidate(error)  # its autocommit may not have been restored
        raise DBAPIError.instance(sql, values, error, dbapi.Error, connection_invalidated=disconnect, dialect=engine.dialect) from error
    finally:
        pooled.close()


def cards(session: Session, enterprise_ids: list[int]) -> dict[int, EnterpriseCard]:
    """The cards of these enterprises, in one query whatever their number."""
    if not enterprise_ids:
        return {}
    statement = _card_statements()[0]
    return {k: card for k, (card, _list) in _read_cards(session.execute(statement, {"ids": list(enterprise_ids)})).items()}


@dataclass(frozen=True)
class Hit:
    enterprise: EnterpriseCard
    match: Match
    list: str | None


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]


@functools.lru_cache(maxsize=256)
def _candidate_statement(read: int, country: bool, sector: bool, list_type: bool) -> Select:
    """One statement for the stored names of the best candidates, by its shape (the number of
    tokens read and the filters given; the values are parameters): the enterprises sharing the
    most rarity-weighted tokens with the query, then, of those that are live and pass the
    filters, each stored name with its forms and the enterprise's legal name.

    Each token's postings are one range of the ``(token, enterprise_id)`` index, read in a branch
    of its own that carries the token's weight, so the sum needs no per-row comparison with
    every token read. On the tables, not the mapped classes: the rows are plain tuples."""
    tokens_t, forms_t, enterprises_t, listings_t = (NameToken.__table__, NameForms.__table__, Enterprise.__table__,
                                                    Listing.__table__)
    postings = union_all(*(select(tokens_t.c.enterprise_id, bindparam(f"w{n}", type_=Float).label("weight"))
                           .where(tokens_t.c.token == bindparam(f"t{n}", type_=String)) for n in range(read))).subquery("postings")
    weight = func.sum(postings.c.weight).label("weight")
    best = (select(postings.c.enterprise_id, weight).group_by(postings.c.enterprise_id)
            .order_by(weight.desc(), postings.c.enterprise_id).limit(CANDIDATES).subquery("candidates"))
    filters = [enterprises_t.c.merged_into_id.is_(None)]
    if country:
        filters.append(enterprises_t.c.country == bindparam("country", type_=String))
    if sector:
        filters.append(enterprises_t.c.sector == bindparam("sector", type_=String))
    if list_type:
        filters.append(select(listings_t.c.id).where(listings_t.c.enterprise_id == enterprises_t.c.id,
                                                     listings_t.c.status == ListingStatus.ACTIVE,
                                                     cast(listings_t.c.list_type, String) == bindparam("list_type", type_=String))
                       .exists())
    return (select(forms_t.c.enterprise_id, forms_t.c.name, forms_t.c.own, forms_t.c.forms, enterprises_t.c.legal_name)
            .select_from(best.join(enterprises_t, enterprises_t.c.id == best.c.enterprise_id)
                         .join(forms_t, forms_t.c.enterprise_id == enterprises_t.c.id))
            .where(*filters).order_by(forms_t.c.enterprise_id, forms_t.c.id))


def _candidate_rows(connection: Connection, weights: dict[str, float], country: str | None, sector: str | None,
                    list_type: str | None) -> list[Row]:
    params: dict[str, object] = {}
    for n, (token, weight) in enumerate(weights.items()):
        params[f"t{n}"], params[f"w{n}"] = token, weight
    if country:
        params["country"] = country.upper()
    if sector:
        params["sector"] = sector
    if list_type:
        params["list_type"] = list_type
    statement = _candidate_statement(len(weights), bool(country), bool(sector), bool(list_type))
    return connection.execute(statement, params).all()


def search(session: Session, q: str, *, country: str | None = None, sector: str | None = None, list_type: str | None = None,
           min_score: float = 0.6, limit: int = 20, offset: int = 0) -> Results:
    """Enterprises whose names match ``q``, best first, each with its score and explanation.

    Three statements whatever the query: the token statistics of the query's tokens; the
    candidates with their stored names and forms; the cards of the page. On PostgreSQL they run
    outside an explicit transaction (no BEGIN and ROLLBACK round trips); each is one snapshot,
    as each statement of a read-committed transaction is, and a result whose enterprise changed
    in between is left out of the page rather than shown half-read."""
    q = q[:MAX_QUERY]
    query_tokens = sorted(tokens(q))
    if not query_tokens or not searchable(q):
        return Results(0, [])
    single_statement_read(session)
    connection = session.connection()
    stats, shares = query_statistics(connection, q, query_tokens)
    weights = token_weights([*query_tokens, *shares], stats, shares=shares)
    stored = _candidate_rows(connection, weights, country, sector, list_type)
    if not stored:
        return Results(0, [])
    names = {ent_id: legal for ent_id, _name, _own, _forms, legal in stored}
    own = {(ent_id, name) for ent_id, name, is_own, _forms, _legal in stored if is_own}
    matches = best_matches(q, [(ent_id, name, unpack(packed)) for ent_id, name, _own, packed, _legal in stored],
                           min_score=min_score)
    # Equal scores: an enterprise whose own name matched ranks before one that matched through
    # an alias (an alias can repeat another enterprise's name).
    ranked = sorted(matches, key=lambda k: (-matches[k].score, (k, matches[k].name) not in own, names[k], k))
    page = ranked[offset:offset + limit]
    if not page:
        return Results(len(ranked), [])
    loaded = _read_cards(connection.execute(_card_statements()[0], {"ids": page}))
    return Results(len(ranked), [Hit(loaded[k][0], matches[k], loaded[k][1]) for k in page if k in loaded])


def by_identifier(session: Session, text: str) -> Hit:
    """The enterprise holding ``scheme:value`` (e.g. ``uscc:91…``) with the list it is on; a
    malformed or invalid identifier is a 422 naming the problem, a valid unknown one a 404."""
    from vetting.identifiers import InvalidIdentifier, parse_identifier

    try:
        scheme, value = parse_identifier(text)
    except InvalidIdentifier as exc:
        raise ValidationError("the identifier is not valid", {"identifier": [exc.message]}) from None
    statement, params = _card_statements()[1], {"scheme": scheme, "value": value}
    engine = _autocommit_engine(session)
    if engine is not None:
        found = _read_cards(_read_autocommit(engine, statement, params))
    else:
        single_statement_read(session)
        found = _read_cards(session.execute(statement, params))
    if not found:
        raise NotFound(f"no enterprise holds {scheme}:{value}")
    card, listed = next(iter(found.values()))
    return Hit(card, Match(1.0, f"{scheme}:{value}", "identifier", "identifier", value, "holds this identifier"), listed)
