"""Canonical JSON: the byte form that identifies rulesets, facts and decisions.

Keys sorted, no insignificant whitespace, UTF-8 without escaping, no NaN or infinity. Floats
are rounded to six decimals before encoding so that the same arithmetic on any platform gives
the same bytes; dates are ISO 8601 strings.

The reference encoder is the standard library's ``json``. Documents are encoded with
``orjson`` (several times faster) whenever that gives the same bytes: both write the shortest
decimal that reads back as the same float and escape strings alike, but they write numbers
below 1e-4 differently (``1e-05`` against ``0.00001``) and orjson refuses integers beyond 64
bits. Output that could hold such a number (a digit followed by ``e-`` or ``e+``, which is how
orjson writes every exponent, or ``0.0000``) and documents orjson refuses are encoded again
with ``json``; a false alarm only costs time. A
property test checks both encoders agree on arbitrary documents.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from typing import Any

import orjson

# Types orjson would encode on its own but json refuses or writes otherwise go to json.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("canonical JSON has no NaN or infinity")
        rounded = round(value, 6)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_normalise(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__} canonically")


def canonical_json(value: Any, *, exact: bool = False) -> bytes:
    """Canonical bytes of ``value``. ``exact=True`` skips the normalising walk (float rounding,
    dates, sets) for documents already made of plain JSON values with finite floats, such as
    facts and the engine's decisions, which is much faster."""
    if not exact:
        value = _normalise(value)
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:
        return reference_json(value)
    if _maybe_different(out):
        return reference_json(value)
    return out


def _maybe_different(out: bytes) -> bool:
    """Whether orjson's ``out`` could differ from the reference (see the module docstring)."""
    if b"0.0000" in out:
        return True
    # A digit, "e", then a sign. The sign is looked for alone: a one-byte search is several
    # times faster than a search for "e-" (a frequent letter in text), and signs are rare.
    for sign in (b"-", b"+"):
        i = out.find(sign, 2)
        while i >= 0:
            if out[i - 1] == 101 and 48 <= out[i - 2] <= 57:  # 101 is "e", 48..57 are digits
                return True
            i = out.find(sign, i + 1)
    return False


def reference_json(value: Any) -> bytes:
    """The standard library's encoding, which defines the canonical bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
