"""Alembic environment for vetting.

The service passes an open connection in ``config.attributes["connection"]``; the `alembic`
command line instead reads ``sqlalchemy.url`` or the VETTING_DATABASE_URL environment variable.
SQLite runs in batch mode so that ALTER operations work.
"""

from __future__ import annotations

import os

from alembic import context

from vetting.db import make_engine
from vetting.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    return True


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include_object,
    )


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("VETTING_DATABASE_URL")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("VETTING_DATABASE_URL")
    if not url:
        raise SystemExit("set VETTING_DATABASE_URL (or sqlalchemy.url in alembic.ini) to run migrations")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
