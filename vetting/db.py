"""Database plumbing: the declarative base with a constraint naming convention, and the
:class:`Database` that owns one engine and its session factory per application.

Nothing here connects at import. :meth:`Database.init_app` builds the engine from the app's
configuration; services receive sessions made by :attr:`Database.sessionmaker`.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import MetaData, create_engine, event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(engine: Engine, timeout: float) -> None:
    """Let SQLAlchemy, not the sqlite3 module, control transactions (so SAVEPOINT works),
    and turn on foreign keys, WAL and a busy timeout on every connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A request that will write takes the write lock when its transaction starts, so a read
        # snapshot can never go stale before its write (SQLITE_BUSY_SNAPSHOT); others defer.
        immediate = conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: A pooled connection idle for longer than this is pinged before use; one in steady use is
#: not (a ping is a round trip on every request). A connection that broke while in use fails
#: its request (503, Retry-After) and the pool drops every connection opened before it.
PING_AFTER = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in")
        if last is None or time.monotonic() - last < PING_AFTER:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the connection did not answer a ping")


def single_statement_read(session: Session) -> None:
    """Run the session's next statement outside an explicit transaction (PostgreSQL
    autocommit). For a read that is one statement this changes nothing it sees (a statement is
    one snapshot) and saves the BEGIN and ROLLBACK round trips. A session already in a
    transaction, or bound to a connection rather than an engine (the tests), is left alone."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def begin_for_write(session: Session) -> None:
    """On SQLite, start the session's next transaction with the write lock (BEGIN IMMEDIATE), so
    a read in it can never go stale before its write. Sessions bound to an existing connection
    (tests), or already in a transaction, are left as they are."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def make_engine(url: str, *, pool_size: int = 5, timeout: float = 5.0, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings this service relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine, timeout)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "psycopg":
        connect_args["connect_timeout"] = max(1, int(timeout))
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        connect_args=connect_args,
        **kwargs,
    )
    _ping_idle_connections(engine)
    return engine


class Database:
    """One engine and session factory; made by the application factory, never at import."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Database":
        return cls(
            make_engine(
                config["VETTING_DATABASE_URL"],
                pool_size=config.get("VETTING_DB_POOL_SIZE", 5),
                timeout=config.get("VETTING_DB_TIMEOUT", 5.0),
            )
        )

    def session(self) -> Session:
        return self.sessionmaker()

    def dispose(self) -> None:
        self.engine.dispose()
