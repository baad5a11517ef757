"""Inserting many rows at once, the fastest way the session's database offers.

On PostgreSQL with psycopg the rows go in one ``COPY … FROM STDIN``: a decision is some 12 KB of
text and a re-evaluation stores tens of thousands of rows in several tables, which multi-row
INSERTs would bind value by value and the server would parse statement by statement. Elsewhere
they go in one bulk INSERT. Both store the same values: COPY gets each value through its
column type's bind processing and psycopg's adapters, as the INSERT does (JSON columns as
``psycopg.types.json.Json``, as SQLAlchemy sends them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy import JSON, insert, text
from sqlalchemy.orm import Session

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = 5000) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: how many ids one query binds."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_rows(session: Session, model: type, rows: list[dict], *, return_ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts keyed by attribute name, every row with the same keys) into
    ``model``'s table, in order. Returns the new ids in the same order when ``return_ids``,
    else an empty list. Every column with a Python-side default must be given: COPY does not
    apply them (server-side defaults, like the id's sequence, apply either way)."""
    if not rows:
        return []
    table = model.__table__
    keys = list(rows[0])
    missing = [c.key for c in table.columns if c.default is not None and c.key not in keys and not c.primary_key]
    if missing:
        raise ValueError(f"rows for {table.name} must give {', '.join(missing)}")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg":
        return _copy(session, table, keys, rows, return_ids)
    if return_ids:
        return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))
    session.execute(insert(model), rows)
    return []


def _copy(session: Session, table, keys: list[str], rows: list[dict], return_ids: bool) -> list[int]:  # noqa: ANN001
    """COPY cannot return ids: when they are wanted they are drawn from the table's sequence
    first, in order, as the INSERT would have drawn them."""
    from psycopg.types.json import Json

    session.flush()  # the ORM's pending changes first, as an INSERT's autoflush would
    dialect = session.get_bind().dialect
    ids: list[int] = []
    if return_ids:
        ids = sorted(session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)},
        ))
    columns = [table.columns[k] for k in keys]
    convert = [Json if isinstance(c.type, JSON) else c.type.bind_processor(dialect) for c in columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    pairs = list(zip(keys, convert))
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({"id, " if return_ids else ""}{names}) FROM STDIN') as copy:
            write_row = copy.write_row
            if return_ids:
                for new_id, row in zip(ids, rows):
                    write_row([new_id] + [f(row[k]) if f else row[k] for k, f in pairs])
            else:
                for row in rows:
                    write_row([f(row[k]) if f else row[k] for k, f in pairs])
    finally:
        cursor.close()
    return ids


def refresh_statistics(session: Session, models: Sequence[type]) -> None:
    """Have PostgreSQL re-sample the tables behind ``models`` now.

    A long import can grow a table from nothing to hundreds of thousands of rows before
    autovacuum looks at it; until then the planner believes the table is tiny and reads, say,
    every idempotency key of an account instead of probing the index for the keys asked for, so
    each batch gets slower than the last. ANALYZE samples a bounded number of rows (it also sees
    the rows this transaction inserted), so a few calls while a table grows cost little.
    Elsewhere this does nothing."""
    if session.get_bind().dialect.name != "postgresql" or not models:
        return
    session.flush()
    names = ", ".join(f'"{model.__table__.name}"' for model in models)
    session.execute(text(f"ANALYZE {names}"))
