"""Registry identifiers of enterprises, validated with python-stdnum.

Each scheme is one entry in :data:`SCHEMES`: a code, a label and the stdnum module that knows
its format. Values are stored compact and upper-case. An invalid value raises
:class:`InvalidIdentifier` whose ``problem`` says whether the length, the characters or the
check digit is wrong, so a caller can be told exactly what to fix.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)


@dataclass(frozen=True)
class Scheme:
    code: str
    label: str
    module_name: str

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"stdnum.{self.module_name}")


SCHEMES: dict[str, Scheme] = {
    s.code: s
    for s in (
        Scheme("uscc", "China unified social credit code", "cn.uscc"),
        Scheme("lei", "Legal Entity Identifier (ISO 17442)", "lei"),
        Scheme("sg_uen", "Singapore Unique Entity Number", "sg.uen"),
        Scheme("fr_siren", "France SIREN", "fr.siren"),
        Scheme("br_cnpj", "Brazil CNPJ", "br.cnpj"),
        Scheme("ru_ogrn", "Russia OGRN", "ru.ogrn"),
        Scheme("vn_mst", "Viet Nam tax code (MST)", "vn.mst"),
        Scheme("za_tin", "South Africa tax number", "za.tin"),
        Scheme("us_ein", "United States EIN", "us.ein"),
    )
}


class InvalidIdentifier(ValueError):
    """An identifier that failed validation; ``problem`` is one of
    ``scheme``, ``length``, ``characters``, ``check_digit``, ``component``."""

    def __init__(self, scheme: str, value: str, problem: str, message: str) -> None:
        super().__init__(message)
        self.scheme = scheme
        self.value = value
        self.problem = problem
        self.message = message


def normalize_identifier(scheme: str, value: str) -> str:
    """Validate ``value`` under ``scheme`` and return its compact upper-case form."""
    key = (scheme or "").strip().lower()
    if key not in SCHEMES:
        known = ", ".join(sorted(SCHEMES))
        raise InvalidIdentifier(scheme, value, "scheme", f"unknown identifier scheme '{scheme}' (known: {known})")
    spec = SCHEMES[key]
    raw = "" if value is None else str(value)
    try:
        compact = spec.module.validate(raw)
    except InvalidLength:
        got = len(spec.module.compact(raw)) if raw else 0
        raise InvalidIdentifier(key, raw, "length", f"{spec.label} '{raw}' has the wrong length ({got} characters)") from None
    except InvalidFormat:
        raise InvalidIdentifier(key, raw, "characters", f"{spec.label} '{raw}' contains characters that are not allowed") from None
    except InvalidChecksum:
        raise InvalidIdentifier(key, raw, "check_digit", f"{spec.label} '{raw}' has a wrong check digit") from None
    except InvalidComponent:
        raise InvalidIdentifier(key, raw, "component", f"{spec.label} '{raw}' has an invalid component") from None
    except ValidationError as exc:  # any other stdnum complaint
        raise InvalidIdentifier(key, raw, "characters", f"{spec.label} '{raw}' is not valid: {exc}") from None
    return str(compact).upper()


def parse_identifier(text: str) -> tuple[str, str]:
    """Parse ``scheme:value`` (as used in query strings) into a validated pair."""
    if ":" not in (text or ""):
        raise InvalidIdentifier("", text, "scheme", "an identifier is written scheme:value, e.g. uscc:91110000MA01ABCD2X")
    scheme, value = text.split(":", 1)
    return scheme.strip().lower(), normalize_identifier(scheme, value)
