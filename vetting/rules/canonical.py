"""Canonical JSON: the byte form that identifies rulesets, facts and decisions.

Keys sorted, no insignificant whitespace, UTF-8 without escaping, no NaN or infinity. Floats
are rounded to six decimals before encoding so that the same arithmetic on any platform gives
the same bytes; dates are ISO 8601 strings.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from typing import Any


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
    """Canonical bytes of ``value``. ``exact=True`` skips float rounding for documents that hold
    only strings, integers, booleans and nulls (such as facts), which is much faster."""
    if exact:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
