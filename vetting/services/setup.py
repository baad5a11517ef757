"""First start: migrate to head and load the seeds, once.

``initialize`` reads and validates every seed file before touching the database, then migrates,
then loads what is missing in one transaction. Running it again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vetting import clock, migrate
from vetting.db import Database
from vetting.models import Association, Enterprise, Ruleset
from vetting.services.actors import SystemActor
from vetting.services.evaluation import evaluate_many
from vetting.services.seeding import SeedReport, apply_demo, apply_rulesets, read_seeds

INIT_ACTOR = SystemActor("init")


@dataclass
class InitResult:
    revision_before: str | None
    revision_after: str | None
    loaded_rulesets: bool = False
    loaded_demo: bool = False
    report: SeedReport = field(default_factory=SeedReport)

    @property
    def changed(self) -> bool:
        return self.revision_before != self.revision_after or self.loaded_rulesets or self.loaded_demo


def initialize(database: Database, seeds_path: Path, *, demo: bool,
               progress: Callable[[str], None] | None = None) -> InitResult:
    bundle = read_seeds(Path(seeds_path), demo=demo)
    before = migrate.current_revision(database.engine)
    if before != migrate.head_revision():
        migrate.upgrade(database.engine)
    result = InitResult(revision_before=before, revision_after=migrate.current_revision(database.engine))
    with database.session() as session, session.begin():
        if session.scalar(select(func.count()).select_from(Ruleset)) == 0:
            apply_rulesets(session, INIT_ACTOR, bundle, result.report)
            result.loaded_rulesets = True
        if demo and session.scalar(select(func.count()).select_from(Association)) == 0:
            apply_demo(session, INIT_ACTOR, bundle, result.report, progress)
            result.loaded_demo = True
            ids = session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()
            from vetting.services.search import index_enterprises

            index_enterprises(session, list(ids))
    with database.session() as session:
        if not result.loaded_demo and _index_missing(session):  # a register from before the stored name forms
            from vetting.services.search import reindex

            reindex(session)
    if result.loaded_demo:
        with database.session() as session:
            result.report.decisions, result.report.listings = _demo_history(session)
        if progress:
            progress(f"{result.report.decisions} decisions, {result.report.listings} listings confirmed")
    return result


def _index_missing(session: Session) -> bool:
    from vetting.models import NameForms

    return (session.scalar(select(func.count()).select_from(NameForms)) == 0
            and session.scalar(select(func.count()).select_from(Enterprise)) > 0)


def _demo_history(session: Session) -> tuple[int, int]:
    """Give the demo a past: each enterprise is evaluated when its last assessment came in (the
    demo's dates end a few days before today), and every proposal whose objection window has
    closed since was confirmed the day after by a demo registrar (each notice recorded as handed
    over on the day of its proposal). Proposals still inside their window stay open. Returns (decisions, listings confirmed); commits."""
    from vetting.clock import FixedClock
    from vetting.models import Account, Assessment, Listing, ListingStatus, Role
    from vetting.services import listings

    system_now = clock.now(session)
    outer_clock = session.info.get("clock")
    last = session.execute(select(Assessment.enterprise_id, func.max(Assessment.submitted_at))
                           .group_by(Assessment.enterprise_id)).all()
    by_time: dict = defaultdict(list)
    for enterprise_id, at in last:
        by_time[min(at, system_now)].append(enterprise_id)
    unassessed = session.scalars(select(Enterprise.id).where(Enterprise.id.not_in([e for e, _at in last]))).all()
    if unassessed:
        by_time[system_now] += list(unassessed)
    decisions = 0
    try:
        for at in sorted(by_time):
            session.info["clock"] = FixedClock(at + timedelta(hours=1) if at < system_now else at)
            decisions += evaluate_many(session, INIT_ACTOR, sorted(by_time[at]), trigger="init").evaluated
            session.commit()
        registrar = session.scalar(select(Account).where(Account.role == Role.REGISTRAR).order_by(Account.id))
        confirmed = 0
        for proposal in session.scalars(select(Listing).where(Listing.status == ListingStatus.PROPOSED)
                                        .order_by(Listing.proposed_at, Listing.id)).all():
            if registrar is None:
                continue
            # the demo enterprises' notices were handed over on the day of the proposal
            session.info["clock"] = FixedClock(proposal.proposed_at)
            listings.record_service(session, registrar, proposal.id, method="other", served_on=proposal.proposed_at.date(),
                                    note="demo data: the notice was handed to the enterprise when the proposal was made")
        for proposal in session.scalars(select(Listing).where(Listing.status == ListingStatus.PROPOSED)
                                        .order_by(Listing.objection_deadline, Listing.id)).all():
            day = proposal.objection_deadline + timedelta(days=1)
            if registrar is None or day > system_now.date():
                continue
            session.info["clock"] = FixedClock(datetime.combine(day, time(10, 0), tzinfo=timezone.utc))
            listings.confirm(session, registrar, proposal.id)
            confirmed += 1
    finally:
        session.info.pop("clock", None)
        if outer_clock is not None:
            session.info["clock"] = outer_clock
    from vetting.services.search import refresh_token_stats

    refresh_token_stats(session)
    session.commit()
    return decisions, confirmed
