"""Due process holds under any sequence of ordinary actions.

A Hypothesis state machine drives the real services — filings, withdrawals, amendments,
membership declarations and ends, notices served, objections and repairs filed and decided,
confirmations, revocations, a merge, ruleset activations, re-evaluations, the expiry job — and
moves the service clock. After every step it checks the promises the register makes:

- no enterprise is ever on both lists;
- nothing takes effect without a delivered or recorded notice and a passed objection window;
- every assessment keeps the standing the memberships gave it on its submission day, so no
  outcome depends on a membership ended after the assessments it counts;
- an upheld objection or granted repair is not proposed again without new evidence;
- the status on any past day is what the listings' dates say, and does not change afterwards;
- every stored decision replays byte-identically;
- the audit chain verifies.

Each example runs inside a savepoint of the test's transaction and is rolled back at its end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting.clock import FixedClock
from vetting.errors import DomainError
from vetting.models import (
    Account,
    Assessment,
    AssessmentStatus,
    Association,
    Decision,
    Enterprise,
    Listing,
    ListingEvent,
    ListingStatus,
    Objection,
    RepairRequest,
    RequestStatus,
    Role,
    Ruleset,
)
from vetting.services import assessments, audit, decisions, enterprises, evaluation, listings, memberships, rulesets
from vetting.services.actors import SystemActor

CRITERIA = "E1 E2 E3 E4 S1 S2 S3 S4 S5 G1 G2 G3 G4 G5 P1 P2 P3 P4 P5".split()
EV = [{"kind": "document", "reference": "site inspection report"}]
START = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
KNOCKOUTS = (None, None, None, "FORCED_EVICTION", "FORCED_LABOUR")
JOBS = SystemActor("jobs")


class DueProcess(RuleBasedStateMachine):
    """One register: three associations (two reviewers in the first), two registrars, three
    enterprises; the state machine's own record of membership periods is the reference the
    stored standings are held to."""

    connection = None  # set by the test: the test's connection, whose transaction is rolled back

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = self.connection.begin_nested()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        self.clock = FixedClock(START)
        self.session.info["clock"] = self.clock
        self.frozen: dict[tuple[int, date], tuple] = {}  # (enterprise, past day) -> the status answered for it
        self.replayed: set[int] = set()
        self.periods: dict[tuple[int, int], list[list[date | None]]] = {}  # (association, enterprise) -> [[from, until)]
        self.merged = False

    def teardown(self) -> None:
        self.session.close()
        self.savepoint.rollback()

    # -- the world ------------------------------------------------------------------------------

    def build(self) -> None:
        s = self.session
        self.associations = [Association(code=f"SQ{n}", name=f"Sequence guild {n}", country="CN") for n in range(3)]
        s.add_all(self.associations)
        s.flush()
        self.reviewers = [Account(email=f"rev{n}@seq.example", display_name=f"Reviewer {n}", role=Role.REVIEWER,
                                  association=self.associations[a]) for n, a in enumerate((0, 0, 1, 2))]
        self.admins = [Account(email=f"admin{n}@seq.example", display_name=f"Admin {n}", role=Role.ASSOCIATION_ADMIN,
                               association=assoc) for n, assoc in enumerate(self.associations)]
        self.registrars = [Account(email=f"reg{n}@seq.example", display_name=f"Registrar {n}", role=Role.REGISTRAR) for n in range(2)]
        self.enterprises = [Enterprise(legal_name=f"Sequence Engineering Co., Ltd. {n}", country="CN", sector="infrastructure",
                                       contact_email=f"legal{n}@seq.example") for n in range(3)]
        s.add_all(self.reviewers + self.admins + self.registrars + self.enterprises)
        s.flush()
        s.commit()

    @initialize(red=st.booleans(), black=st.booleans())
    def history(self, red, black) -> None:  # noqa: ANN001
        """Start, some of the time, from a register with a past: the first enterprise on the red
        list, the second proposed for the black list on a knock-out."""
        if not hasattr(self, "enterprises"):
            self.build()
        if red:
            for reviewer in self.reviewers[1:]:
                self._do(assessments.file_and_submit, reviewer, {"enterprise_id": self.enterprises[0].id, "conflict": {"declared": False},
                                                                 "scores": {c: {"score": 4, "evidence": EV} for c in CRITERIA}})
            proposal = listings.open_proposal(self.session, self.enterprises[0].id)
            self._do(listings.record_service, self.registrars[0], proposal.id, method="post", served_on=self._today(), note="signed")
            self.clock.advance(days=16)
            self._do(listings.confirm, self.registrars[1], proposal.id)
        if black:
            self._do(assessments.file_and_submit, self.reviewers[0], {
                "enterprise_id": self.enterprises[1].id, "conflict": {"declared": False},
                "scores": {c: {"score": 2, "evidence": EV} for c in CRITERIA},
                "knockouts": [{"code": "FORCED_EVICTION", "status": "confirmed", "evidence": EV}]})

    def _do(self, call, *args, **kwargs):  # noqa: ANN001, ANN202
        """Run one service call; a refusal (a domain error) rolls back and changes nothing."""
        try:
            done = call(self.session, *args, **kwargs)
        except DomainError:
            self.session.rollback()
            event(f"refused: {call.__name__}")
            return None
        event(f"done: {call.__name__}")
        return done

    def _today(self) -> date:
        return self.clock.now().date()

    def _live_enterprises(self) -> list[Enterprise]:
        return [e for e in self.enterprises if self.session.get(Enterprise, e.id).merged_into_id is None]

    # -- filings --------------------------------------------------------------------------------

    @rule(data=st.data(), score=st.integers(0, 4), knockout=st.sampled_from(KNOCKOUTS), conflict=st.booleans())
    def file(self, data, score, knockout, conflict) -> None:  # noqa: ANN001
        enterprise = data.draw(st.sampled_from(self._live_enterprises()))
        reviewer = data.draw(st.sampled_from(self.reviewers))
        body = {"enterprise_id": enterprise.id, "conflict": {"declared": conflict and score == 4},
                "scores": {c: {"score": score, "evidence": EV} for c in CRITERIA}}
        if knockout:
            body["knockouts"] = [{"code": knockout, "status": "confirmed", "description": "seen on site", "evidence": EV}]
        filed = self._do(assessments.file_and_submit, reviewer, body)
        if filed is not None:
            self._check_standing(filed[0])

    @rule(data=st.data(), score=st.integers(0, 4))
    def file_from_every_association(self, data, score) -> None:  # noqa: ANN001
        enterprise = data.draw(st.sampled_from(self._live_enterprises()))
        for reviewer in self.reviewers[1:]:
            body = {"enterprise_id": enterprise.id, "conflict": {"declared": False},
                    "scores": {c: {"score": score, "evidence": EV} for c in CRITERIA}}
            filed = self._do(assessments.file_and_submit, reviewer, body)
            if filed is not None:
                self._check_standing(filed[0])

    @rule(data=st.data())
    def withdraw(self, data) -> None:  # noqa: ANN001
        submitted = self.session.scalars(select(Assessment).where(Assessment.status == AssessmentStatus.SUBMITTED)
                                         .order_by(Assessment.id)).all()
        if submitted:
            target = data.draw(st.sampled_from(submitted))
            reviewer = next(r for r in self.reviewers if r.id == target.reviewer_id)
            self._do(assessments.withdraw, reviewer, target.id, "filed in error")

    @rule(data=st.data(), score=st.integers(0, 4))
    def amend(self, data, score) -> None:  # noqa: ANN001
        submitted = self.session.scalars(select(Assessment).where(Assessment.status == AssessmentStatus.SUBMITTED)
                                         .order_by(Assessment.id)).all()
        if submitted:
            target = data.draw(st.sampled_from(submitted))
            reviewer = next(r for r in self.reviewers if r.id == target.reviewer_id)
            body = {"conflict": {"declared": False}, "scores": {c: {"score": score, "evidence": EV} for c in CRITERIA}}
            amended = self._do(assessments.amend, reviewer, target.id, body)
            if amended is not None:
                self._check_standing(amended[0], amends=target)

    # -- memberships ----------------------------------------------------------------------------

    @rule(data=st.data())
    def declare(self, data) -> None:  # noqa: ANN001
        n = data.draw(st.integers(0, 2))
        enterprise = data.draw(st.sampled_from(self._live_enterprises()))
        before = self._open_period(self.associations[n].id, enterprise.id)
        row = self._do(memberships.declare, self.admins[n], self.associations[n].code, enterprise.id)
        if row is not None and before is None:
            self.periods.setdefault((self.associations[n].id, enterprise.id), []).append([row.since or date.min, None])

    @rule(data=st.data())
    def end_membership(self, data) -> None:  # noqa: ANN001
        n = data.draw(st.integers(0, 2))
        enterprise = data.draw(st.sampled_from(self._live_enterprises()))
        self._do(memberships.request_end, self.admins[n], self.associations[n].code, enterprise.id, "resigned")
        registrar = data.draw(st.sampled_from(self.registrars))
        outcome_before = self._fresh_outcome(enterprise.id)
        row = self._do(memberships.confirm_end, registrar, self.associations[n].code, enterprise.id)
        if row is not None:
            self._open_period(self.associations[n].id, enterprise.id)[1] = row.ended_on
            # an end changes no standing, so the rules give the same answer as before it
            assert self._fresh_outcome(enterprise.id) == outcome_before

    def _open_period(self, association_id: int, enterprise_id: int) -> list | None:
        periods = self.periods.get((association_id, enterprise_id), [])
        return periods[-1] if periods and periods[-1][1] is None else None

    def _check_standing(self, assessment: Assessment, amends: Assessment | None = None) -> None:
        day = assessment.submitted_at.date()
        member = any(start <= day and (until is None or day < until)
                     for start, until in self.periods.get((assessment.association_id, assessment.enterprise_id), []))
        if amends is not None and amends.standing == "member":
            member = True
        expected = "conflicted" if assessment.conflict_declared else "member" if member else "independent"
        assert assessment.standing == expected

    def _fresh_outcome(self, enterprise_id: int) -> tuple:
        ruleset = rulesets.active_ruleset(self.session)
        facts = evaluation.load_facts(self.session, [enterprise_id])[enterprise_id]
        result = evaluation.rules.evaluate(evaluation.compiled(ruleset), facts)
        return result.outcome, result.reason_codes

    # -- due process ----------------------------------------------------------------------------

    def _proposals(self) -> list[Listing]:
        return self.session.scalars(select(Listing).where(Listing.status == ListingStatus.PROPOSED).order_by(Listing.id)).all()

    @rule(data=st.data())
    def serve(self, data) -> None:  # noqa: ANN001
        waiting = [p for p in self._proposals() if p.notified_on is None]
        if waiting:
            listing = data.draw(st.sampled_from(waiting))
            self._do(listings.record_service, data.draw(st.sampled_from(self.registrars)), listing.id, method="courier",
                     served_on=self._today(), note="signed receipt")

    @rule(data=st.data())
    def object_to(self, data) -> None:  # noqa: ANN001
        open_ = self.session.scalars(select(Listing).where(Listing.status.in_([ListingStatus.PROPOSED, ListingStatus.ACTIVE]))
                                     .order_by(Listing.id)).all()
        if open_:
            listing = data.draw(st.sampled_from(open_))
            email = self.session.get(Enterprise, listing.enterprise_id).contact_email
            self._do(listings.file_objection, reference=listing.reference, contact_email=email, grounds="not on these facts")

    @rule(data=st.data(), upheld=st.booleans())
    def objection_course(self, data, upheld) -> None:  # noqa: ANN001
        """The enterprise is served, objects within its window, and a registrar decides."""
        proposals = self._proposals()
        if not proposals:
            return
        listing = data.draw(st.sampled_from(proposals))
        if listing.notified_on is None:
            self._do(listings.record_service, self.registrars[0], listing.id, method="courier", served_on=self._today(),
                     note="signed receipt")
        email = self.session.get(Enterprise, listing.enterprise_id).contact_email
        objection = self._do(listings.file_objection, reference=listing.reference, contact_email=email, grounds="not on these facts")
        if objection is not None:
            self.clock.advance(days=data.draw(st.sampled_from([0, 5])))
            self._do(listings.decide_objection, self.registrars[1], objection.id, upheld=upheld, reason="weighed the evidence")

    @rule(data=st.data(), granted=st.booleans())
    def repair_course(self, data, granted) -> None:  # noqa: ANN001
        """A black-listed enterprise waits out the minimum period, applies, and is decided."""
        black = self.session.scalars(select(Listing).where(Listing.status == ListingStatus.ACTIVE,
                                                           Listing.list_type == "black").order_by(Listing.id)).all()
        if not black:
            return
        listing = data.draw(st.sampled_from(black))
        self.clock.advance(days=370)
        email = self.session.scalar(select(listings.Notice.to_email).where(listings.Notice.listing_id == listing.id).limit(1))
        request = self._do(listings.file_repair, reference=listing.reference, contact_email=email or "", remediation="remedied")
        if request is not None:
            self._do(listings.decide_repair, self.registrars[1], request.id, granted=granted, reason="independent monitor's report")

    @rule(data=st.data(), upheld=st.booleans())
    def decide_objection(self, data, upheld) -> None:  # noqa: ANN001
        open_ = self.session.scalars(select(Objection).where(Objection.status == RequestStatus.OPEN).order_by(Objection.id)).all()
        if open_:
            self._do(listings.decide_objection, data.draw(st.sampled_from(self.registrars)), data.draw(st.sampled_from(open_)).id,
                     upheld=upheld, reason="weighed the evidence")

    @rule(data=st.data())
    def repair(self, data) -> None:  # noqa: ANN001
        black = self.session.scalars(select(Listing).where(Listing.status == ListingStatus.ACTIVE,
                                                           Listing.list_type == "black").order_by(Listing.id)).all()
        if black:
            listing = data.draw(st.sampled_from(black))
            email = self.session.scalar(select(listings.Notice.to_email).where(listings.Notice.listing_id == listing.id).limit(1))
            self._do(listings.file_repair, reference=listing.reference, contact_email=email or "", remediation="families compensated")

    @rule(data=st.data(), granted=st.booleans())
    def decide_repair(self, data, granted) -> None:  # noqa: ANN001
        open_ = self.session.scalars(select(RepairRequest).where(RepairRequest.status == RequestStatus.OPEN)
                                     .order_by(RepairRequest.id)).all()
        if open_:
            self._do(listings.decide_repair, data.draw(st.sampled_from(self.registrars)), data.draw(st.sampled_from(open_)).id,
                     granted=granted, reason="independent monitor's report")

    @rule(data=st.data())
    def due_course(self, data) -> None:  # noqa: ANN001
        """A proposal run its ordinary course: served today, the window waited out, confirmed."""
        proposals = self._proposals()
        if proposals:
            listing = data.draw(st.sampled_from(proposals))
            if listing.notified_on is None:
                self._do(listings.record_service, self.registrars[0], listing.id, method="post", served_on=self._today(),
                         note="registered post, signed")
            self.clock.advance(days=16)
            self._do(listings.confirm, self.registrars[1], listing.id)

    @rule(data=st.data())
    def confirm(self, data) -> None:  # noqa: ANN001
        proposals = self._proposals()
        if proposals:
            self._do(listings.confirm, data.draw(st.sampled_from(self.registrars)), data.draw(st.sampled_from(proposals)).id)

    @rule(data=st.data())
    def revoke(self, data) -> None:  # noqa: ANN001
        live = self.session.scalars(select(Listing).where(Listing.status.in_([ListingStatus.PROPOSED, ListingStatus.ACTIVE,
                                                                              ListingStatus.SUSPENDED])).order_by(Listing.id)).all()
        if live:
            self._do(listings.revoke, self.registrars[0], data.draw(st.sampled_from(live)).id, "made on falsified evidence")

    @precondition(lambda self: not self.merged)
    @rule()
    def merge(self) -> None:
        absorbed, survivor = self.enterprises[2], self.enterprises[1]
        if self._do(enterprises.merge, self.registrars[1], absorbed.id, survivor.id, "one company registered twice") is not None:
            self.merged = True
            # the survivor's history now holds the absorbed enterprise's listings: its past answers change once, here
            self.frozen = {key: value for key, value in self.frozen.items() if key[0] not in (absorbed.id, survivor.id)}

    @rule(version=st.sampled_from(["2026.1", "2026.2"]))
    def activate(self, version) -> None:  # noqa: ANN001
        ruleset_id = self.session.scalar(select(Ruleset.id).where(Ruleset.version == version))
        self._do(rulesets.activate_ruleset, self.registrars[0], ruleset_id)

    @rule()
    def reevaluate(self) -> None:
        self._do(evaluation.reevaluate_all, JOBS)

    @rule()
    def expiry_job(self) -> None:
        self._do(listings.expire_due, JOBS)

    @rule(days=st.sampled_from([1, 3, 16, 120, 400, 800]))
    def wait(self, days) -> None:  # noqa: ANN001
        self.clock.advance(days=days)

    # -- the promises ---------------------------------------------------------------------------

    @invariant()
    def never_on_both_lists(self) -> None:
        if not hasattr(self, "enterprises"):
            return
        today = self._today()
        for enterprise in self.enterprises:
            in_force = self.session.scalars(select(Listing.list_type).where(Listing.enterprise_id == enterprise.id,
                                                                            Listing.in_force_on(today))).all()
            assert len(in_force) <= 1, in_force
            status = listings.status_on(self.session, enterprise.id, today)
            assert not (status.list and status.suspended)

    @invariant()
    def nothing_takes_effect_without_notice_and_a_passed_window(self) -> None:
        for listing in self.session.scalars(select(Listing).where(Listing.effective_from.is_not(None))):
            assert listing.notified_on is not None and listing.objection_deadline is not None
            assert listing.effective_from > listing.objection_deadline >= listing.notified_on
            assert self.session.scalar(select(Objection.id).where(
                Objection.listing_id == listing.id, Objection.filed_at < listing.confirmed_at,
                (Objection.decided_at.is_(None)) | (Objection.decided_at > listing.confirmed_at)).limit(1)) is None

    @invariant()
    def a_decided_challenge_is_not_proposed_again_without_new_evidence(self) -> None:
        decided = [(o.listing_id, o.decided_at) for o in self.session.scalars(select(Objection).where(Objection.status == RequestStatus.UPHELD))]
        decided += [(r.listing_id, r.decided_at) for r in self.session.scalars(select(RepairRequest).where(RepairRequest.status == RequestStatus.GRANTED))]
        for listing_id, decided_at in decided:
            challenged = self.session.get(Listing, listing_id)
            grounds = self.session.get(Decision, challenged.decision_id)
            for proposal in self.session.scalars(select(Listing).where(
                    Listing.enterprise_id == challenged.enterprise_id, Listing.proposed_at > decided_at)):
                decision = self.session.get(Decision, proposal.decision_id)
                if (decision.outcome, sorted(decision.reason_codes)) != (grounds.outcome, sorted(grounds.reason_codes)):
                    continue
                newer = self.session.scalar(select(Assessment.id).where(
                    Assessment.enterprise_id == challenged.enterprise_id, Assessment.submitted_at > decided_at,
                    Assessment.submitted_at <= proposal.proposed_at).limit(1))
                assert newer is not None, f"listing {proposal.reference} re-proposes what {challenged.reference}'s challenge decided"

    @invariant()
    def the_past_is_what_the_dates_say_and_stays_so(self) -> None:
        if not hasattr(self, "enterprises"):
            return
        today = self._today()
        for enterprise in self.enterprises:
            rows = self.session.scalars(select(Listing).where(Listing.enterprise_id == enterprise.id,
                                                              Listing.effective_from.is_not(None))).all()
            days = {today - timedelta(days=1), today}
            for listing in rows:
                days |= {listing.effective_from - timedelta(days=1), listing.effective_from, listing.expires_on,
                         listing.expires_on + timedelta(days=1)}
                if listing.ended_at:
                    days |= {listing.ended_at.date() - timedelta(days=1), listing.ended_at.date()}
            for day in sorted(d for d in days if d <= today):
                answer = listings.status_on(self.session, enterprise.id, day)
                assert (answer.list, answer.suspended) == self._by_the_dates(rows, day), (enterprise.id, day)
                key = (enterprise.id, day)
                if day < today:
                    assert self.frozen.setdefault(key, (answer.list, answer.suspended)) == (answer.list, answer.suspended)

    def _by_the_dates(self, rows: list[Listing], day: date) -> tuple:
        """The reference answer: a listing counts from its effective day through its expiry day,
        until the day it ended, except while a suspension (an event) held it."""
        on, suspended = None, None
        for listing in rows:
            if not (listing.effective_from <= day <= listing.expires_on):
                continue
            if listing.ended_at is not None and listing.ended_at.date() <= day:
                continue
            events = self.session.scalars(select(ListingEvent).where(ListingEvent.listing_id == listing.id,
                                                                     ListingEvent.at < datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc))
                                          .order_by(ListingEvent.at, ListingEvent.id)).all()
            state = events[-1].to_status if events else None
            if state is ListingStatus.ACTIVE:
                on = listing.list_type.value
            elif state is ListingStatus.SUSPENDED:
                suspended = listing.list_type.value
        return on, None if on else suspended

    @invariant()
    def every_decision_replays_and_the_chain_verifies(self) -> None:
        for decision_id in self.session.scalars(select(Decision.id).order_by(Decision.id)):
            if decision_id not in self.replayed:
                assert decisions.replay(self.session, decision_id).identical, decision_id
                self.replayed.add(decision_id)
        report = audit.verify(self.session)
        assert report.ok, report.problem


@pytest.mark.slow
def test_due_process_holds_under_random_sequences_of_actions(connection):
    DueProcess.connection = connection
    run_state_machine_as_test(DueProcess, settings=settings(
        max_examples=60, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
