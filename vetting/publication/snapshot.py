"""The rows of a release: every listing in force on the release's day with its enterprise, read
in one transaction (repeatable read on PostgreSQL, so every query sees the same instant) and
streamed in listing-id order; memory does not grow with the number of listings.

A release as of day D shows the listings with status ``active`` and ``effective_from <= D <=
expires_on``: status follows the dates, so a listing past its ``expires_on`` is left out whether or
not the expiry job has recorded its end, and a suspended, proposed or ended one is never shown
(``_listed_on``; the same filter in the Python reference ``rows``). D is the UTC date of the
release's ``as_of`` instant, read from the service clock (``vetting.clock``).

``csv_lines`` is what releases use: the database formats each row as a finished CSV line (every
field quoted, quotes doubled) in one streamed statement (on PostgreSQL a ``COPY … TO STDOUT``
that quotes in C), and the Python side only writes the bytes it gets, a block at a time.

Formatting every line is most of a release's cost, and between two releases few lines change.
So ``refresh`` stores the finished line of each listing shown (built by the same SQL, quoted in
SQL) with the listing's *mark* read in the same statement; triggers raise a listing's mark in the
transaction of any write to a row its line shows (``vetting.models.listing_line``, migration
0008). In the release's snapshot, ``csv_lines`` first counts the listings shown on the release's
day whose stored line is missing, at another mark or of another form: when there are none it
streams the stored lines of the listings shown, which are then exactly what formatting them would
give; otherwise it formats every line as before. A stored line can be late, never wrong: whether it is used is decided in the same
snapshot as everything else the release reads (``release.snapshot_lines`` rebuilds the stale
lines, outside the snapshot, before a release streams them).

``rows`` builds the same rows field by field in Python; it is the reference the tests hold the
SQL to, and it documents each value's form:

- text values have their line breaks (CR LF, CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS) turned into
  spaces (CR LF into one) and surrounding spaces trimmed;
- aliases, identifiers and reason codes are distinct, cleaned like any text value, sorted by
  code point and ``;``-joined, a ``;`` inside a value becoming ``,`` (empty values dropped);
- scores have one decimal, halves rounded up (from the four decimals they are stored with);
- dates are ``YYYY-MM-DD``, times UTC ``YYYY-MM-DDTHH:MM:SSZ`` (seconds truncated).
"""

from __future__ import annotations

import csv
import hashlib
import struct
from collections import defaultdict
from collections.abc import Generator, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Text, func, select, text, type_coerce
from sqlalchemy.orm import Session

from vetting import clock
from vetting.models import Decision, Enterprise, EnterpriseAlias, Identifier, Listing, ListingEvent, ListingStatus, Ruleset

#: The columns of listings.csv, red.csv and black.csv, in order. Never reorder or rename: add at
#: the end, and say so in docs/releases.md.
COLUMNS: tuple[str, ...] = (
    "listing_id", "list", "enterprise_id", "legal_name", "chinese_name", "aliases", "identifiers", "country", "sector",
    "effective_from", "expires_on", "reason_codes", "grounds", "total_score", "pillar_scores", "ruleset_version",
    "decision_id", "first_listed", "last_change",
)
BATCH = 2000


LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_NO_BREAKS = str.maketrans(LINE_BREAKS, " " * len(LINE_BREAKS))


def one_line(text: str | None) -> str:
    """A value without line breaks: each becomes a space (CR LF one space), then surrounding
    spaces are trimmed."""
    return (text or "").replace("\r\n", " ").translate(_NO_BREAKS).strip(" ")


def _joined(values: list[str]) -> str:
    return ";".join(sorted({one_line(v).replace(";", ",") for v in values} - {""}))


def _json(value: Any, empty: Any) -> Any:
    """A JSON column read as text (SQLite) or already decoded by the driver (psycopg)."""
    if value is None:
        return empty
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _score(value: float | None) -> str:
    """One decimal, halves up, computed on the score's four stored decimals in whole numbers
    (the same arithmetic the SQL does, so both agree to the digit)."""
    if value is None:
        return ""
    tenths = (round(value * 10_000) + 500) // 1000
    return f"{tenths // 10}.{tenths % 10}"


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def rows(session: Session, day: date | None = None) -> Iterator[dict[str, Any]]:
    """Each listing shown on ``day`` (default: the service clock's today) as a row (a dict over
    ``COLUMNS``, every value a string), by listing id: one streamed query for the listings with
    their enterprise and decision, and per batch one query each for aliases, identifiers, first
    listing day and last transition."""
    day = clock.today(session) if day is None else day
    versions = dict(session.execute(select(Ruleset.id, Ruleset.version)).all())
    query = (select(Listing.id, Listing.list_type, Listing.enterprise_id, Enterprise.legal_name, Enterprise.chinese_name,
                    Enterprise.country, Enterprise.sector, Listing.effective_from, Listing.expires_on,
                    type_coerce(Listing.reason_codes, Text), Listing.grounds, Decision.total_score,
                    type_coerce(Decision.pillar_scores, Text), Decision.ruleset_id, Listing.decision_id)
             .join(Enterprise, Enterprise.id == Listing.enterprise_id).join(Decision, Decision.id == Listing.decision_id)
             .where(Listing.status == ListingStatus.ACTIVE, Listing.kind == "listing", Listing.effective_from <= day,
                    Listing.expires_on >= day).order_by(Listing.id)
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
            "reason_codes": _joined(_json(reason_codes, [])), "grounds": one_line(grounds),
            "total_score": _score(total),
            "pillar_scores": ";".join(f"{code}:{_score(v)}" for code, v in sorted(pillar_scores.items()) if v is not None),
            "ruleset_version": versions.get(ruleset_id, ""), "decision_id": str(decision_id),
            "first_listed": _iso(first.get((ent_id, list_type))), "last_change": _iso(last.get(listing_id)),
        }


class _Dialect:
    """The SQL pieces that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def clean(self, expr: str) -> str:
        """``one_line`` in SQL. Most values hold no line break: a cheap test picks those out and
        only trims them; the others go through the full replacement."""
        value = f"COALESCE({expr}, '')"
        if self.pg:
            codes = " || ".join(f"chr({ord(c)})" for c in LINE_BREAKS)
            full = f"btrim(translate(replace({value}, chr(13) || chr(10), ' '), {codes}, '{' ' * len(LINE_BREAKS)}'), ' ')"
            # one regular expression scan (\uXXXX: exactly four hex digits, so never ambiguous)
            pattern = "".join(f"\\u{ord(c):04x}" for c in LINE_BREAKS)
            return f"CASE WHEN ({expr}) ~ '[{pattern}]' THEN {full} ELSE btrim({value}, ' ') END"
        full = f"replace({value}, char(13) || char(10), ' ')"
        for c in LINE_BREAKS:
            full = f"replace({full}, char({ord(c)}), ' ')"
        # instr() per character is cheaper here than one GLOB with a character class
        found = " OR ".join(f"instr(({expr}), char({ord(c)}))" for c in LINE_BREAKS)
        return f"trim(CASE WHEN {found} THEN {full} ELSE {value} END, ' ')"

    def score(self, expr: str) -> str:
        """``_score`` in SQL: tenths = (round(x × 10000) + 500) div 1000, in whole numbers."""
        whole = "BIGINT" if self.pg else "INTEGER"
        tenths = f"((CAST(round({expr} * 10000) AS {whole}) + 500) / 1000)"
        return f"CASE WHEN {expr} IS NULL THEN '' ELSE {self.text(f'{tenths} / 10')} || '.' || {self.text(f'{tenths} % 10')} END"

    def day(self, expr: str) -> str:
        # PostgreSQL: a date's text form under DateStyle ISO (set by csv_lines) is YYYY-MM-DD,
        # several times cheaper than to_char
        return f"COALESCE(CAST({expr} AS TEXT), '')" if self.pg else f"COALESCE(date({expr}), '')"

    def moment(self, expr: str) -> str:
        if self.pg:  # timestamp without time zone, DateStyle ISO: 'YYYY-MM-DD HH:MM:SS'
            return f"COALESCE(replace(CAST(date_trunc('second', {expr}) AS TEXT), ' ', 'T') || 'Z', '')"
        return f"COALESCE(strftime('%Y-%m-%dT%H:%M:%SZ', {expr}), '')"

    def reason_codes(self, expr: str) -> str:
        """``_joined`` over a JSON array of codes: distinct, cleaned, a ``;`` inside becoming
        ``,``, empty ones dropped, sorted by code point (PostgreSQL: collation "C"; SQLite:
        its binary collation, UTF-8 byte order, which is code point order)."""
        def cleaned(value: str) -> str:
            return f"replace({self.clean(value)}, ';', ',')"

        if self.pg:
            # A single code without quotes or backslashes inside, as the service writes most of
            # them (["A"]), is its own sorted list, and its text is its value. Anything else
            # (several codes, escapes, other spacing, non-strings) goes through the JSON functions.
            raw = f"CAST({expr} AS TEXT)"
            single = "'^\\[\"[^\"\\\\]*\"\\]$'"
            general = (f"COALESCE((SELECT string_agg(DISTINCT w.v COLLATE \"C\", ';' ORDER BY w.v COLLATE \"C\") "
                       f"FROM (SELECT {cleaned('t.c')} AS v FROM json_array_elements_text({expr}) AS t(c)) AS w "
                       "WHERE w.v <> ''), '')")
            return f"CASE WHEN {raw} ~ {single} THEN {cleaned(f'substr({raw}, 3, length({raw}) - 4)')} ELSE {general} END"
        return (f"COALESCE((SELECT group_concat(v, ';') FROM (SELECT DISTINCT v FROM (SELECT {cleaned('value')} AS v "
                f"FROM json_each({expr})) WHERE v <> '' ORDER BY v)), '')")

    def pillar_scores(self, expr: str) -> str:
        if self.pg:
            score = self.score("CAST(p.value AS DOUBLE PRECISION)")
            return (f"COALESCE((SELECT string_agg(p.key || ':' || {score}, ';' ORDER BY p.key COLLATE \"C\") "
                    f"FROM json_each_text({expr}) AS p WHERE p.value IS NOT NULL), '')")
        score = self.score("value")
        return (f"COALESCE((SELECT group_concat(entry, ';') FROM (SELECT key || ':' || {score} AS entry "
                f"FROM json_each({expr}) WHERE type <> 'null' ORDER BY key)), '')")


def _grouped(d: _Dialect, key: str, value_sql: str, source: str) -> str:
    """Per ``key``: the distinct non-empty values, sorted by code point and ';'-joined, in one
    pass over ``source`` (all of it when every line is built: restricting it to the listed
    enterprises first costs more than it saves, as the join to the listings keeps only theirs).

    On PostgreSQL most enterprises have one value (or one after cleaning): a plain min/max
    aggregate, with no sort per group, answers for those; only a group whose values differ is
    joined by a sorted aggregate over its rows."""
    if d.pg:
        # OFFSET 0 keeps the cleaned value computed once per row (not again for the filter)
        values = f"SELECT {key}, {value_sql} AS v FROM {source} OFFSET 0"
        several = (f"(SELECT string_agg(DISTINCT w.v COLLATE \"C\", ';' ORDER BY w.v COLLATE \"C\") "
                   f"FROM (SELECT {value_sql} AS v FROM {source} WHERE {key} = s.{key}) AS w WHERE w.v <> '')")
        return (f"SELECT s.{key}, CASE WHEN min(s.v COLLATE \"C\") = max(s.v COLLATE \"C\") THEN min(s.v COLLATE \"C\") "
                f"ELSE {several} END AS joined FROM ({values}) AS s WHERE s.v <> '' GROUP BY s.{key}")
    return (f"SELECT {key}, group_concat(v, ';') AS joined FROM (SELECT DISTINCT {key}, {value_sql} AS v FROM {source} "
            f"ORDER BY {key}, v) WHERE v <> '' GROUP BY {key}")


def _fields(d: _Dialect) -> dict[str, str]:
    """The SQL of each column's finished text, in file order, over the relations ``_source``
    names (``l`` the listing, ``e`` its enterprise, ``dc`` its decision, ``r`` the ruleset, ``al``
    and ``ids`` the joined aliases and identifiers, ``fl`` the first listing day, ``lc`` the last
    transition)."""
    fields = {
        "listing_id": d.text("l.id"), "list": d.text("l.list_type"), "enterprise_id": d.text("e.id"),
        "legal_name": d.clean("e.legal_name"), "chinese_name": d.clean("e.chinese_name"),
        "aliases": "COALESCE(al.joined, '')", "identifiers": "COALESCE(ids.joined, '')",
        "country": "COALESCE(e.country, '')", "sector": "COALESCE(e.sector, '')",
        "effective_from": d.day("l.effective_from"), "expires_on": d.day("l.expires_on"),
        "reason_codes": d.reason_codes("l.reason_codes"), "grounds": d.clean("l.grounds"),
        "total_score": d.score("dc.total_score"), "pillar_scores": d.pillar_scores("dc.pillar_scores"),
        "ruleset_version": "COALESCE(r.version, '')", "decision_id": d.text("l.decision_id"),
        "first_listed": d.day("fl.day"), "last_change": d.moment("lc.at"),
    }
    assert tuple(fields) == COLUMNS
    return fields


def _source(d: _Dialect, day: date, only: str | None = None) -> str:
    """The FROM … WHERE clause ``_fields`` read from: one row per listing shown on ``day`` (the
    caller orders).

    ``only`` names a relation ``(id, enterprise_id, mark)`` of listings: then only their lines
    are built (on PostgreSQL joined as ``st``), and the per-enterprise and per-listing values are
    computed for those alone (rebuilding a few stored lines must not cost a pass over every alias)."""
    def within(table: str, key: str, of: str) -> str:
        return table if only is None else f"(SELECT * FROM {table} WHERE {key} IN (SELECT {of} FROM {only})) AS src"

    aliases = _grouped(d, "enterprise_id", f"replace({d.clean('name')}, ';', ',')",
                       within("enterprise_aliases", "enterprise_id", "enterprise_id"))
    identifier = d.clean("scheme || ':' || value")
    identifiers = _grouped(d, "enterprise_id", f"replace({identifier}, ';', ',')",
                           within("identifiers", "enterprise_id", "enterprise_id"))
    return (("FROM listings l " if only is None or not d.pg else f"FROM {only} st JOIN listings l ON l.id = st.id ")
            + "JOIN enterprises e ON e.id = l.enterprise_id JOIN decisions dc ON dc.id = l.decision_id "
            "LEFT JOIN rulesets r ON r.id = dc.ruleset_id "
            f"LEFT JOIN ({aliases}) al ON al.enterprise_id = l.enterprise_id "
            f"LEFT JOIN ({identifiers}) ids ON ids.enterprise_id = l.enterprise_id "
            "LEFT JOIN (SELECT enterprise_id, list_type, min(effective_from) AS day "
            f"FROM {within('listings', 'enterprise_id', 'enterprise_id')} WHERE kind = 'listing' "
            "AND effective_from IS NOT NULL GROUP BY enterprise_id, list_type) fl "
            "ON fl.enterprise_id = l.enterprise_id AND fl.list_type = l.list_type "
            f"LEFT JOIN (SELECT listing_id, max(at) AS at FROM {within('listing_events', 'listing_id', 'id')} "
            "GROUP BY listing_id) lc ON lc.listing_id = l.id "
            # SQLite: a filter, not a join (its planner would scan the relation once per listing)
            f"WHERE {_listed_on(day)}" + ("" if only is None or d.pg else f" AND l.id IN (SELECT id FROM {only})"))


def _listed_on(day: date) -> str:
    """The listings (as ``l``) a release as of ``day`` shows: active, and in force that day, from
    their ``effective_from`` through their ``expires_on`` inclusive, whether or not the expiry
    job has recorded an end. A suspended, proposed or ended listing is on no list. The day is
    written into the statement as a literal (COPY takes no parameters); it is formatted from a
    ``date``, so it holds digits and dashes only."""
    if not isinstance(day, date):
        raise TypeError(f"a release's day is a date, not {type(day).__name__}")
    literal = f"'{day:%Y-%m-%d}'"
    return (f"l.status = 'active' AND l.kind = 'listing' AND l.effective_from <= {literal} "
            f"AND l.expires_on >= {literal}")


def _copy_sql(day: date) -> str:
    """PostgreSQL: the line of every listing shown on ``day`` as COPY writes it in CSV with every
    field quoted (quotes doubled, ``\\n`` line end, in C), by listing id. No field may be NULL:
    COPY writes NULL unquoted."""
    d = _Dialect("postgresql")
    select = f"SELECT {', '.join(_fields(d).values())} {_source(d, day)} ORDER BY l.id"
    return f"COPY ({select}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)"


def _versions_sql(day: date) -> str:
    """The ruleset versions of the decisions of the listings shown on ``day``."""
    return ("SELECT DISTINCT r.version FROM listings l JOIN decisions dc ON dc.id = l.decision_id "
            f"JOIN rulesets r ON r.id = dc.ruleset_id WHERE {_listed_on(day)} AND r.version <> ''")


def _line(d: _Dialect, fields: dict[str, str]) -> str:
    """The finished line (every field quoted, quotes doubled, ``\\n`` ended) as UTF-8 bytes:
    byte for byte what COPY … (FORMAT csv, FORCE_QUOTE *) writes for the same fields."""
    # quotes can only be inside the free text columns; the others are written as they are
    free = {"legal_name", "chinese_name", "aliases", "identifiers", "country", "sector", "reason_codes", "grounds",
            "pillar_scores", "ruleset_version"}
    quoted = " || '\",\"' || ".join(f"replace({sql}, '\"', '\"\"')" if name in free else sql for name, sql in fields.items())
    if d.pg:
        return f"convert_to('\"' || {quoted} || '\"' || chr(10), 'UTF8')"
    return f"CAST('\"' || {quoted} || '\"' || char(10) AS BLOB)"


def _sqlite_sql(day: date) -> str:
    """SQLite: per listing shown on ``day`` by id, its list, its ruleset version and its finished
    line (``\\n`` included) as UTF-8 bytes, so Python neither decodes nor encodes it."""
    d = _Dialect("sqlite")
    return f"SELECT l.list_type, COALESCE(r.version, ''), {_line(d, _fields(d))} {_source(d, day)} ORDER BY l.id"


# Stored lines (see vetting.models.listing_line): a stored line is served only at its listing's
# current mark and in the current form; any other is stale and is built again.

def form(connection: Any) -> str:
    """A fingerprint of what formats a line on this connection's database: the statement and
    the database's version (whose functions format the numbers and dates). A line stored under
    another form (another release of this software, an upgraded database) is stale."""
    dialect = connection.dialect
    d = _Dialect(dialect.name)
    what = f"{dialect.name} {dialect.server_version_info} {_line(d, _fields(d))}"
    return hashlib.sha256(what.encode("utf-8")).hexdigest()[:16]


def _stale_sql(shape: str, day: date, within: str = "") -> str:
    """The listings shown on ``day`` whose stored line is missing, at another mark or of another
    form: ``(id, enterprise_id, mark)`` with their current mark, or their count and id range. (A
    listing past its ``expires_on`` is not shown, so its line, stored or not, is never counted.)"""
    columns = {"rows": "l.id, l.enterprise_id, COALESCE(m.mark, 0) AS mark",
               "count": "count(*), min(l.id), max(l.id)"}[shape]
    return (f"SELECT {columns} FROM listings l LEFT JOIN listing_line_marks m ON m.listing_id = l.id "
            f"LEFT JOIN listing_lines s ON s.listing_id = l.id WHERE {_listed_on(day)} {within}"
            "AND (s.listing_id IS NULL OR s.mark <> COALESCE(m.mark, 0) OR s.form <> :form)")


def _rebuild_sql(dialect: str, day: date) -> str:
    """Build and store the stale lines of the listings with ids in [:low, :high]: each with the
    mark read by the same statement (one snapshot), so a change committed meanwhile leaves the
    line at an older mark than the listing's, stale again."""
    d = _Dialect(dialect)
    fields, source = _fields(d), _source(d, day, only="stale")
    stale = _stale_sql("rows", day, "AND l.id BETWEEN :low AND :high ")
    # the mark is read by this statement, as its sources are
    mark = "st.mark" if d.pg else "COALESCE((SELECT m.mark FROM listing_line_marks m WHERE m.listing_id = l.id), 0)"
    # the span is repeated on the listings themselves, so the planner reads only those
    select = f"SELECT l.id, {mark}, :form, {_line(d, fields)} {source} AND l.id BETWEEN :low AND :high ORDER BY l.id"
    if d.pg:
        return (f"WITH stale AS MATERIALIZED ({stale}) INSERT INTO listing_lines (listing_id, mark, form, line) {select} "
                "ON CONFLICT (listing_id) DO UPDATE SET mark = EXCLUDED.mark, form = EXCLUDED.form, line = EXCLUDED.line")
    return f"WITH stale AS ({stale}) INSERT OR REPLACE INTO listing_lines (listing_id, mark, form, line) {select}"


def _stored_sql(day: date) -> str:
    """The stored line of every listing shown on ``day``, by listing id. Only correct in a
    snapshot where ``_stale_sql`` counts no stale line for the same day: then each of them has
    exactly one stored line (the primary key), at its current mark and in the current form."""
    return (f"SELECT s.line FROM listings l JOIN listing_lines s ON s.listing_id = l.id WHERE {_listed_on(day)} "
            "ORDER BY l.id")


#: Listing ids per rebuilding transaction: a cold rebuild of many lines is split so that no
#: transaction runs long. On SQLite each holds the write lock, which other writers wait for
#: (up to VETTING_DB_TIMEOUT): a span takes about a second there. On PostgreSQL a rebuild
#: locks only stored lines, which no one else writes.
REBUILD_SPAN = {"postgresql": 100_000, "sqlite": 20_000}
#: Lines rebuilt at once after which PostgreSQL's statistics of the stored lines are renewed.
ANALYZE_AFTER = 1000


def refresh(session: Session, day: date | None = None) -> int:
    """Build and store every stale line of a listing shown on ``day`` (default: the service
    clock's today; set-based, in the database), committing after each span of listing ids; drop
    the lines of listings not shown that day. Returns how many lines were built. Run before a
    release's snapshot; never needed for correctness (a release builds any line still stale in
    its snapshot), only for speed."""
    day = clock.today(session) if day is None else day
    connection = session.connection()
    dialect = connection.dialect.name
    current = form(connection)
    if dialect == "postgresql":
        connection.exec_driver_sql("SET LOCAL jit = off")
        connection.exec_driver_sql("SET LOCAL datestyle = 'ISO'")
    count, low, high = session.execute(text(_stale_sql("count", day)), {"form": current}).one()
    session.commit()
    if not count:
        return 0
    built = 0
    rebuild = text(_rebuild_sql(dialect, day))
    span = REBUILD_SPAN.get(dialect, REBUILD_SPAN["sqlite"])
    for start in range(low, high + 1, span):
        connection = session.connection()
        if dialect == "postgresql":
            connection.exec_driver_sql("SET LOCAL jit = off")
            connection.exec_driver_sql("SET LOCAL datestyle = 'ISO'")
        result = session.execute(rebuild, {"form": current, "low": start, "high": min(start + span - 1, high)})
        # sqlite3 counts no rows for a statement that starts with WITH: ask SQLite itself
        built += result.rowcount if dialect == "postgresql" else session.execute(text("SELECT changes()")).scalar_one()
        session.commit()
    session.execute(text("DELETE FROM listing_lines WHERE NOT EXISTS "
                         f"(SELECT 1 FROM listings l WHERE l.id = listing_lines.listing_id AND {_listed_on(day)})"))
    if dialect == "postgresql" and built >= ANALYZE_AFTER:
        # fresh statistics keep the release's stream a merge of two primary keys (no sort)
        session.execute(text("ANALYZE listing_lines, listing_line_marks"))
    session.commit()
    return built


#: Lines fetched and written per block.
BLOCK = 5000
#: The first byte of the list's value in a line: '"<listing id>","red",…' or '"<listing id>","black",…'.
_RED = ord("r")
#: The header of PostgreSQL's binary COPY format: signature, flags, header extension length.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00"


def _binary_rows(copy: Any) -> Iterator[bytes]:
    """The single bytea value of each row of a ``COPY … TO STDOUT (FORMAT binary)``: per row a
    field count (2 bytes), a length (4 bytes) and the value; -1 as field count ends the data."""
    pending = b""
    started = False
    unpack = struct.Struct("!hi").unpack_from
    for message in copy:
        data = pending + bytes(message) if pending else message
        pending = b""
        at = 0
        if not started:
            if bytes(data[:11]) != _BINARY_HEADER:
                raise ValueError("not a binary COPY stream")
            at = 19 + int.from_bytes(data[15:19], "big")
            started = True
        end = len(data)
        while at < end:
            if end - at < 2:
                pending = bytes(data[at:])
                break
            if data[at:at + 2] == b"\xff\xff":
                break  # the end: the stream is still read to its close
            if end - at < 6:
                pending = bytes(data[at:])
                break
            _count, size = unpack(data, at)
            if end - at - 6 < size:
                pending = bytes(data[at:])
                break
            yield bytes(data[at + 6:at + 6 + size])
            at += 6 + size


class Lines:
    """The release lines of every listing shown as of ``as_of`` (its UTC date, ``day``; see
    ``_listed_on``), by listing id, read in the caller's snapshot and streamed (memory does not
    grow with the number of listings).

    When every listing shown has a stored line at its current mark (``refresh`` ran and
    nothing changed since), the stored lines are streamed as they are; otherwise every line is
    formatted by the database in one statement (on PostgreSQL a COPY that quotes in C). Either
    way the bytes are the same: the stored ones were built by the same SQL, and their marks
    prove nothing they were built from has changed (``stored`` says which way was taken).

    ``blocks`` is what writing the files uses: the raw bytes, a block of lines at a time, with
    the red and the black ones apart. Iterating gives (list, ruleset version, line without its
    end) per listing from the same statement, the form the tests hold to the reference ``rows``.
    ``close`` ends a statement still running (on PostgreSQL that cancels the COPY, and the
    caller's transaction must be rolled back).

    On PostgreSQL the caller's transaction keeps ``jit = off`` and ``DateStyle = ISO`` (SET
    LOCAL) until it ends; the ruleset versions come from a second statement in the same
    transaction, which is one snapshot under the repeatable read a release uses."""

    def __init__(self, session: Session, as_of: datetime | None = None) -> None:
        #: the instant the release shows (default: the service clock's now), and its UTC date
        self.as_of = clock.now(session) if as_of is None else as_of
        self.day = self.as_of.astimezone(timezone.utc).date()
        self._connection = session.connection()
        self._pg = self._connection.dialect.name == "postgresql"
        self._running: Generator[Any, None, None] | None = None
        #: ruleset versions seen by ``blocks`` (complete once it is exhausted)
        self.versions: set[str] = set()
        #: whether the stored lines were streamed (known once reading has begun)
        self.stored: bool | None = None
        self._stale: int | None = None

    def stale(self) -> int:
        """How many listings shown lack a current stored line, in this snapshot (counted once:
        the stored lines are streamed only when this is 0)."""
        if self._stale is None:
            query = _stale_sql("count", self.day).replace(":form", "%(form)s" if self._pg else ":form")
            raw: Any = self._connection.connection.dbapi_connection
            cursor = raw.cursor()
            try:
                cursor.execute(query, {"form": form(self._connection)})
                self._stale = int(cursor.fetchone()[0])
            finally:
                cursor.close()
        return self._stale

    def _postgres(self) -> Generator[list[bytes], None, None]:
        self._connection.exec_driver_sql("SET LOCAL jit = off")  # one long query: compiling it costs more than it saves
        self._connection.exec_driver_sql("SET LOCAL datestyle = 'ISO'")  # dates as YYYY-MM-DD (see _Dialect.day)
        raw: Any = self._connection.connection.dbapi_connection  # the session's own connection and transaction
        self.stored = self.stale() == 0
        with raw.cursor() as cursor:
            self.versions.update(v for (v,) in cursor.execute(_versions_sql(self.day)))
            if self.stored:
                with cursor.copy(f"COPY ({_stored_sql(self.day)}) TO STDOUT (FORMAT binary)") as copy:
                    yield from _batched(_binary_rows(copy))
                return
            with cursor.copy(_copy_sql(self.day)) as copy:
                batch: list[bytes] = []
                for row in copy:  # one row per message
                    batch.append(bytes(row))
                    if len(batch) == BLOCK:
                        yield batch
                        batch = []
                if batch:
                    yield batch

    def _sqlite(self) -> Generator[list[tuple[str, str, bytes]] | list[tuple[bytes]], None, None]:
        raw: Any = self._connection.connection.dbapi_connection  # the session's own connection
        self.stored = self.stale() == 0
        cursor = raw.cursor()
        try:
            if self.stored:
                self.versions.update(v for (v,) in cursor.execute(_versions_sql(self.day)))
                cursor.execute(_stored_sql(self.day))
            else:
                cursor.execute(_sqlite_sql(self.day))
            while batch := cursor.fetchmany(BLOCK):
                yield batch
        finally:
            cursor.close()

    def blocks(self) -> Iterator[tuple[bytes, bytes, bytes, int, int]]:
        """(every line, the red lines, the black lines, red count, black count) a block at a
        time, each as one bytes value ready to write."""
        for lines in self._line_blocks():
            red: list[bytes] = []
            black: list[bytes] = []
            for line in lines:
                # the list is the second field, after the listing id (digits only)
                (red if line[line.index(b'","') + 3] == _RED else black).append(line)
            yield b"".join(lines), b"".join(red), b"".join(black), len(red), len(black)

    def _line_blocks(self) -> Iterator[Sequence[bytes]]:
        """Blocks of finished lines (with their ends); ``versions`` is complete once exhausted."""
        if self._pg:
            self._running = running = self._postgres()
            yield from running
            return
        self._running = batches = self._sqlite()
        versions = self.versions
        for batch in batches:
            if self.stored:
                yield [line for (line,) in batch]
                continue
            versions.update(version for _, version, _ in batch)
            yield [line for _, _, line in batch]
        versions.discard("")

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        version = COLUMNS.index("ruleset_version")
        for lines in self._line_blocks():
            for line in lines:
                text_ = line.decode("utf-8")[:-1]
                fields = next(csv.reader([text_]))
                yield fields[1], fields[version], text_

    def close(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


def _batched(values: Iterator[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for value in values:
        batch.append(value)
        if len(batch) == BLOCK:
            yield batch
            batch = []
    if batch:
        yield batch


def csv_lines(session: Session, as_of: datetime | None = None) -> Lines:
    """The release lines of the listings shown as of ``as_of`` (default: the service clock's
    now) in the session's transaction (see ``Lines``)."""
    return Lines(session, as_of)
