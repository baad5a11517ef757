"""ISO 3166-1 alpha-2 country codes, validated against pycountry's tables."""

from __future__ import annotations

from functools import lru_cache

import pycountry


class InvalidCountry(ValueError):
    """A value that is not an ISO 3166-1 alpha-2 code."""


@lru_cache(maxsize=1)
def _alpha2() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def normalize_country(value: str | None) -> str:
    """Return the upper-case alpha-2 code or raise :class:`InvalidCountry` saying why."""
    if value is None or not str(value).strip():
        raise InvalidCountry("a country code is required (ISO 3166-1 alpha-2, e.g. 'KE')")
    code = str(value).strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InvalidCountry(
            f"'{value}' is not an ISO 3166-1 alpha-2 code: use two letters, e.g. 'KE' for Kenya"
        )
    if code not in _alpha2():
        raise InvalidCountry(f"'{value}' is not an assigned ISO 3166-1 alpha-2 country code")
    return code


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code
