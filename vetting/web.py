"""Request-scoped plumbing shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from vetting.db import Database, begin_for_write


class AppState:
    """What the application factory builds once per app: the database and cached facts."""

    def __init__(self, database: Database, clock: Any = None) -> None:
        self.database = database
        self.clock = clock  # None: the system clock (see vetting.clock); tests inject a FixedClock
        self._head: str | None = None

    @property
    def head_revision(self) -> str | None:
        if self._head is None:
            from vetting.migrate import head_revision

            self._head = head_revision()
        return self._head


def state(app: Flask | None = None) -> AppState:
    return (app or current_app).extensions["vetting"]


#: The largest id a row can have (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


def ids_in_range(_endpoint: str | None, values: dict | None) -> None:
    """An id in a path (API or page) beyond what the database can store names nothing: 404,
    before the value reaches a query the database would refuse."""
    from vetting.errors import NotFound

    for name, value in (values or {}).items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound(f"no {name.removesuffix('_id').replace('_', ' ')} {value}")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def request_session() -> Session:
    """The session of the current request, closed when the request ends. A request that may
    write starts its transaction ready to write."""
    from flask import has_request_context, request

    if "db_session" not in g:
        g.db_session = state().database.session()
        if state().clock is not None:
            g.db_session.info["clock"] = state().clock
        if has_request_context() and request.method in WRITE_METHODS:
            begin_for_write(g.db_session)
    return g.db_session


def close_request_session(_exc: Any = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
