"""Constraints and validation in the domain model."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from tests.conftest import valid_uscc
from vetting.countries import InvalidCountry
from vetting.identifiers import InvalidIdentifier
from vetting.models import (
    Account,
    Decision,
    Enterprise,
    Identifier,
    Listing,
    ListingStatus,
    ListType,
    Outcome,
    Project,
    Role,
    Ruleset,
    RulesetStatus,
)


def test_identifier_is_unique_per_scheme_and_value(session, make_enterprise):
    ent = make_enterprise()
    value = ent.identifiers[0].value
    other = make_enterprise(uscc=None)
    other.identifiers.append(Identifier(scheme="uscc", value=value.lower()))
    with pytest.raises(IntegrityError) as err:
        session.flush()
    assert "uq_identifiers_scheme_value" in str(err.value) or "UNIQUE" in str(err.value)


def test_identifier_is_validated_on_construction():
    with pytest.raises(InvalidIdentifier) as err:
        Identifier(scheme="uscc", value=valid_uscc(9)[:-1] + "!")
    assert err.value.problem in {"characters", "check_digit"}


def test_country_codes_are_validated(make_enterprise):
    with pytest.raises(InvalidCountry):
        make_enterprise(country="ZZ")
    with pytest.raises(InvalidCountry):
        Project(name="x", host_country="Kenya", sector="transport")


def test_unknown_sector_is_refused(make_enterprise):
    with pytest.raises(ValueError, match="unknown sector"):
        make_enterprise(sector="banking")


def test_registrar_has_no_association_and_reviewer_has_one(session, make_association):
    session.add(Account(email="r@x.org", display_name="R", role=Role.REVIEWER))
    with pytest.raises(IntegrityError):
        session.flush()


def test_timestamps_come_back_aware_utc(session, make_enterprise):
    ent = make_enterprise()
    session.expire_all()
    loaded = session.get(Enterprise, ent.id)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - loaded.created_at).total_seconds()) < 600


def _decision(session, ent):
    ruleset = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    decision = Decision(enterprise_id=ent.id, ruleset_id=ruleset.id, outcome=Outcome.BLACK, document="{}", inputs="{}",
                        input_hash="0" * 64, engine_version="t", trigger="test")
    session.add(decision)
    session.flush()
    return decision


def test_an_enterprise_cannot_have_two_active_listings(session, make_enterprise):
    ent = make_enterprise()
    decision = _decision(session, ent)
    session.add(Listing(enterprise_id=ent.id, list_type=ListType.RED, status=ListingStatus.ACTIVE, decision_id=decision.id))
    session.flush()
    session.add(Listing(enterprise_id=ent.id, list_type=ListType.BLACK, status=ListingStatus.PROPOSED, decision_id=decision.id))
    session.flush()  # a proposal beside an active listing is allowed
    session.add(Listing(enterprise_id=ent.id, list_type=ListType.BLACK, status=ListingStatus.ACTIVE, decision_id=decision.id))
    with pytest.raises(IntegrityError):
        session.flush()


def test_only_one_ruleset_is_active(session):
    active = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    assert active is not None
    session.add(Ruleset(version="x-test", title="t", content_hash="f" * 64, document="{}", status=RulesetStatus.ACTIVE,
                        effective_date=active.effective_date))
    with pytest.raises(IntegrityError):
        session.flush()


def test_enum_columns_refuse_unknown_values(session, make_enterprise):
    ent = make_enterprise()
    with pytest.raises(StatementError, match="not among the defined enum values"):
        ent.projects.append(Project(name="p", host_country="KE", sector="transport", equator_category="D"))
        session.flush()
