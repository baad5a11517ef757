"""Request-scoped plumbing shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from vetting.db import Database


class AppState:
    """What the application factory builds once per app: the database and cached facts."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._head: str | None = None

    @property
    def head_revision(self) -> str | None:
        if self._head is None:
            from vetting.migrate import head_revision

            self._head = head_revision()
        return self._head


def state(app: Flask | None = None) -> AppState:
    return (app or current_app).extensions["vetting"]


def request_session() -> Session:
    """The session of the current request, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = state().database.session()
    return g.db_session


def close_request_session(_exc: Any = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
