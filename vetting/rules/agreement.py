"""Krippendorff's alpha, computed from its definition over a coincidence matrix.

alpha = 1 - D_o / D_e, where D_o is the observed disagreement between values paired within the
same unit and D_e the disagreement expected from all pairable values regardless of unit. Units
with fewer than two values cannot be paired and are ignored. Interval and ordinal metrics are
supported; scores here are 0–4.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from vetting.rules.facts import EnterpriseFacts


def _metric(level: str, values: list[float], totals: Counter[float]):  # noqa: ANN202
    if level == "interval":
        return lambda a, b: (a - b) ** 2
    if level == "ordinal":
        ordered = sorted(values)

        def ordinal(a: float, b: float) -> float:
            lo, hi = min(a, b), max(a, b)
            inner = sum(totals[v] for v in ordered if lo <= v <= hi)
            return (inner - (totals[lo] + totals[hi]) / 2) ** 2

        return ordinal
    if level == "nominal":
        return lambda a, b: 0.0 if a == b else 1.0
    raise ValueError(f"unknown level of measurement '{level}'")


def krippendorff_alpha(units: Mapping[Any, Sequence[float | None]], level: str = "interval") -> float | None:
    """Alpha over ``units`` (unit → the values coders gave it; None is a missing value).
    Returns None when there are no pairable values or no variation at all."""
    coincidence: dict[tuple[float, float], float] = defaultdict(float)
    for values in units.values():
        vals = [float(v) for v in values if v is not None]
        m = len(vals)
        if m < 2:
            continue
        for i, a in enumerate(vals):
            for j, b in enumerate(vals):
                if i != j:
                    coincidence[(a, b)] += 1.0 / (m - 1)
    totals: Counter[float] = Counter()
    for (a, _b), w in coincidence.items():
        totals[a] += w
    n = sum(totals.values())
    if n <= 1:
        return None
    categories = sorted(totals)
    delta = _metric(level, categories, totals)
    observed = sum(w * delta(a, b) for (a, b), w in coincidence.items())
    expected = sum(totals[a] * totals[b] * delta(a, b) for a in categories for b in categories) / (n - 1)
    if expected == 0:
        return None
    return 1.0 - observed / expected


def agreement_by_criterion(ruleset: Any, facts: Sequence[EnterpriseFacts], level: str = "interval") -> dict[str, dict[str, Any]]:
    """Alpha per criterion, units being enterprises and values the counted assessments' scores
    (submitted, without a conflict of interest, declared or by standing)."""
    out: dict[str, dict[str, Any]] = {}
    for criterion in ruleset.document["criteria"]:
        code = criterion["code"]
        units: dict[int, list[float | None]] = {}
        for f in facts:
            values = []
            for a in f.assessments:
                if a.status != "submitted" or a.conflicted:  # counted as the engine counts
                    continue
                for s in a.scores:
                    if s.criterion == code and s.score is not None:
                        values.append(float(s.score))
            units[f.enterprise_id] = values
        pairable = [v for v in units.values() if len(v) >= 2]
        alpha = krippendorff_alpha(units, level)
        out[code] = {"alpha": None if alpha is None else round(alpha, 4), "units": len(pairable),
                     "pairable_values": sum(len(v) for v in pairable)}
    return out
