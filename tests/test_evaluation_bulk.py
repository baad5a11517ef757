"""Bulk evaluation: the facts read per batch and the decisions stored per batch are exactly those
of the one-by-one paths, on every backend, and a failed batch stores nothing."""

import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import JSON, Text, cast, func, insert, select, text, update

from tests.conftest import scratch_database
from vetting import rules
from vetting.clock import FixedClock
from vetting.db import Database, make_engine
from vetting.models import (
    Assessment,
    CriterionScore,
    Decision,
    Enterprise,
    EvidenceReference,
    KnockoutFinding,
    Listing,
    ListingStatus,
    Membership,
)
from vetting.resources import bundled_path
from vetting.services import evaluation, listings
from vetting.services.actors import SystemActor
from vetting.services.setup import initialize

ACTOR = SystemActor("test")
AT = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    """The demo register, with facts of every shape added: withdrawn, superseded and draft
    assessments, undeclared conflicts, knock-out findings with and without evidence, evidence
    on criteria that were not scored and on nothing, n/a scores, ended memberships."""
    tmp = tmp_path_factory.mktemp("bulk")
    with scratch_database(tmp, "bulk") as url:
        db = Database(make_engine(url))
        initialize(db, bundled_path("seeds"), demo=True)
        rnd = random.Random(7)
        with db.session() as s:
            a_ids = s.scalars(select(Assessment.id).order_by(Assessment.id)).all()
            for aid in rnd.sample(a_ids, len(a_ids) // 6):
                s.execute(update(Assessment).where(Assessment.id == aid).values(status=rnd.choice(["withdrawn", "superseded", "draft"])))
            for aid in rnd.sample(a_ids, len(a_ids) // 8):
                s.execute(update(Assessment).where(Assessment.id == aid).values(conflict_declared=rnd.choice([None, True])))
            for aid in rnd.sample(a_ids, len(a_ids) // 5):
                s.execute(update(Assessment).where(Assessment.id == aid).values(
                    submitted_at=datetime(2026, 5, 4, 3, 2, 1, rnd.choice([1, 120000, 999999]), tzinfo=timezone.utc)))
            for aid in rnd.sample(a_ids, len(a_ids) // 4):
                for code in rnd.sample(["KO1", "KO2", "KO3", "SANCTIONS"], rnd.randint(1, 3)):
                    fid = s.scalar(insert(KnockoutFinding).values(
                        assessment_id=aid, code=code, status=rnd.choice(["confirmed", "alleged"]),
                        description=rnd.choice(["", "déscription ü 中文", "x"])).returning(KnockoutFinding.id))
                    for _ in range(rnd.randint(0, 3)):
                        s.execute(insert(EvidenceReference).values(
                            assessment_id=aid, finding_id=fid, kind=rnd.choice(["document", "site_visit"]),
                            reference=rnd.choice(["same ref", f"ref {rnd.random()}", 'quote " and \\ backslash, {brace}'])))
            for aid in rnd.sample(a_ids, len(a_ids) // 2):
                for _ in range(rnd.randint(1, 4)):
                    s.execute(insert(EvidenceReference).values(
                        assessment_id=aid, criterion=rnd.choice(["E1", "S3", "G5", "P2", "ZZ", None]),
                        kind=rnd.choice(["document", "audit_report"]),
                        reference=rnd.choice(["same ref", f"ref {rnd.random()}", "multi\nline\ttab", "中文参考"])))
            for sid in rnd.sample(s.scalars(select(CriterionScore.id)).all(), 100):
                s.execute(update(CriterionScore).where(CriterionScore.id == sid).values(score=None, justification="n/a: no site"))
            for mid in rnd.sample(s.scalars(select(Membership.id)).all(), 10):
                s.execute(update(Membership).where(Membership.id == mid).values(ended_on=func.current_date()))
            s.commit()
        yield db
        db.dispose()


def _enterprise_ids(session):
    return session.scalars(select(Enterprise.id).order_by(Enterprise.id)).all()


def _stored(session, ids):
    """Every column of the given decisions but id, JSON as the text the database holds."""
    table = Decision.__table__
    columns = [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.c if c.name != "id"]
    return [tuple(r) for r in session.execute(select(*columns).where(table.c.id.in_(ids)).order_by(table.c.id))]


def test_facts_are_those_of_the_row_by_row_queries(register, monkeypatch):
    with register.session() as s:
        ids = _enterprise_ids(s)
        facts = evaluation.load_facts(s, ids)
        monkeypatch.setattr(evaluation, "_aggregates_scores", lambda session: False)
        for batch in (ids, ids[::-1], ids[:1], []):
            expected = evaluation.load_facts(s, batch)
            got = {k: facts[k] for k in batch}
            assert list(got) == list(expected)
            assert all(repr(got[k]) == repr(expected[k]) and got[k] == expected[k] for k in batch)
        assert any(a.knockouts and any(k.evidence for k in a.knockouts) for f in facts.values() for a in f.assessments)
        assert any(s.score is None for f in facts.values() for a in f.assessments for s in a.scores)


def test_facts_of_a_few_enterprises_read_in_one_statement_are_those_of_the_row_by_row_queries(register, monkeypatch):
    with register.session() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: other databases read a few enterprises as they read many")
        ids = _enterprise_ids(s)
        calls = []
        real = evaluation._load_few
        monkeypatch.setattr(evaluation, "_load_few", lambda *a: calls.append(1) or real(*a))
        few = [batch for size in (1, 3, evaluation._FEW) for batch in (ids[i:i + size] for i in range(0, len(ids), size))]
        got = [evaluation.load_facts(s, batch) for batch in few]
        assert len(calls) == len(few)
        monkeypatch.setattr(evaluation, "_aggregates_scores", lambda session: False)
        for batch, facts in zip(few, got):
            expected = evaluation.load_facts(s, batch)
            assert list(facts) == list(expected)
            assert all(repr(facts[k]) == repr(expected[k]) and facts[k] == expected[k] for k in batch)
        flat = [f for facts in got for f in facts.values()]
        assert any(f.projects for f in flat) and any(f.member_associations for f in flat)
        assert any(a.submitted_at and "." in a.submitted_at for f in flat for a in f.assessments)
        assert any(a.knockouts and any(k.evidence for k in a.knockouts) for f in flat for a in f.assessments)


def test_bulk_decisions_are_stored_as_one_by_one(register):
    with register.session() as s:
        s.info["clock"] = FixedClock(AT)
        ids = _enterprise_ids(s)
        one_by_one = [evaluation.evaluate_enterprise(s, ACTOR, e, trigger="check").id for e in ids]
        first = s.scalar(select(func.max(Decision.id)))
        result = evaluation.evaluate_many(s, ACTOR, ids, trigger="check", batch=7)
        s.flush()
        bulk = s.scalars(select(Decision.id).where(Decision.id > first).order_by(Decision.id)).all()
        assert result.evaluated == len(bulk) == len(ids)
        assert [r[0] for r in _stored(s, bulk)] == ids  # one per enterprise, ids in order
        assert _stored(s, bulk) == _stored(s, one_by_one)
        s.rollback()


def test_bulk_proposes_what_each_decision_calls_for(register):
    with register.session() as s:
        s.info["clock"] = FixedClock(AT)
        ids = _enterprise_ids(s)
        evaluation.evaluate_many(s, ACTOR, ids, trigger="check", batch=5)
        for e in ids:
            decision = evaluation.latest_decision(s, e)
            active = listings.active_listing(s, e)
            proposal = listings.open_proposal(s, e)
            wanted = listings.called_for(decision.outcome.value, active.list_type if active else None)
            assert (None if proposal is None else (proposal.kind, proposal.list_type)) == wanted
            if proposal is not None and proposal.proposed_at == AT:
                assert proposal.decision_id == decision.id
        proposed = s.scalar(select(func.count()).select_from(Listing).where(Listing.status == ListingStatus.PROPOSED))
        # A second run proposes nothing new: every open proposal is still what is called for.
        evaluation.evaluate_many(s, ACTOR, ids, trigger="check", batch=5)
        assert s.scalar(select(func.count()).select_from(Listing).where(Listing.status == ListingStatus.PROPOSED)) == proposed
        s.rollback()


def test_a_failed_batch_leaves_nothing_stored(register, monkeypatch):
    with register.session() as s:
        before = s.scalar(select(func.count()).select_from(Decision))
        ids = _enterprise_ids(s)
        real, calls = rules.evaluate, []

        def failing(ruleset, facts):
            calls.append(facts.enterprise_id)
            if len(calls) > 20:
                raise RuntimeError("engine failure")
            return real(ruleset, facts)

        monkeypatch.setattr(rules, "evaluate", failing)
        assert len(ids) > 20
        with pytest.raises(RuntimeError):  # in the third batch, after two were stored
            evaluation.evaluate_many(s, ACTOR, ids, trigger="check", batch=7)
        s.rollback()
    with register.session() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == before


def test_decision_text_is_compressed_with_lz4_on_postgresql(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    if not session.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")):
        pytest.skip("server built without lz4")
    methods = dict(session.execute(text(
        "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'decisions'::regclass AND attname IN ('document', 'inputs')")).all())
    assert methods == {"document": "l", "inputs": "l"}
