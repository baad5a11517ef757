"""The rows of a release: every active listing with its enterprise, read in one transaction
(repeatable read on PostgreSQL, so every query sees the same instant) and streamed in listing-id
order; memory does not grow with the number of listings.

``csv_lines`` is what releases use: the database formats each row as a finished CSV line (every
field quoted, quotes doubled) in one streamed query, so the Python side only writes lines.
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
        """``one_line`` in SQL."""
        value = f"replace(COALESCE({expr}, ''), char(13) || char(10), ' ')" if not self.pg else \
            f"replace(COALESCE({expr}, ''), chr(13) || chr(10), ' ')"
        if self.pg:
            codes = " || ".join(f"chr({ord(c)})" for c in LINE_BREAKS)
            value = f"translate({value}, {codes}, '{' ' * len(LINE_BREAKS)}')"
        else:
            for c in LINE_BREAKS:
                value = f"replace({value}, char({ord(c)}), ' ')"
            # most values hold no line break: one GLOB scan instead of the chain of replaces
            breaks = ", ".join(str(ord(c)) for c in LINE_BREAKS)
            value = f"CASE WHEN {expr} GLOB '*[' || char({breaks}) || ']*' THEN {value} ELSE COALESCE({expr}, '') END"
        return f"btrim({value}, ' ')" if self.pg else f"trim({value}, ' ')"

    def joined(self, values_sql: str) -> str:
        """Distinct values of a subquery's column ``v``, sorted by code point, ';'-joined."""
        if self.pg:
            return f"(SELECT string_agg(v, ';' ORDER BY v COLLATE \"C\") FROM (SELECT DISTINCT v FROM ({values_sql}) AS s(v) WHERE v <> '') AS d)"
        return f"(SELECT group_concat(v, ';') FROM (SELECT DISTINCT v FROM ({values_sql}) WHERE v <> '' ORDER BY v))"

    def score(self, expr: str) -> str:
        """``_score`` in SQL: tenths = (round(x × 10000) + 500) div 1000, in whole numbers."""
        whole = "BIGINT" if self.pg else "INTEGER"
        tenths = f"((CAST(round({expr} * 10000) AS {whole}) + 500) / 1000)"
        return f"CASE WHEN {expr} IS NULL THEN '' ELSE {self.text(f'{tenths} / 10')} || '.' || {self.text(f'{tenths} % 10')} END"

    def day(self, expr: str) -> str:
        return f"COALESCE(to_char({expr}, 'YYYY-MM-DD'), '')" if self.pg else f"COALESCE(date({expr}), '')"

    def moment(self, expr: str) -> str:
        if self.pg:
            return f"COALESCE(to_char({expr}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
        return f"COALESCE(strftime('%Y-%m-%dT%H:%M:%SZ', {expr}), '')"

    def reason_codes(self, expr: str) -> str:
        if self.pg:
            return (f"COALESCE((SELECT string_agg(c, ';' ORDER BY i) FROM json_array_elements_text({expr}) "
                    f"WITH ORDINALITY AS t(c, i)), '')")
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
    """Per ``key``: the distinct non-empty values, sorted by code point and ';'-joined (one
    pass over ``source``, for the enterprises that have an active listing)."""
    listed = "SELECT enterprise_id FROM listings WHERE status = 'active' AND kind = 'listing'"
    if d.pg:
        return (f"SELECT {key}, string_agg(v, ';' ORDER BY v COLLATE \"C\") AS joined FROM (SELECT DISTINCT {key}, {value_sql} AS v "
                f"FROM {source} WHERE {key} IN ({listed})) AS s WHERE v <> '' GROUP BY {key}")
    return (f"SELECT {key}, group_concat(v, ';') AS joined FROM (SELECT DISTINCT {key}, {value_sql} AS v FROM {source} "
            f"WHERE {key} IN ({listed}) ORDER BY {key}, v) WHERE v <> '' GROUP BY {key}")


def _line_sql(dialect_name: str) -> str:
    """One query giving, per active listing in id order: its list, its ruleset version and its
    finished CSV line (without the line end). Aliases, identifiers, first listing days and last
    transitions are each aggregated once and joined, not looked up row by row."""
    d = _Dialect(dialect_name)
    aliases = _grouped(d, "enterprise_id", f"replace({d.clean('name')}, ';', ',')", "enterprise_aliases")
    identifier = d.clean("scheme || ':' || value")
    identifiers = _grouped(d, "enterprise_id", f"replace({identifier}, ';', ',')", "identifiers")
    fields = {
        "listing_id": d.text("l.id"), "list": "l.list_type", "enterprise_id": d.text("e.id"),
        "legal_name": d.clean("e.legal_name"), "chinese_name": d.clean("e.chinese_name"),
        "aliases": "al.joined", "identifiers": "ids.joined",
        "country": "e.country", "sector": "e.sector",
        "effective_from": d.day("l.effective_from"), "expires_on": d.day("l.expires_on"),
        "reason_codes": d.reason_codes("l.reason_codes"), "grounds": d.clean("l.grounds"),
        "total_score": d.score("dc.total_score"), "pillar_scores": d.pillar_scores("dc.pillar_scores"),
        "ruleset_version": "COALESCE(r.version, '')", "decision_id": d.text("l.decision_id"),
        "first_listed": d.day("fl.day"), "last_change": d.moment("lc.at"),
    }
    assert tuple(fields) == COLUMNS
    quoted = " || '\",\"' || ".join(f"replace(COALESCE({sql}, ''), '\"', '\"\"')" for sql in fields.values())
    return (f"SELECT l.list_type, COALESCE(r.version, ''), '\"' || {quoted} || '\"' "
            "FROM listings l JOIN enterprises e ON e.id = l.enterprise_id JOIN decisions dc ON dc.id = l.decision_id "
            "LEFT JOIN rulesets r ON r.id = dc.ruleset_id "
            f"LEFT JOIN ({aliases}) al ON al.enterprise_id = l.enterprise_id "
            f"LEFT JOIN ({identifiers}) ids ON ids.enterprise_id = l.enterprise_id "
            "LEFT JOIN (SELECT enterprise_id, list_type, min(effective_from) AS day FROM listings WHERE kind = 'listing' "
            "AND effective_from IS NOT NULL GROUP BY enterprise_id, list_type) fl "
            "ON fl.enterprise_id = l.enterprise_id AND fl.list_type = l.list_type "
            "LEFT JOIN (SELECT listing_id, max(at) AS at FROM listing_events GROUP BY listing_id) lc ON lc.listing_id = l.id "
            "WHERE l.status = 'active' AND l.kind = 'listing' ORDER BY l.id")


def csv_lines(session: Session) -> Iterator[tuple[str, str, str]]:
    """(list, ruleset version, CSV line) for each active listing by listing id, formatted by
    the database and streamed (a server-side cursor on PostgreSQL)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # one long query over every row: compiling it to machine code costs more than it saves
        connection.exec_driver_sql("SET LOCAL jit = off")
    sql = _line_sql(connection.dialect.name)
    # options for this statement only (a connection's own options would outlive it)
    result = connection.exec_driver_sql(sql.replace("%", "%%") if connection.dialect.name == "postgresql" else sql,
                                        execution_options={"stream_results": True, "max_row_buffer": BATCH})
    try:
        for partition in result.partitions(BATCH):  # a batch at a time, never the whole result
            yield from partition
    finally:
        result.close()  # a build that stopped half way must not leave the server-side cursor open
