"""Connection handling: idle pooled connections are pinged (and replaced when the server has
dropped them), busy ones are not; a single-statement read on PostgreSQL runs without
BEGIN/ROLLBACK and leaves the pooled connection as it found it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from vetting import db as db_module
from vetting.db import Database, make_engine, single_statement_read


@pytest.fixture()
def counting_engine(backend: str, database_url: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    if backend != "postgresql":
        pytest.skip("SQLite connections are files in this process: nothing to ping")
    engine = make_engine(database_url, pool_size=1)
    pings = []
    real = engine.dialect.do_ping

    def do_ping(dbapi_connection):  # noqa: ANN001, ANN202
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", do_ping)
    yield engine, pings
    engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(counting_engine) -> None:  # noqa: ANN001
    engine, pings = counting_engine
    for _ in range(5):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    assert pings == []


def test_an_idle_connection_is_pinged_before_use(counting_engine, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    engine, pings = counting_engine
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    monkeypatch.setattr(db_module, "PING_AFTER", 0.0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert len(pings) == 1


def test_an_idle_connection_the_server_dropped_is_replaced(backend: str, database_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if backend != "postgresql":
        pytest.skip("needs a server that can drop a connection")
    engine = make_engine(database_url, pool_size=1)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
        monkeypatch.setattr(db_module, "PING_AFTER", 0.0)
        with engine.connect() as conn:  # the ping fails, the pool opens a new connection
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert second != first
    finally:
        engine.dispose()
        admin.dispose()


def test_single_statement_read_leaves_no_transaction_behind(backend: str, database_url: str) -> None:
    database = Database(make_engine(database_url, pool_size=1))
    try:
        with database.session() as session:
            single_statement_read(session)
            assert session.execute(text("SELECT 1")).scalar() == 1
            if backend == "postgresql":
                assert session.connection().connection.dbapi_connection.autocommit is True
        with database.session() as session:  # the same pooled connection, back to transactions
            session.execute(text("SELECT 1"))
            if backend == "postgresql":
                assert session.connection().connection.dbapi_connection.autocommit is False
                assert session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() "
                                            "AND backend_xid IS NULL AND xact_start IS NOT NULL")).scalar() == 1
    finally:
        database.dispose()


def test_single_statement_read_keeps_an_open_transaction(database_url: str) -> None:
    database = Database(make_engine(database_url, pool_size=1))
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
            single_statement_read(session)  # already in a transaction: nothing changes
            assert session.in_transaction()
            if database.engine.dialect.name == "postgresql":
                assert session.connection().connection.dbapi_connection.autocommit is False
    finally:
        database.dispose()
