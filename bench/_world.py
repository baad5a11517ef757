"""What the load test and the restart drill share: a register to serve, an HTTP client that
times every call, and the record of the writes the server acknowledged.

``prepare(url)`` initialises the scratch database with the rulesets (``initialize``, no demo),
accredits a few associations, creates reviewer and registrar accounts with their bearer tokens
through the account service, registers generated enterprises through the enterprise service,
and files, on a clock standing 20 days in the past, three assessments each from three
associations for some of them: their decisions propose listings, each notice recorded as served
that day, whose 15-day objection window has already closed, so registrars can confirm them on
the live server.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from bench.names import generate
from vetting.clock import FixedClock
from vetting.db import Database, make_engine
from vetting.resources import bundled_path
from vetting.services import accounts as accounts_service
from vetting.services import assessments as assessments_service
from vetting.services import enterprises as enterprises_service
from vetting.services import listings as listings_service
from vetting.services.actors import SystemActor
from vetting.services.setup import initialize

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
ASSOCIATIONS = (("BCCA", "Bench Construction Contractors Association"), ("BPEC", "Bench Power and Energy Chamber"),
                ("BMIA", "Bench Mining Investors Association"), ("BRTA", "Bench Rail and Transport Association"))
SETUP = SystemActor("bench-setup")


@dataclass
class Reviewer:
    account_id: int
    association: str
    token: str


@dataclass
class World:
    reviewers: list[Reviewer]
    registrars: list[str]  # bearer tokens
    enterprises: list[int]  # every registered enterprise
    work: list[int]  # enterprises the reviewers assess during the run
    proposed: list[int]  # enterprises with a proposal whose objection window has closed
    usccs: list[str]
    names: list[str]  # names, Chinese names and aliases to search for
    setup_decisions: int = 0


def payload(rnd: random.Random, enterprise_id: int, level: str | None = None) -> dict[str, Any]:
    """A complete assessment: high scores with evidence (towards RED), low ones (towards BLACK),
    or a random mix."""
    scores = {}
    for code in CRITERIA:
        if level == "high":
            score = rnd.choice((3, 4))
        elif level == "low":
            score = rnd.choice((0, 1))
        else:
            score = rnd.randint(0, 4)
        entry: dict[str, Any] = {"score": score}
        if score >= 3 or rnd.random() < 0.7:
            entry["evidence"] = [{"kind": "document", "reference": f"bench report {code}"}]
        scores[code] = entry
    return {"enterprise_id": enterprise_id, "conflict": {"declared": False}, "summary": "bench assessment", "scores": scores}


def prepare(url: str, *, enterprises: int = 300, proposals: int = 40, seed: int = 1) -> World:
    db = Database(make_engine(url, pool_size=2))
    rnd = random.Random(seed)
    try:
        initialize(db, bundled_path("seeds"), demo=False)
        reviewers: list[Reviewer] = []
        registrars: list[str] = []
        registrar_ids: list[int] = []
        with db.session() as session:
            for code, name in ASSOCIATIONS:
                accounts_service.accredit_association(session, SETUP, code=code, name=name, country="CN")
            for code, _name in ASSOCIATIONS:
                for i in range(2):
                    made = accounts_service.create_account(session, SETUP, email=f"reviewer{i}@{code.lower()}.bench.example",
                                                           role="reviewer", association_code=code)
                    reviewers.append(Reviewer(made.account.id, code, made.token))
            for i in range(2):
                made = accounts_service.create_account(session, SETUP, email=f"registrar{i}@registry.bench.example", role="registrar")
                registrars.append(made.token)
                registrar_ids.append(made.account.id)
        generated = list(generate(enterprises, seed))
        ids: list[int] = []
        with db.session() as session:
            for i, ent in enumerate(generated):
                registered = enterprises_service.register(session, SETUP, {
                    "legal_name": ent.legal_name, "chinese_name": ent.chinese_name, "aliases": ent.aliases,
                    "identifiers": [{"scheme": "uscc", "value": ent.uscc}], "country": ent.country, "sector": ent.sector,
                    "contact_email": f"compliance{i}@enterprise.bench.example"})
                ids.append(registered.enterprise.id)
        proposed = ids[:proposals]
        decisions = 0
        past = FixedClock(datetime.now(timezone.utc) - timedelta(days=20))
        from vetting.models import Account, Listing, ListingStatus

        with db.session() as session:
            session.info["clock"] = past
            accounts = {r.account_id: session.get(Account, r.account_id) for r in reviewers}
            for n, enterprise_id in enumerate(proposed):
                level = "low" if n % 3 == 2 else "high"
                firsts = [r for r in reviewers if r.account_id % 2 == n % 2] or reviewers
                by_association = {r.association: r for r in firsts}
                for reviewer in list(by_association.values())[:3]:
                    assessments_service.file_and_submit(session, accounts[reviewer.account_id], payload(rnd, enterprise_id, level))
                    decisions += 1
                past.advance(minutes=1)
            # each notice was served (by post) the day its proposal was made
            registrar = session.get(Account, registrar_ids[0])
            for proposal in session.scalars(select(Listing).where(Listing.status == ListingStatus.PROPOSED).order_by(Listing.id)).all():
                listings_service.record_service(session, registrar, proposal.id, method="post", served_on=proposal.proposed_at.date(),
                                                note="bench: served by post the day it was proposed")
        names = [n for ent in generated for n in (ent.legal_name, ent.chinese_name, *ent.aliases) if n]
        return World(reviewers=reviewers, registrars=registrars, enterprises=ids, work=ids[proposals:], proposed=proposed,
                     usccs=[e.uscc for e in generated], names=names, setup_decisions=decisions)
    finally:
        db.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Call:
    label: str
    method: str
    started: float  # time.monotonic()
    seconds: float
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    error: str | None = None
    retry_after: str | None = None
    replayed: bool = False
    body: Any = None


class Client:
    """One keep-alive connection to the server (reopened after a failure), timing every call."""

    def __init__(self, port: int, log: "Log", token: str | None = None, timeout: float = 30) -> None:
        self.port, self.log, self.token, self.timeout = port, log, token, timeout
        self.conn: http.client.HTTPConnection | None = None

    def call(self, label: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             html: bool = False) -> Call:
        sent = {"Accept": "text/html" if html else "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        started = time.monotonic()
        t = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=sent)
            resp = self.conn.getresponse()
            raw = resp.read()
            seconds = time.perf_counter() - t
            parsed: Any = None
            if raw and resp.getheader("Content-Type", "").startswith("application/json"):
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
            call = Call(label, method, started, seconds, resp.status, retry_after=resp.getheader("Retry-After"),
                        replayed=resp.getheader("Idempotent-Replayed") == "true", body=parsed)
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            call = Call(label, method, started, time.perf_counter() - t, None, error=f"{type(exc).__name__}: {exc}")
        self.log.add(call)
        return call

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Log:
    """Every call, and every write the server acknowledged (a 2xx with the ids it returned)."""

    calls: list[Call] = field(default_factory=list)
    submitted: dict[int, int] = field(default_factory=dict)  # assessment id -> enterprise id
    drafts: set[int] = field(default_factory=set)
    amended: dict[int, int] = field(default_factory=dict)  # new assessment id -> the id it supersedes
    decisions: dict[int, int] = field(default_factory=dict)  # decision id -> enterprise id
    confirmed: set[int] = field(default_factory=set)  # listing ids
    replays: int = 0
    replay_mismatches: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def acknowledge(self, what: str, key: int, value: int | None = None) -> None:
        with self.lock:
            if what == "submitted":
                self.submitted[key] = value
            elif what == "draft":
                self.drafts.add(key)
            elif what == "amended":
                self.amended[key] = value
            elif what == "decision":
                self.decisions[key] = value
            elif what == "confirmed":
                self.confirmed.add(key)

    def by_label(self) -> dict[str, list[Call]]:
        out: dict[str, list[Call]] = defaultdict(list)
        for c in self.calls:
            out[c.label].append(c)
        return out


def check_acknowledged(engine: Any, log: Log) -> list[str]:
    """Every acknowledged write, looked up in the database; returns the problems found."""
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as conn:
        stored = {row[0]: (row[1], row[2], row[3]) for row in conn.execute(
            text("SELECT id, enterprise_id, status, supersedes_id FROM assessments"))}
        for assessment_id, enterprise_id in log.submitted.items():
            found = stored.get(assessment_id)
            if found is None:
                problems.append(f"acknowledged submission {assessment_id} is not in the database")
            elif found[0] != enterprise_id or found[1] not in ("submitted", "superseded", "withdrawn"):
                problems.append(f"acknowledged submission {assessment_id} is stored as {found}")
        for assessment_id in log.drafts:
            if assessment_id not in stored:
                problems.append(f"acknowledged draft {assessment_id} is not in the database")
        for new_id, old_id in log.amended.items():
            found = stored.get(new_id)
            if found is None or found[2] != old_id:
                problems.append(f"acknowledged amendment {new_id} of {old_id} is stored as {found}")
            elif stored.get(old_id, (None, None))[1] != "superseded":
                problems.append(f"assessment {old_id} was amended by {new_id} but is {stored.get(old_id)}")
        decisions = dict(conn.execute(text("SELECT id, enterprise_id FROM decisions")).all())
        for decision_id, enterprise_id in log.decisions.items():
            if decisions.get(decision_id) != enterprise_id:
                problems.append(f"acknowledged decision {decision_id} (enterprise {enterprise_id}) is stored as "
                                f"{decisions.get(decision_id)}")
        activated = {row[0] for row in conn.execute(text("SELECT listing_id FROM listing_events WHERE to_status = 'active'"))}
        confirms = dict(conn.execute(text("SELECT subject_id, count(*) FROM audit_events WHERE action = 'listing.confirm' "
                                          "GROUP BY subject_id")).all())
        for listing_id in log.confirmed:
            if listing_id not in activated:
                problems.append(f"acknowledged confirmation of listing {listing_id}: no transition to active is stored")
            if confirms.get(str(listing_id)) != 1:
                problems.append(f"acknowledged confirmation of listing {listing_id}: {confirms.get(str(listing_id), 0)} "
                                "listing.confirm audit events")
    return problems


def summarise(calls: list[Call], wall: float) -> dict[str, Any]:
    ok = [c.seconds for c in calls if c.status is not None and c.status < 500]
    return {"requests": len(calls), "rps": len(calls) / wall if wall else float("nan"),
            "p50": pct(ok, 50) * 1000, "p95": pct(ok, 95) * 1000, "p99": pct(ok, 99) * 1000,
            "2xx": sum(1 for c in calls if c.status is not None and 200 <= c.status < 300),
            "4xx": sum(1 for c in calls if c.status is not None and 400 <= c.status < 500),
            "5xx": sum(1 for c in calls if c.status is not None and c.status >= 500),
            "no_answer": sum(1 for c in calls if c.status is None)}
