"""Rehearsing a date: `VETTING_TODAY` and `vetting --as-of` set the service clock for every
session the application makes, the commands say so on stderr, and the long-running commands
refuse a rehearsal clock unless told otherwise."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import scratch_database, valid_uscc
from vetting import migrate
from vetting.app import create_app
from vetting.cli import main
from vetting.clock import FixedClock, parse_instant
from vetting.config import ConfigError, load_config
from vetting.db import Database, make_engine
from vetting.models import Enterprise, Identifier, Listing, ListingStatus
from vetting.resources import bundled_path
from vetting.services import accounts, assessments, listings
from vetting.services.actors import SystemActor
from vetting.services.setup import initialize
from vetting.web import request_session

SETUP = SystemActor("clock-tests")
CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]
EXPIRES_ON = date(2030, 1, 1)  # a black listing confirmed on 2027-01-01 runs 36 months
BANNER = "service clock: 2030-01-02T12:00:00+00:00 (rehearsal; not the system clock)"

needs_an_earlier_system_date = pytest.mark.skipif(
    date.today() > EXPIRES_ON, reason="the system date has passed the listing's expiry: the rehearsal proves nothing")


# ---------------------------------------------------------------------------------------------
# Reading the setting
# ---------------------------------------------------------------------------------------------

def test_a_date_means_noon_utc_and_a_time_without_offset_means_utc():
    assert parse_instant("2027-03-20") == datetime(2027, 3, 20, 12, 0, tzinfo=timezone.utc)
    assert parse_instant("2027-03-20T09:00:00Z") == datetime(2027, 3, 20, 9, 0, tzinfo=timezone.utc)
    assert parse_instant("2027-03-20T09:00") == datetime(2027, 3, 20, 9, 0, tzinfo=timezone.utc)
    assert parse_instant("2027-03-20T09:00:00+02:00") == datetime(2027, 3, 20, 7, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["2027-02-30", "soon", "20/03/2027", "2027-03-20 noon"])
def test_a_malformed_vetting_today_names_the_setting_and_the_form(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        load_config({"VETTING_INSTANCE_PATH": str(tmp_path)}, environ={"VETTING_TODAY": value})
    assert "VETTING_TODAY" in str(err.value) and "2027-03-20" in str(err.value) and repr(value) in str(err.value)


def _app(tmp_path: Path, **settings: str):  # noqa: ANN202
    return create_app({"VETTING_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
                       "VETTING_INSTANCE_PATH": str(tmp_path / "instance"), "VETTING_SECRET_KEY": "clock-tests", **settings})


def test_vetting_today_puts_every_session_of_the_app_on_a_fixed_clock(tmp_path):
    app = _app(tmp_path, VETTING_TODAY="2030-01-02")
    state = app.extensions["vetting"]
    assert isinstance(state.clock, FixedClock) and state.clock.now() == datetime(2030, 1, 2, 12, tzinfo=timezone.utc)
    with state.database.session() as session:  # as the commands, the jobs and the services open them
        assert session.info["clock"] is state.clock
    with app.test_request_context("/"):
        assert request_session().info["clock"] is state.clock
    state.database.dispose()


def test_without_vetting_today_sessions_read_the_system_clock(tmp_path):
    app = _app(tmp_path)
    state = app.extensions["vetting"]
    assert state.clock is None
    with state.database.session() as session:
        assert "clock" not in session.info
    state.database.dispose()


# ---------------------------------------------------------------------------------------------
# `vetting jobs run` on a rehearsed date, against a database of its own
# ---------------------------------------------------------------------------------------------

@dataclass
class Drill:
    env: dict[str, str]
    database: Database
    listing_id: int

    def run(self, *args: str, **env: str):  # noqa: ANN201
        return CliRunner().invoke(main, list(args), env={**self.env, **env})

    def status(self) -> ListingStatus:
        with self.database.session() as session:
            return session.scalar(select(Listing.status).where(Listing.id == self.listing_id))


def _black_listing(session) -> int:  # noqa: ANN001
    """An active black listing confirmed on 2027-01-01, built through the services on a fixed clock."""
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    session.info["clock"] = clock
    accounts.accredit_association(session, SETUP, code="CLK1", name="Clock Drill Guild", country="CN")
    reviewer = accounts.create_account(session, SETUP, email="reviewer@clock.example", role="reviewer",
                                       association_code="CLK1").account
    registrar = accounts.create_account(session, SETUP, email="registrar@clock.example", role="registrar").account
    enterprise = Enterprise(legal_name="Drill Harbour Works Co., Ltd.", country="CN", sector="infrastructure",
                            contact_email="compliance@harbour.example")
    enterprise.identifiers.append(Identifier(scheme="uscc", value=valid_uscc(970_001)))
    session.add(enterprise)
    session.commit()
    assessments.file_and_submit(session, reviewer, {
        "enterprise_id": enterprise.id, "conflict": {"declared": False},
        "scores": {code: {"score": 2, "evidence": EV} for code in CRITERIA},
        "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "description": "village cleared", "evidence": EV}]})
    proposal = listings.open_proposal(session, enterprise.id)
    if proposal.objection_deadline is None:  # the window opens when the notice reaches the enterprise
        listings.record_service(session, registrar, proposal.id, method="courier", served_on=date(2026, 12, 1),
                                note="courier receipt signed by the legal department")
    clock.at = datetime(2027, 1, 1, 10, 0, tzinfo=timezone.utc)
    active = listings.confirm(session, registrar, proposal.id)
    assert active.status is ListingStatus.ACTIVE and active.expires_on == EXPIRES_ON
    session.commit()
    return active.id


@pytest.fixture()
def drill(tmp_path: Path) -> Iterator[Drill]:
    with scratch_database(tmp_path, "clock") as url:
        database = Database(make_engine(url))
        try:
            initialize(database, bundled_path("seeds"), demo=False)
            with database.session() as session:
                listing_id = _black_listing(session)
            env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "instance"),
                   "VETTING_TODAY": "", "VETTING_SMTP_URL": ""}
            yield Drill(env, database, listing_id)
        finally:
            database.dispose()


@needs_an_earlier_system_date
def test_as_of_jobs_run_expires_a_listing_whose_term_ends_before_the_rehearsed_date(drill):
    today = drill.run("jobs", "run")
    assert today.exit_code == 0, today.output
    assert "expiry: {'expired': []}" in today.stdout and "service clock" not in today.output
    assert drill.status() is ListingStatus.ACTIVE

    rehearsed = drill.run("--as-of", "2030-01-02", "jobs", "run")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert f"expiry: {{'expired': [{drill.listing_id}]}}" in rehearsed.stdout
    assert drill.status() is ListingStatus.EXPIRED


@needs_an_earlier_system_date
def test_vetting_today_expires_the_listing_as_as_of_does(drill):
    result = drill.run("jobs", "run", VETTING_TODAY="2030-01-02")
    assert result.exit_code == 0, result.output
    assert f"expiry: {{'expired': [{drill.listing_id}]}}" in result.stdout
    assert drill.status() is ListingStatus.EXPIRED


@needs_an_earlier_system_date
def test_as_of_overrides_vetting_today(drill):
    earlier = drill.run("--as-of", "2029-12-31", "jobs", "run", VETTING_TODAY="2030-01-02")
    assert earlier.exit_code == 0, earlier.output
    assert "expiry: {'expired': []}" in earlier.stdout and drill.status() is ListingStatus.ACTIVE
    later = drill.run("--as-of", "2030-01-02T00:00:00Z", "jobs", "run", VETTING_TODAY="2029-12-31")
    assert later.exit_code == 0, later.output
    assert drill.status() is ListingStatus.EXPIRED


@needs_an_earlier_system_date
def test_the_rehearsal_banner_is_the_first_line_on_stderr(drill):
    result = drill.run("--as-of", "2030-01-02", "jobs", "run")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == BANNER
    assert BANNER not in result.stdout
    assert result.output.splitlines()[0] == BANNER  # before anything the command prints


# ---------------------------------------------------------------------------------------------
# Malformed values and refusals: one line, exit 2, nothing touched
# ---------------------------------------------------------------------------------------------

def _refused(result, *words: str) -> None:  # noqa: ANN001
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("service clock:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_malformed_as_of_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["--as-of", "2030-13-01", "jobs", "run"],
                                env={"VETTING_INSTANCE_PATH": str(tmp_path / "instance")})
    _refused(result, "--as-of", "2027-03-20", "2027-03-20T09:00:00Z", "'2030-13-01'")


def test_a_malformed_vetting_today_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["jobs", "run"],
                                env={"VETTING_INSTANCE_PATH": str(tmp_path / "instance"), "VETTING_TODAY": "next tuesday"})
    _refused(result, "VETTING_TODAY", "2027-03-20", "'next tuesday'")


@pytest.fixture()
def empty_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    with scratch_database(tmp_path, "refuse") as url:
        yield {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "instance"), "VETTING_TODAY": ""}


def _untouched(env: dict[str, str]) -> bool:
    engine = make_engine(env["VETTING_DATABASE_URL"])
    try:
        return migrate.current_revision(engine) is None
    finally:
        engine.dispose()


@pytest.mark.parametrize("how", ["--as-of", "VETTING_TODAY"])
def test_serve_refuses_a_rehearsal_clock_without_the_flag(empty_database, how):
    args, env = (["--as-of", "2030-01-02"], {}) if how == "--as-of" else ([], {"VETTING_TODAY": "2030-01-02"})
    result = CliRunner().invoke(main, [*args, "serve", "--port", "1"], env={**empty_database, **env})
    _refused(result, "rehearsal clock", "--allow-rehearsal-clock")
    assert result.stderr.splitlines()[0] == BANNER
    assert _untouched(empty_database)  # refused before `init` ran


def test_jobs_worker_refuses_a_rehearsal_clock(empty_database):
    result = CliRunner().invoke(main, ["--as-of", "2030-01-02", "jobs", "worker"], env=empty_database)
    _refused(result, "rehearsal clock", "jobs run")
    assert _untouched(empty_database)


@pytest.mark.slow
def test_serve_with_the_flag_answers_on_the_rehearsed_date(tmp_path):
    from tests.test_serve import _get, _serve, _stop

    with scratch_database(tmp_path, "serve") as url:
        env = {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true", "VETTING_TODAY": "2030-01-02"}
        proc, base, log = _serve(tmp_path, env, ["--allow-rehearsal-clock"])
        try:
            assert _get(base + "/healthz") == (200, {"status": "ok"})
            with urllib.request.urlopen(base + "/api/v1/enterprises/1", timeout=5) as resp:
                enterprise = json.loads(resp.read())
            assert enterprise["status"]["on"] == "2030-01-02"
        finally:
            output = _stop(proc, log)
    assert output.splitlines()[0] == BANNER, output
    assert "Traceback" not in output, output
