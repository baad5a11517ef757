"""`vetting init`: migrate and seed once; bad seeds stop it before anything is written."""

import shutil

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from tests.conftest import scratch_database
from vetting import migrate
from vetting.cli import main
from vetting.db import Base, Database, make_engine
from vetting.errors import SeedError
from vetting.models import AuditEvent
from vetting.resources import bundled_path
from vetting.services.setup import initialize

SEEDS = bundled_path("seeds")


def _snapshot(engine):
    """Row count of every table and the audit chain's last hash."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables if t.name in names}
        last = conn.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) if "audit_events" in names else None
    return counts, last, migrate.current_revision(engine)


def _broken_seeds(tmp_path, index=2):
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    path = target / "enterprises.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    record = data["enterprises"][index]
    value = record["identifiers"][0]["value"]
    record["identifiers"][0]["value"] = value[:-1] + ("1" if value[-1] != "1" else "2")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target, record["key"]


def test_init_loads_the_demo_once(tmp_path):
    with scratch_database(tmp_path, "init") as url:
        db = Database(make_engine(url))
        try:
            first = initialize(db, SEEDS, demo=True)
            assert first.changed and first.loaded_demo and first.loaded_rulesets
            assert first.report.associations == 5
            assert first.report.enterprises >= 50
            assert first.report.assessments >= 100
            assert len(first.report.credentials) == first.report.accounts
            before = _snapshot(db.engine)
            assert before[2] == migrate.head_revision()

            second = initialize(db, SEEDS, demo=True)
            assert not second.changed
            assert _snapshot(db.engine) == before
        finally:
            db.dispose()


def test_bad_uscc_stops_init_before_anything_is_written(tmp_path):
    seeds, key = _broken_seeds(tmp_path)
    with scratch_database(tmp_path, "bad") as url:
        db = Database(make_engine(url))
        try:
            with pytest.raises(SeedError) as err:
                initialize(db, seeds, demo=True)
            assert err.value.file == "seeds/enterprises.yaml"
            assert "record 3" in err.value.record and key in err.value.record
            assert "check digit" in err.value.problem
            assert migrate.current_revision(db.engine) is None
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        finally:
            db.dispose()


def test_bad_seed_after_a_good_init_changes_nothing(tmp_path):
    seeds, _key = _broken_seeds(tmp_path, index=0)
    with scratch_database(tmp_path, "bad2") as url:
        db = Database(make_engine(url))
        try:
            initialize(db, SEEDS, demo=True)
            before = _snapshot(db.engine)
            with pytest.raises(SeedError):
                initialize(db, seeds, demo=True)
            assert _snapshot(db.engine) == before
        finally:
            db.dispose()


def test_cli_init_reports_the_seed_problem(tmp_path):
    seeds, key = _broken_seeds(tmp_path, index=5)
    with scratch_database(tmp_path, "cli") as url:
        env = {
            "VETTING_DATABASE_URL": url,
            "VETTING_INSTANCE_PATH": str(tmp_path / "instance"),
            "VETTING_SEEDS_PATH": str(seeds),
        }
        result = CliRunner().invoke(main, ["init", "--demo"], env=env)
        assert result.exit_code == 2, result.output
        assert "seeds/enterprises.yaml" in result.output
        assert key in result.output and "check digit" in result.output
        assert "Traceback" not in result.output

        ok = CliRunner().invoke(main, ["init", "--demo"], env={**env, "VETTING_SEEDS_PATH": str(SEEDS)})
        assert ok.exit_code == 0, ok.output
        assert "demo data loaded" in ok.output and "token vt_" in ok.output
        again = CliRunner().invoke(main, ["init", "--demo"], env={**env, "VETTING_SEEDS_PATH": str(SEEDS)})
        assert again.exit_code == 0 and "nothing to do" in again.output
        engine = make_engine(url)
        try:
            # The SQLite file or database is closed by the CLI's app; nothing left half-written.
            assert migrate.current_revision(engine) == migrate.head_revision()
        finally:
            engine.dispose()
