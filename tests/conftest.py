"""Test fixtures: one database per test session, migrated with Alembic, and a savepoint rolled
back after every test.

The suite runs on SQLite by default and on PostgreSQL when VETTING_TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): a fresh database is created next to
the given one for the session and dropped at the end, so runs never see each other's data.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from vetting.db import Database, make_engine
from vetting.resources import bundled_path

TEST_URL_ENV = "VETTING_TEST_DATABASE_URL"

# Property tests explore at random while developing; in CI they run a fixed set of examples,
# so a run is reproducible and cannot fail by chance.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")


@contextlib.contextmanager
def scratch_database(tmp_dir: Path, label: str = "t") -> Iterator[str]:
    """Yield the URL of a new empty database on the backend under test; drop it afterwards."""
    base = os.environ.get(TEST_URL_ENV)
    if not base:
        path = tmp_dir / f"{label}-{uuid.uuid4().hex[:8]}.sqlite3"
        yield f"sqlite:///{path}"
        return
    url = make_url(base)
    name = f"{url.database}_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if os.environ.get(TEST_URL_ENV) else "sqlite"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("db"), "session") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The session's engine, migrated to head and loaded with the shipped rulesets."""
    from vetting.services.setup import initialize

    eng = make_engine(database_url)
    initialize(Database(eng), bundled_path("seeds"), demo=False)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
        if "tampers_with_audit" not in request.keywords:
            # Whatever the test did, the audit chain it leaves behind must still verify.
            from vetting.services import audit

            with Session(bind=conn, join_transaction_mode="create_savepoint") as check:
                report = audit.verify(check)
            assert report.ok, f"audit chain broken after the test: {report.problem}"
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that join the test's transaction through savepoints: a service's commit
    releases a savepoint, and everything is rolled back when the test ends."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture()
def app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path):  # noqa: ANN201
    from vetting.app import create_app

    database = Database(engine)
    database.sessionmaker = session_factory
    application = create_app(
        {
            "VETTING_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "VETTING_INSTANCE_PATH": str(tmp_path / "instance"),
            "VETTING_SECRET_KEY": "test-secret-key",
            "VETTING_DATABASE": database,
            "TESTING": True,
        }
    )
    return application


@pytest.fixture()
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


# ---------------------------------------------------------------------------------------------
# Factories: each returns a callable that creates one flushed row with sensible defaults.
# ---------------------------------------------------------------------------------------------

_seq = itertools.count(1)


def valid_uscc(n: int | None = None) -> str:
    """A syntactically valid, made-up USCC (check character computed by python-stdnum)."""
    import stdnum.cn.uscc as uscc

    number = n if n is not None else next(_seq)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = ""
    value = number * 7919 + 104729
    for _ in range(9):
        body += alphabet[value % 31]
        value //= 31
    base = "91440300" + body
    return base + uscc.calc_check_digit(base)


@pytest.fixture()
def make_association(session: Session) -> Callable[..., Any]:
    from vetting.models import Association

    def _make(**kw: Any) -> Association:
        n = next(_seq)
        assoc = Association(code=kw.pop("code", f"AS{n}"), name=kw.pop("name", f"Association {n}"),
                            country=kw.pop("country", "CN"), **kw)
        session.add(assoc)
        session.flush()
        return assoc

    return _make


@pytest.fixture()
def make_account(session: Session, make_association: Callable[..., Any]) -> Callable[..., Any]:
    from vetting.models import Account, Role

    def _make(role: str = "reviewer", **kw: Any) -> Account:
        n = next(_seq)
        role_v = Role(role)
        if role_v is not Role.REGISTRAR and "association" not in kw:
            kw["association"] = make_association()
        account = Account(email=kw.pop("email", f"user{n}@example.org"), display_name=kw.pop("display_name", f"User {n}"),
                          role=role_v, **kw)
        session.add(account)
        session.flush()
        return account

    return _make


@pytest.fixture()
def make_enterprise(session: Session) -> Callable[..., Any]:
    from vetting.models import Enterprise, Identifier

    def _make(**kw: Any) -> Enterprise:
        n = next(_seq)
        uscc = kw.pop("uscc", valid_uscc(n))
        ent = Enterprise(legal_name=kw.pop("legal_name", f"Test Engineering Co., Ltd. {n}"),
                         country=kw.pop("country", "CN"), sector=kw.pop("sector", "infrastructure"), **kw)
        if uscc:
            ent.identifiers.append(Identifier(scheme="uscc", value=uscc))
        session.add(ent)
        session.flush()
        return ent

    return _make


# ---------------------------------------------------------------------------------------------
# A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives.
# ---------------------------------------------------------------------------------------------

class SmtpInbox:
    """An aiosmtpd handler keeping (sender, recipients, message) of each delivery."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}?from=notices@vetting.example"
    controller.stop()


@pytest.fixture()
def clock(app, session):
    """A fixed clock (2027-03-01 09:00 UTC) for the app and the test's session; a test
    advances it. Files that need another starting time define their own."""
    from datetime import datetime, timezone

    from vetting.clock import FixedClock

    fixed = FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc))
    app.extensions["vetting"].clock = fixed
    session.info["clock"] = fixed
    yield fixed
    app.extensions["vetting"].clock = None
    session.info.pop("clock", None)


#: The password of every account made by ``person``.
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def person(session, make_account):
    """Make an account (any role) that can sign in with ``PASSWORD``."""
    from vetting.services.accounts import hash_password

    def _make(role="reviewer", **kw):  # noqa: ANN001, ANN003, ANN202
        account = make_account(role, **kw)
        account.password_hash = hash_password(PASSWORD)
        session.flush()
        return account

    return _make


def serve_notice(session, registrar, listing, email=None):  # noqa: ANN001, ANN201
    """Record, as ``registrar``, that ``listing``'s notice reached the enterprise today by
    courier (``email``, if given, may then object): the objection window opens today."""
    from vetting import clock as service_clock
    from vetting.services import listings

    return listings.record_service(session, registrar, listing.id, method="courier", served_on=service_clock.today(session),
                                   note="courier receipt signed by the enterprise's legal department", contact_email=email)
