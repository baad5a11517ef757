"""Faults injected on purpose, each against its own scratch database with real transactions: a
release killed by SIGKILL at random points, a release folder that runs out of space, two
registrars confirming one proposal at once, and one Idempotency-Key racing with itself."""

from __future__ import annotations

import errno
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import scratch_database, valid_uscc, serve_notice
from vetting.clock import FixedClock
from vetting.db import Database, make_engine
from vetting.models import (Account, Assessment, AuditEvent, Decision, Enterprise, Identifier, Listing, ListingEvent,
                            ListingStatus, Ruleset)
from vetting.models.types import ListType, Outcome, RulesetStatus
from vetting.publication import release, signing
from vetting.resources import bundled_path
from vetting.services.actors import SystemActor

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "inspection report"}]
SETUP = SystemActor("fault-tests")


# ---------------------------------------------------------------------------------------------
# A scratch register: migrated, the shipped rulesets, and what each fault needs.
# ---------------------------------------------------------------------------------------------

@pytest.fixture()
def scratch_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "faults") as url:
        engine = make_engine(url)
        try:
            from vetting.services.setup import initialize

            initialize(Database(engine), bundled_path("seeds"), demo=False)
        finally:
            engine.dispose()
        yield url


def _listed(url: str, count: int) -> None:
    """``count`` enterprises on the red or black list, written as rows (what the release reads),
    each with a decision, a confirmed listing and its transition."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            ruleset = s.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
            start = datetime(2026, 1, 4, 9, 0, tzinfo=timezone.utc)  # in force from then to 2029
            for n in range(count):
                black = n % 3 == 0
                ent = Enterprise(legal_name=f"Fault Drill Engineering Co., Ltd. {n}", chinese_name=f"演练工程有限公司{n}",
                                 country="CN", sector="infrastructure")
                ent.identifiers.append(Identifier(scheme="uscc", value=valid_uscc(900_000 + n)))
                s.add(ent)
                s.flush()
                decision = Decision(enterprise_id=ent.id, ruleset_id=ruleset.id,
                                    outcome=Outcome.BLACK if black else Outcome.RED,
                                    reason_codes=["FORCED_EVICTION"] if black else ["STRONG_PILLARS"],
                                    total_score=31.5 if black else 82.0,
                                    pillar_scores={"E": 30.0, "S": 25.0, "G": 40.0, "P": 31.0} if black else
                                    {"E": 80.0, "S": 85.0, "G": 79.0, "P": 84.0},
                                    document="{}", inputs="{}", input_hash="0" * 64, engine_version="fault-drill",
                                    trigger="fault-drill")
                s.add(decision)
                s.flush()
                confirmed = start + timedelta(hours=n)
                listing = Listing(enterprise_id=ent.id, list_type=ListType.BLACK if black else ListType.RED,
                                  status=ListingStatus.ACTIVE, decision_id=decision.id, reason_codes=decision.reason_codes,
                                  grounds=f"grounds of listing {n}, stated in full for the release", proposed_at=confirmed,
                                  objection_deadline=confirmed.date(), confirmed_at=confirmed,
                                  effective_from=confirmed.date(), expires_on=date(2029, 1, 4))
                listing.events.append(ListingEvent(at=confirmed, from_status=ListingStatus.PROPOSED,
                                                   to_status=ListingStatus.ACTIVE, reason="confirmed"))
                s.add(listing)
            s.commit()
    finally:
        engine.dispose()


def _child_env(url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(VETTING_DATABASE_URL=url, VETTING_INSTANCE_PATH=str(instance), VETTING_RELEASES_PATH=str(instance / "releases"),
               VETTING_SECRET_KEY="fault-tests", VETTING_DEMO="false")
    return env


CLI = [sys.executable, "-m", "vetting.cli"]


def _check_published(folder: Path, key: bytes) -> list[int]:
    """Every numbered folder is a whole, verifying release, numbered 1, 2, 3... without a gap or a
    repeat, each naming its predecessor."""
    found = release.numbers(folder)
    assert found == list(range(1, len(found) + 1)), found
    for number in found:
        report = release.verify(str(folder / str(number)), key)
        assert report.ok, (number, report.problems)
        index = release.manifest(folder, number)
        assert index["release"] == number and index["previous"] == (number - 1 if number > 1 else None)
    return found


def _leftovers(folder: Path) -> set[str]:
    return {p.name for p in folder.glob(".tmp-*")}


# ---------------------------------------------------------------------------------------------
# 1. A publisher killed at random points.
# ---------------------------------------------------------------------------------------------

#: A publisher as small as it can be: the configuration from the environment, the database, and
#: the publishing service the CLI, the API and the periodic job call (without the web
#: application, which would only lengthen each start).
PUBLISHER = """
from vetting.config import load_config
from vetting.db import Database
from vetting.services.actors import SystemActor
from vetting.services.releases import publish

config = load_config()
database = Database.from_config(config)
try:
    print(publish(database, config, SystemActor("fault-drill"), force=True).message)
finally:
    database.dispose()
"""


def test_a_publisher_killed_at_random_points_never_leaves_a_broken_or_skipped_release(scratch_url, tmp_path):
    _listed(scratch_url, 250)
    instance = tmp_path / "instance"
    env = _child_env(scratch_url, instance)
    folder = instance / "releases"
    rng = random.Random(20270301)

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", PUBLISHER], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def run_to_end() -> tuple[float, float]:
        """A whole run; returns (seconds until its build folder appeared, seconds in all)."""
        before = _leftovers(folder) if folder.exists() else set()
        started = time.monotonic()
        proc, appeared = spawn(), None
        while proc.poll() is None:
            if appeared is None and folder.exists() and _leftovers(folder) - before:
                appeared = time.monotonic() - started
            time.sleep(0.002)
        out = proc.stdout.read().decode()
        proc.stdout.close()
        assert proc.returncode == 0 and "published at" in out, out
        total = time.monotonic() - started
        return (appeared if appeared is not None else total), total

    first_build, first_total = run_to_end()
    key = signing.public_pem({"VETTING_INSTANCE_PATH": str(instance)})
    assert _check_published(folder, key) == [1]
    build_seconds = max(first_total - first_build, 0.01)

    # Kills at random moments from the start (importing, connecting, building or done), kills at
    # random moments after the build folder exists (the first of them at once), and a kill as
    # soon as the release folder appears (between the rename and the audit event).
    plans = [("from start", rng.uniform(0.0, first_total)) for _ in range(2)]
    plans += [("build", 0.0), ("build", rng.uniform(0.0, build_seconds))]
    plans += [("published", 0.0)]
    killed_mid_build = 0
    for when, delay in plans:
        before_numbers = release.numbers(folder)
        before_tmp = _leftovers(folder)
        proc = spawn()
        if when == "build":
            while proc.poll() is None and not (_leftovers(folder) - before_tmp):
                time.sleep(0.001)
        elif when == "published":
            while proc.poll() is None and release.numbers(folder) == before_numbers:
                time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        assert proc.returncode in (-signal.SIGKILL, 0), (when, delay, proc.returncode)
        after = _check_published(folder, key)
        if proc.returncode == 0:  # finished before the signal
            assert after == [*before_numbers, len(before_numbers) + 1]
        else:
            assert after in (before_numbers, [*before_numbers, len(before_numbers) + 1]), (when, delay, after)
            if when == "build" and delay == 0.0:
                killed_mid_build += 1
                assert after == before_numbers and len(_leftovers(folder) - before_tmp) == 1
    assert killed_mid_build == 1

    # What the killed builds left is fresh: it could be a live publisher's, so a run leaves it
    # alone and publishes beside it under the next number.
    fresh = _leftovers(folder)
    assert fresh
    numbers_before = release.numbers(folder)
    run_to_end()
    assert _check_published(folder, key) == [*numbers_before, len(numbers_before) + 1]
    assert _leftovers(folder) == fresh

    # Once stale (older than STALE_SECONDS), the next run removes them: here `vetting releases
    # publish` itself.
    old = time.time() - release.STALE_SECONDS - 60
    for name in fresh:
        os.utime(folder / name, (old, old))
    done = subprocess.run([*CLI, "releases", "publish", "--force"], env=env, capture_output=True, text=True, timeout=300)
    last = len(numbers_before) + 2
    assert done.returncode == 0 and f"release {last} published" in done.stdout, done.stdout + done.stderr
    assert _check_published(folder, key) == list(range(1, last + 1))
    assert _leftovers(folder) == set()


# ---------------------------------------------------------------------------------------------
# 2. The release folder runs out of space.
# ---------------------------------------------------------------------------------------------

class _FullDisk:
    """A file in a build folder on a device that fills up after ``room`` more bytes: the write
    that does not fit raises ENOSPC, as the kernel would."""

    def __init__(self, handle: Any, room: int) -> None:
        self._handle, self._room = handle, room

    def write(self, data: Any) -> int:
        size = len(data.encode("utf-8") if isinstance(data, str) else data)
        if size > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= size
        return self._handle.write(data)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _app_on(url: str, instance: Path):  # noqa: ANN202
    from vetting.app import create_app

    return create_app({"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(instance),
                       "VETTING_SECRET_KEY": "fault-tests", "VETTING_DEMO": False, "TESTING": True})


@pytest.mark.parametrize("full_at", [("listings.csv", 2000), ("delta.csv", 0), ("entities.ftm.json", 5000),
                                     ("index.json.sig", 0), ("SHA256SUMS", 0)])
def test_a_full_release_folder_is_named_and_leaves_the_previous_release_intact(scratch_url, tmp_path, monkeypatch, full_at):
    from vetting.cli import Context, main

    _listed(scratch_url, 40)
    instance = tmp_path / "instance"
    app = _app_on(scratch_url, instance)
    config = dict(app.config)
    folder = release.storage(config)
    key = signing.public_pem(config)

    def publish_cli() -> Any:
        context = Context()
        context._app = app
        return CliRunner().invoke(main, ["releases", "publish", "--force"], obj=context)

    first = publish_cli()
    assert first.exit_code == 0 and "release 1 published" in first.output, first.output
    before = {p.name: p.read_bytes() for p in (folder / "1").iterdir()}

    name, room = full_at
    real_open = io.open

    def open_on_a_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, os.PathLike)) and any(m in mode for m in "wax+"):
            path = Path(os.fspath(file))
            if path.name == name and path.parent.parent == folder and path.parent.name.startswith(".tmp-"):
                return _FullDisk(handle, room)
        return handle

    monkeypatch.setattr(io, "open", open_on_a_full_disk)
    full = publish_cli()
    monkeypatch.undo()
    assert full.exit_code != 0, full.output
    assert isinstance(full.exception, SystemExit), full.exception  # a message, not a traceback
    assert "Traceback" not in full.output
    assert "no space left" in full.output.lower() and str(folder) in full.output, full.output
    assert "release 2" in full.output, full.output
    assert release.numbers(folder) == [1] and _leftovers(folder) == set()
    assert {p.name: p.read_bytes() for p in (folder / "1").iterdir()} == before
    assert release.verify(str(folder / "1"), key).ok

    # Space is back: the next run publishes release 2, against release 1.
    again = publish_cli()
    assert again.exit_code == 0 and "release 2 published" in again.output, again.output
    assert _check_published(folder, key) == [1, 2] and _leftovers(folder) == set()


# ---------------------------------------------------------------------------------------------
# An application on a scratch database, for requests racing in threads: each request has its
# own connection and its own transactions, as in production.
# ---------------------------------------------------------------------------------------------

class Live:
    def __init__(self, app: Any, clock: FixedClock) -> None:
        self.app, self.clock = app, clock
        self.database = app.extensions["vetting"].database
        self.reviewers: list[tuple[Account, str]] = []
        self.registrars: list[tuple[Account, str]] = []

    def session(self) -> Session:
        s = self.database.session()
        s.info["clock"] = self.clock
        return s

    def race(self, requests: list[tuple[str, str, dict, dict[str, str]]]) -> list[tuple[int, Any, dict[str, str]]]:
        """Send every (method, path, body, headers) at the same moment, each from its own thread
        with its own client; the answers in the order given."""
        barrier = threading.Barrier(len(requests))
        answers: list[Any] = [None] * len(requests)

        def send(i: int, method: str, path: str, body: dict, headers: dict[str, str]) -> None:
            client = self.app.test_client()
            barrier.wait()
            try:
                resp = client.open(path, method=method, json=body, headers=headers)
                answers[i] = (resp.status_code, resp.get_json(), dict(resp.headers))
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                answers[i] = exc

        threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert all(isinstance(a, tuple) for a in answers), answers
        return answers


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture()
def live(scratch_url, tmp_path) -> Iterator[Live]:
    from vetting.app import create_app
    from vetting.services import accounts

    clock = FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc))
    app = create_app({"VETTING_DATABASE_URL": scratch_url, "VETTING_INSTANCE_PATH": str(tmp_path / "instance"),
                      "VETTING_SECRET_KEY": "fault-tests", "VETTING_DEMO": False, "VETTING_CLOCK": clock, "TESTING": True,
                      "VETTING_RATELIMIT_PUBLIC": "100000 per minute"})
    world = Live(app, clock)
    with world.session() as s:
        for n in range(3):
            accounts.accredit_association(s, SETUP, code=f"FLT{n}", name=f"Fault Drill Guild {n}", country="CN")
        for n in range(3):
            made = accounts.create_account(s, SETUP, email=f"reviewer{n}@guild.example", role="reviewer",
                                           association_code=f"FLT{n}")
            world.reviewers.append((made.account, made.token))
        for n in range(2):
            made = accounts.create_account(s, SETUP, email=f"registrar{n}@registry.example", role="registrar")
            world.registrars.append((made.account, made.token))
    yield world
    world.database.dispose()


def _enterprise(live: Live, n: int) -> int:
    with live.session() as s:
        ent = Enterprise(legal_name=f"Race Harbour Works Co., Ltd. {n}", country="CN", sector="infrastructure",
                         contact_email="compliance@harbour.example")
        ent.identifiers.append(Identifier(scheme="uscc", value=valid_uscc(950_000 + n)))
        s.add(ent)
        s.commit()
        return ent.id


# ---------------------------------------------------------------------------------------------
# 3. Two registrars confirming one proposal at the same moment, over the API.
# ---------------------------------------------------------------------------------------------

def test_two_registrars_confirming_one_proposal_at_once_over_http(live):
    from vetting.services import assessments, listings

    (first, first_token), (second, second_token) = live.registrars
    for round_ in range(3):
        enterprise_id = _enterprise(live, round_)
        with live.session() as s:
            reviewer = s.get(Account, live.reviewers[round_][0].id)
            body = {"enterprise_id": enterprise_id, "conflict": {"declared": False},
                    "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
                    "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]}
            assessments.file_and_submit(s, reviewer, body)
            proposal = listings.open_proposal(s, enterprise_id)
            serve_notice(s, s.get(Account, first.id), proposal)
            proposal_id, reference = proposal.id, proposal.reference
        live.clock.advance(days=16)  # the objection window has passed

        path = f"/api/v1/listings/{proposal_id}/confirm"
        answers = live.race([("POST", path, {}, _bearer(first_token)), ("POST", path, {}, _bearer(second_token))])
        assert sorted(status for status, _, _ in answers) == [200, 409], answers
        (won, listing, _), = [a for a in answers if a[0] == 200]
        (_, refused, _), = [a for a in answers if a[0] == 409]
        assert listing["id"] == proposal_id and listing["status"] == "active"
        assert refused["code"] == "conflict" and refused["conflicting_id"] == proposal_id
        assert reference in refused["message"] and "is active, not proposed" in refused["message"], refused

        with live.session() as s:
            active = s.scalars(select(Listing).where(Listing.enterprise_id == enterprise_id,
                                                     Listing.status == ListingStatus.ACTIVE)).all()
            assert [x.id for x in active] == [proposal_id]
            assert active[0].confirmed_by_id in (first.id, second.id)
            confirms = s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "listing.confirm", AuditEvent.subject_id == str(proposal_id)))
            assert confirms == 1
    with live.session() as s:
        from vetting.services import audit

        assert audit.verify(s).ok


# ---------------------------------------------------------------------------------------------
# 4. One Idempotency-Key sent by many requests at the same moment.
# ---------------------------------------------------------------------------------------------

def test_one_idempotency_key_racing_stores_one_assessment(live):
    reviewer, token = live.reviewers[0]
    enterprise_id = _enterprise(live, 10)
    racers = 8
    for round_ in range(3):
        key = f"draft-{round_}"
        body = {"enterprise_id": enterprise_id, "conflict": {"declared": False},
                "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA}, "summary": f"round {round_}"}
        answers = live.race([("POST", "/api/v1/assessments", body, _bearer(token, **{"Idempotency-Key": key}))] * racers)
        statuses = [status for status, _, _ in answers]
        assert set(statuses) <= {201, 409}, answers
        originals = [a for a in answers if a[0] == 201 and "Idempotent-Replayed" not in a[2]]
        assert len(originals) == 1, answers
        created = originals[0][1]
        for status, payload, headers in answers:
            if status == 201:
                assert payload == created  # the original, or its replay
            else:
                assert payload["code"] == "conflict" and "in progress" in payload["message"], payload

        with live.session() as s:
            stored = s.scalars(select(Assessment.id).where(Assessment.enterprise_id == enterprise_id)).all()
        assert len(stored) == round_ + 1 and created["id"] in stored  # one per key, never two

        # Once the first is done, a retry replays it, and the key with another body is refused.
        client = live.app.test_client()
        retry = client.post("/api/v1/assessments", json=body, headers=_bearer(token, **{"Idempotency-Key": key}))
        assert retry.status_code == 201 and retry.get_json() == created and retry.headers["Idempotent-Replayed"] == "true"
        other = client.post("/api/v1/assessments", json={**body, "summary": "another body"},
                            headers=_bearer(token, **{"Idempotency-Key": key}))
        assert other.status_code == 409 and "different request" in other.get_json()["message"], other.get_json()
        with live.session() as s:
            assert s.scalar(select(func.count()).select_from(Assessment).where(Assessment.enterprise_id == enterprise_id)) \
                == round_ + 1
