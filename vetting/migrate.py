"""Schema migrations, driven through Alembic with a configuration built in code.

The same functions serve `vetting db ...`, `vetting init`, `/readyz` and the tests, so there is
one way to bring a database to the head revision.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from vetting.resources import bundled_path


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(bundled_path("migrations")))
    config.set_main_option("sqlalchemy.url", "")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, title) from base to head."""
    script = ScriptDirectory.from_config(alembic_config())
    return [
        (rev.revision, rev.down_revision if isinstance(rev.down_revision, str) or rev.down_revision is None else ",".join(rev.down_revision), (rev.doc or "").strip())
        for rev in reversed(list(script.walk_revisions()))
    ]
