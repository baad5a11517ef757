"""The rows of a release: every active listing with its enterprise, read in one transaction
(repeatable read on PostgreSQL, so every query sees the same instant) and streamed in listing-id
order; memory does not grow with the number of listings.

``csv_lines`` is what releases use: the database formats each row as a finished CSV line (every
field quoted, quotes doubled) in one streamed statement (on PostgreSQL a ``COPY … TO STDOUT``
that quotes in C), and the Python side only writes the bytes it gets, a block at a time.
``rows`` builds the same rows field by field in Python; it is the reference the tests hold the
SQL to, and it documents each value's form:

- text values have their line breaks (CR LF, CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS) turned into
  spaces (CR LF into one) and surrounding spaces trimmed;
- aliases and identifiers are distinct, sorted by code point and ``;``-joined, a ``;`` inside a
  value becoming ``,``;
- scores have one decimal, halves rounded up (from the four decimals they are stored with);
- dates are ``YYYY-MM-DD``, times UTC ``YYYY-MM-DDTHH:MM:SSZ`` (seconds truncated).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Generator, Iterator
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
        if self.pg:
            # An array of strings without quotes or backslashes inside, as the service writes
            # it (["A", "B"]), is joined by string operations: each element's text is its value.
            # Anything else (escapes, other spacing, non-strings) is decoded by the JSON functions.
            raw = f"CAST({expr} AS TEXT)"
            element = '"[^"\\\\]*"'
            simple = f"'^\\[{element}(, ?{element})*\\]$'"
            joined = f"replace(replace(substr({raw}, 3, length({raw}) - 4), '\", \"', ';'), '\",\"', ';')"
            general = (f"COALESCE((SELECT string_agg(c, ';' ORDER BY i) FROM json_array_elements_text({expr}) "
                       f"WITH ORDINALITY AS t(c, i)), '')")
            return f"CASE WHEN {raw} ~ {simple} THEN {joined} ELSE {general} END"
        return f"COALESCE((SELECT group_concat(value, ';') FROM (SELECT value FROM json_each({expr}) ORDER BY key)), '')"

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
    pass over ``source`` (all of it: restricting it to the listed enterprises first costs more
    than it saves, as the join to the listings keeps only theirs).

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


def _fields(d: _Dialect) -> tuple[dict[str, str], str]:
    """The SQL of each column's finished text, in file order, and the FROM … ORDER BY clause
    they read from (one row per active listing, by listing id)."""
    aliases = _grouped(d, "enterprise_id", f"replace({d.clean('name')}, ';', ',')", "enterprise_aliases")
    identifier = d.clean("scheme || ':' || value")
    identifiers = _grouped(d, "enterprise_id", f"replace({identifier}, ';', ',')", "identifiers")
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
    source = ("FROM listings l JOIN enterprises e ON e.id = l.enterprise_id JOIN decisions dc ON dc.id = l.decision_id "
              "LEFT JOIN rulesets r ON r.id = dc.ruleset_id "
              f"LEFT JOIN ({aliases}) al ON al.enterprise_id = l.enterprise_id "
              f"LEFT JOIN ({identifiers}) ids ON ids.enterprise_id = l.enterprise_id "
              "LEFT JOIN (SELECT enterprise_id, list_type, min(effective_from) AS day FROM listings WHERE kind = 'listing' "
              "AND effective_from IS NOT NULL GROUP BY enterprise_id, list_type) fl "
              "ON fl.enterprise_id = l.enterprise_id AND fl.list_type = l.list_type "
              "LEFT JOIN (SELECT listing_id, max(at) AS at FROM listing_events GROUP BY listing_id) lc ON lc.listing_id = l.id "
              "WHERE l.status = 'active' AND l.kind = 'listing' ORDER BY l.id")
    return fields, source


def _copy_sql() -> str:
    """PostgreSQL: every active listing's line as COPY writes it in CSV with every field quoted
    (quotes doubled, ``\\n`` line end, in C), by listing id. No field may be NULL: COPY writes
    NULL unquoted."""
    fields, source = _fields(_Dialect("postgresql"))
    return f"COPY (SELECT {', '.join(fields.values())} {source}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)"


def _versions_sql() -> str:
    """PostgreSQL: the ruleset versions of the active listings' decisions."""
    return ("SELECT DISTINCT r.version FROM listings l JOIN decisions dc ON dc.id = l.decision_id "
            "JOIN rulesets r ON r.id = dc.ruleset_id WHERE l.status = 'active' AND l.kind = 'listing' AND r.version <> ''")


def _sqlite_sql() -> str:
    """SQLite: per active listing by id, its list, its ruleset version and its finished line
    (``\\n`` included) as UTF-8 bytes, so Python neither decodes nor encodes it."""
    fields, source = _fields(_Dialect("sqlite"))
    # quotes can only be inside the free text columns; the others are written as they are
    free = {"legal_name", "chinese_name", "aliases", "identifiers", "country", "sector", "reason_codes", "grounds",
            "pillar_scores", "ruleset_version"}
    quoted = " || '\",\"' || ".join(f"replace({sql}, '\"', '\"\"')" if name in free else sql for name, sql in fields.items())
    return (f"SELECT l.list_type, COALESCE(r.version, ''), CAST('\"' || {quoted} || '\"' || char(10) AS BLOB) "
            f"{source}")


#: Lines fetched and written per block.
BLOCK = 5000
#: The first byte of the list's value in a line: '"<listing id>","red",…' or '"<listing id>","black",…'.
_RED = ord("r")


class Lines:
    """The release lines of every active listing, by listing id, formatted by the database in
    one statement and streamed (memory does not grow with the number of listings).

    ``blocks`` is what writing the files uses: the raw bytes, a block of lines at a time, with
    the red and the black ones apart. Iterating gives (list, ruleset version, line without its
    end) per listing from the same statement, the form the tests hold to the reference ``rows``.
    ``close`` ends a statement still running (on PostgreSQL that cancels the COPY, and the
    caller's transaction must be rolled back).

    On PostgreSQL the caller's transaction keeps ``jit = off`` and ``DateStyle = ISO`` (SET
    LOCAL) until it ends; the ruleset versions come from a second statement in the same
    transaction, which is one snapshot under the repeatable read a release uses."""

    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self._pg = self._connection.dialect.name == "postgresql"
        self._running: Generator[Any, None, None] | None = None
        #: ruleset versions seen by ``blocks`` (complete once it is exhausted)
        self.versions: set[str] = set()

    def _postgres(self) -> Generator[list[bytes], None, None]:
        self._connection.exec_driver_sql("SET LOCAL jit = off")  # one long query: compiling it costs more than it saves
        self._connection.exec_driver_sql("SET LOCAL datestyle = 'ISO'")  # dates as YYYY-MM-DD (see _Dialect.day)
        raw: Any = self._connection.connection.dbapi_connection  # the session's own connection and transaction
        with raw.cursor() as cursor:
            self.versions.update(v for (v,) in cursor.execute(_versions_sql()))
            with cursor.copy(_copy_sql()) as copy:
                batch: list[bytes] = []
                for row in copy:  # one row per message
                    batch.append(bytes(row))
                    if len(batch) == BLOCK:
                        yield batch
                        batch = []
                if batch:
                    yield batch

    def _sqlite(self) -> Generator[list[tuple[str, str, bytes]], None, None]:
        raw: Any = self._connection.connection.dbapi_connection  # the session's own connection
        cursor = raw.cursor()
        try:
            cursor.execute(_sqlite_sql())
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

    def _line_blocks(self) -> Iterator[list[bytes]]:
        """Blocks of finished lines (with their ends); ``versions`` is complete once exhausted."""
        if self._pg:
            self._running = running = self._postgres()
            yield from running
            return
        self._running = batches = self._sqlite()
        versions = self.versions
        for batch in batches:
            versions.update(version for _, version, _ in batch)
            yield [line for _, _, line in batch]
        versions.discard("")

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        if self._pg:
            self._running = running = self._postgres()
            version = COLUMNS.index("ruleset_version")
            for lines in running:
                for line in lines:
                    text = line.decode("utf-8")[:-1]
                    fields = next(csv.reader([text]))
                    yield fields[1], fields[version], text
        else:
            self._running = rows = self._sqlite()
            for batch in rows:
                for list_type, version_text, data in batch:
                    yield list_type, version_text, data.decode("utf-8")[:-1]

    def close(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


def csv_lines(session: Session) -> Lines:
    """The release lines of the active listings in the session's transaction (see ``Lines``)."""
    return Lines(session)
