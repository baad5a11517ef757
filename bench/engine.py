"""Engine throughput: decisions per second on one core, with full traces.

Synthetic enterprises with 3 assessments of 19 criteria each (deterministic seed). Three
figures from the same run:

- baseline: the bare arithmetic of a decision (medians, pillar and total scores) with no
  trace, no rules and no document: what explainability is measured against;
- engine: ``evaluate`` (trace, outcome rows, what it would take);
- engine + bytes: ``evaluate`` and the canonical bytes that are stored and replayed.

Usage: python bench/engine.py [--n 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from bench._report import command, machine, write_section  # noqa: E402
from vetting.rules import (  # noqa: E402
    AssessmentFacts,
    CriterionScore,
    EnterpriseFacts,
    Evidence,
    compile_ruleset,
    decision_bytes,
    evaluate,
)

ROOT = Path(__file__).resolve().parents[1]


def synthetic(n: int, criteria: list[str], seed: int = 7) -> list[EnterpriseFacts]:
    rnd = random.Random(seed)
    ev = (Evidence("document", "report"),)
    out = []
    for k in range(n):
        base = rnd.randint(0, 4)
        assessments = tuple(
            AssessmentFacts(
                id=3 * k + j, association="ABCDE"[(k + j) % 5], status="submitted", conflict_declared=False,
                scores=tuple(CriterionScore(c, max(0, min(4, base + rnd.randint(-1, 1))), None, ev if rnd.random() < 0.8 else ())
                             for c in criteria),
            )
            for j in range(3)
        )
        out.append(EnterpriseFacts(enterprise_id=k + 1, member_associations=frozenset({"ABCDE"[k % 5]}), assessments=assessments))
    return out


def baseline(ruleset, facts: list[EnterpriseFacts]) -> float | None:  # noqa: ANN001
    """The last total (returned so that the arithmetic is not dead code)."""
    crit = [(c["code"], c["pillar"], c["weight"]) for c in ruleset.document["criteria"]]
    pw = {p["code"]: p["weight"] for p in ruleset.document["pillars"]}
    total = None
    for f in facts:
        by = {}
        for a in f.assessments:
            for s in a.scores:
                by.setdefault(s.criterion, []).append(s.score)
        sums = dict.fromkeys(pw, 0.0)
        ws = dict.fromkeys(pw, 0.0)
        for code, pillar, w in crit:
            vals = [v for v in by.get(code, ()) if v is not None]
            if vals:
                sums[pillar] += w * statistics.median(vals) * 25
                ws[pillar] += w
        pillars = {p: sums[p] / ws[p] for p in pw if ws[p]}
        total = sum(pillars[p] * pw[p] for p in pillars) / sum(pw[p] for p in pillars)
    return total


def _each(fn, items) -> None:  # noqa: ANN001
    """Apply ``fn`` to every item, keeping no result (as the service does per stored batch)."""
    for item in items:
        fn(item)


def timed(fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ruleset = compile_ruleset(yaml.safe_load((ROOT / "seeds" / "rulesets" / "2026.1.yaml").read_text(encoding="utf-8")))
    criteria = [c["code"] for c in ruleset.document["criteria"]]
    facts = synthetic(args.n, criteria)
    runs = {"baseline": [], "engine": [], "bytes": []}
    for r in range(args.repeats):
        runs["baseline"].append(args.n / timed(lambda: baseline(ruleset, facts)))
        runs["engine"].append(args.n / timed(lambda: _each(lambda f: evaluate(ruleset, f), facts)))
        runs["bytes"].append(args.n / timed(lambda: _each(lambda f: decision_bytes(evaluate(ruleset, f)), facts)))
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in runs.items()), flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    outcomes: dict[str, int] = {}
    for f in facts[: min(len(facts), 20000)]:
        o = evaluate(ruleset, f).outcome
        outcomes[o] = outcomes.get(o, 0) + 1
    target = 5000
    verdict = "meets" if med["bytes"] >= target else "does NOT meet"
    write_section("engine", f"""
## Engine throughput (one core, full traces)

`{command()}` on {machine()}; {args.n:,} synthetic enterprises, 3 assessments × 19 criteria, {args.repeats} repeats (median).

| What | Decisions per second | Ratio to baseline |
|---|---:|---:|
| Baseline: medians, pillar and total only (no trace, no rules) | {med['baseline']:,.0f} | 1.00 |
| `evaluate` (trace, outcome rows, what it would take) | {med['engine']:,.0f} | {med['engine'] / med['baseline']:.2f} |
| `evaluate` + canonical bytes (what is stored) | {med['bytes']:,.0f} | {med['bytes'] / med['baseline']:.2f} |

Target: at least {target:,} decisions per second with full traces; this run {verdict} it.
Outcome mix of the synthetic set (first 20,000): {", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))}.
""")
    print(med)


if __name__ == "__main__":
    main()
