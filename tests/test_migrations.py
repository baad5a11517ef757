"""Migrations go up, down and up again on the backend under test, and agree with the models."""

import ast
import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import scratch_database
from vetting import migrate
from vetting.db import make_engine
from vetting.models import Base
from vetting.resources import bundled_path

VERSIONS = bundled_path("migrations") / "versions"


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, Base.metadata)


def test_up_down_up_and_models_agree(tmp_path):
    with scratch_database(tmp_path, "mig") as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
            assert _diff(engine) == []

            migrate.downgrade(engine, "base")
            assert migrate.current_revision(engine) is None
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

            migrate.upgrade(engine)
            assert migrate.current_revision(engine) == migrate.head_revision()
            assert _diff(engine) == []
        finally:
            engine.dispose()


def test_each_step_downgrades_and_reapplies(tmp_path):
    """Walk every revision: up one, down one, up one."""
    revisions = [rev for rev, _down, _title in migrate.history()]
    with scratch_database(tmp_path, "step") as url:
        engine = make_engine(url)
        try:
            for rev in revisions:
                migrate.upgrade(engine, rev)
                migrate.downgrade(engine, "-1")
                migrate.upgrade(engine, rev)
                assert migrate.current_revision(engine) == rev
        finally:
            engine.dispose()


def test_revision_files_follow_the_house_style():
    files = sorted(VERSIONS.glob("*.py"))
    assert files, "no migration files found"
    for path in files:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_[0-9a-z]+_[a-z0-9_]+\.py$", path.name), path.name
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        title = (ast.get_docstring(tree) or "").strip().splitlines()
        assert title and title[0], f"{path.name} has no docstring title"
        downgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade")
        body = [n for n in downgrade.body if not isinstance(n, ast.Pass) and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert body, f"{path.name} has an empty downgrade"


def test_history_is_linear():
    history = migrate.history()
    for (rev, down, _), (prev_rev, _, _) in zip(history[1:], history):
        assert down == prev_rev, f"{rev} does not follow {prev_rev}"
