"""First start: migrate to head and load the seeds, once.

``initialize`` reads and validates every seed file before touching the database, then migrates,
then loads what is missing in one transaction. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from vetting import migrate
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
            evaluated = evaluate_many(session, INIT_ACTOR, ids, trigger="init")
            result.report.decisions = evaluated.evaluated
            if progress:
                progress(f"{evaluated.evaluated} decisions")

    return result
