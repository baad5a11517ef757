"""Identifier and country validation (no database)."""

import pytest
import stdnum.cn.uscc as uscc_mod

from tests.conftest import valid_uscc
from vetting.countries import InvalidCountry, normalize_country
from vetting.identifiers import SCHEMES, InvalidIdentifier, normalize_identifier, parse_identifier


def test_uscc_is_stored_compact_and_upper_case():
    value = valid_uscc(1)
    spaced = f" {value[:6].lower()} {value[6:]} "
    assert normalize_identifier("USCC", spaced) == value


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda v: v[:-1], "length"),
        (lambda v: v + "0", "length"),
        (lambda v: "9A" + v[2:], "characters"),
        (lambda v: v[:10] + "I" + v[11:], "characters"),
        (lambda v: v[:-1] + ("1" if v[-1] != "1" else "2"), "check_digit"),
    ],
)
def test_invalid_uscc_names_the_problem(mutate, problem):
    bad = mutate(valid_uscc(2))
    with pytest.raises(InvalidIdentifier) as err:
        normalize_identifier("uscc", bad)
    assert err.value.problem == problem
    assert bad in err.value.message


def test_every_made_up_uscc_validates():
    values = {valid_uscc(n) for n in range(1, 200)}
    assert len(values) == 199
    for v in values:
        assert uscc_mod.is_valid(v)


def test_lei_check_digits():
    good = "5493001KJTIIGC8Y1R12"
    assert normalize_identifier("lei", good.lower()) == good
    with pytest.raises(InvalidIdentifier) as err:
        normalize_identifier("lei", good[:-1] + "3")
    assert err.value.problem == "check_digit"


def test_unknown_scheme_lists_the_known_ones():
    with pytest.raises(InvalidIdentifier) as err:
        normalize_identifier("duns", "123456789")
    assert err.value.problem == "scheme"
    for code in ("uscc", "lei"):
        assert code in err.value.message


def test_registry_entries_resolve_to_stdnum_modules():
    for scheme in SCHEMES.values():
        assert callable(scheme.module.validate)


def test_parse_identifier_query_form():
    value = valid_uscc(3)
    assert parse_identifier(f"uscc:{value}") == ("uscc", value)
    with pytest.raises(InvalidIdentifier):
        parse_identifier(value)


@pytest.mark.parametrize("code", ["ke", "CN", " br "])
def test_country_codes_normalise(code):
    assert normalize_country(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["", "KEN", "XX", "1A", None])
def test_bad_country_codes_are_refused(code):
    with pytest.raises(InvalidCountry):
        normalize_country(code)
