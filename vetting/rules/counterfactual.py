"""What it would take: the changes that would move a decision to the next better outcome.

For BLACK the target is NONE; for NONE it is RED. Knock-outs and blockers that stand in the way
are named (they cannot be scored away). Quorum and evidence coverage, when short, are stated as
what is missing. Then the criterion changes: starting from the current medians, the search
finds the fewest criteria whose median must rise (a greedy order gives a first answer; a
per-pillar search, see ``_fewest``, proves or improves it), then lowers each raised criterion
back to the smallest level that still reaches the target. Every answer is checked by re-running
the ruleset's own outcome rows, so it is always a real path.
"""

from __future__ import annotations

from typing import Any

NEXT = {"BLACK": "NONE", "NONE": "RED"}


def what_it_would_take(ruleset: Any, model: Any, outcome: str, context: dict[str, Any],
                       medians: dict[str, float | None], quorum: dict[str, Any]) -> dict[str, Any] | None:
    from vetting.rules.engine import pillar_and_total, rank

    target = NEXT.get(outcome)
    if target is None:
        return None
    ctx = dict(context)
    plan: dict[str, Any] = {"target": target, "knockouts_to_clear": list(ctx["knockouts"]), "blockers_to_clear": [],
                            "quorum_needed": None, "evidence_needed": None, "criterion_changes": []}
    ctx["knockouts"], ctx["knockout_count"] = (), 0.0
    if target == "RED":
        plan["blockers_to_clear"] = list(ctx["blockers"])
        ctx["blockers"], ctx["blocker_count"] = (), 0.0
    if not ctx["quorum_met"]:
        plan["quorum_needed"] = {
            "counted": max(0, quorum["min_counted"] - quorum["counted"]),
            "associations": max(0, quorum["min_associations"] - quorum["associations"]),
            "independent": max(0, quorum["min_independent"] - quorum["independent"]),
        }
        ctx["quorum_met"] = True
    if ctx["coverage"] < ctx["min_evidence_coverage"]:
        plan["evidence_needed"] = {"coverage": round(ctx["coverage"], 4), "required": ctx["min_evidence_coverage"]}
        ctx["coverage"] = ctx["min_evidence_coverage"]

    from vetting.rules.engine import row_holds
    from vetting.rules.fastpath import prepare

    # Only the scores change below; rows that do not mention them are evaluated once.
    dynamic = {"total", "min_pillar", "pillars", "scored"}
    base = prepare(ctx)
    static = {i: row_holds(ruleset, model, i, ctx, base)
              for i, names in enumerate(model.row_names) if not dynamic.intersection(names)}

    def outcome_for(meds: dict[str, float | None]) -> str:
        pillars, total = pillar_and_total(model, meds)
        scored = {p: float(v) for p, v in pillars.items() if v is not None}
        ctx["total"] = float(total) if total is not None else 0.0
        ctx["scored"] = total is not None
        ctx["pillars"] = scored
        ctx["min_pillar"] = min(scored.values()) if scored else 0.0
        prepared = prepare(ctx)
        for i, row in enumerate(model.rows):
            held = static[i] if i in static else row_holds(ruleset, model, i, ctx, prepared)
            if held:
                return row["outcome"]
        raise AssertionError("the last outcome row always holds")

    meds = dict(medians)
    order = _greedy_order(model, meds)
    reached = rank(outcome_for(meds)) >= rank(target)
    raised: list[str] = []
    if not reached and order:
        # Outcomes never worsen as scores rise, so the shortest prefix of the greedy order that
        # reaches the target can be found by bisection.
        lo, hi = 1, len(order)
        full = dict(meds, **{c: 4.0 for c in order})
        if rank(outcome_for(full)) >= rank(target):
            while lo < hi:
                mid = (lo + hi) // 2
                trial = dict(meds, **{c: 4.0 for c in order[:mid]})
                if rank(outcome_for(trial)) >= rank(target):
                    hi = mid
                else:
                    lo = mid + 1
            raised = _fewest(model, medians, order[:lo], target, outcome_for, rank)
            meds.update({c: 4.0 for c in raised})
            reached = True
    if reached and raised:
        for code in raised:
            start = medians[code] or 0.0
            for level in range(int(start) + 1, 4):
                if level <= start:
                    continue
                trial = dict(meds)
                trial[code] = float(level)
                if rank(outcome_for(trial)) >= rank(target):
                    meds[code] = float(level)
                    break
        plan["criterion_changes"] = [{"criterion": c, "from": medians[c], "to": meds[c]} for c, _p, _w in model.criteria if c in raised]
    plan["reachable"] = reached
    plan["summary"] = _words(plan)
    return plan


def _fewest(model: Any, medians: dict[str, float | None], greedy: list[str], target: str, outcome_for: Any,
            rank: Any) -> list[str]:
    """The fewest criteria that, raised to 4, reach ``target``; ``greedy`` is a known answer.

    Within a pillar, raising the k criteria with the largest gains dominates any other choice
    of k criteria in that pillar (every pillar score, hence the total, is at least as high), and
    the outcome never worsens as scores rise. So only per-pillar counts need trying. A quick
    bound rules most sizes out first: with k changes no pillar can exceed its own top-k gain and
    the total cannot exceed the top-k weighted gains; if even that ideal does not reach the
    target, no set of k changes does."""
    import itertools

    by_pillar: dict[str, list[tuple[float, str]]] = {p: [] for p, _ in model.pillars}
    for code, pillar, w in model.criteria:
        m = medians.get(code)
        if m is not None and m < 4:
            by_pillar[pillar].append((w * (4 - m), code))
    for items in by_pillar.values():
        items.sort(key=lambda t: (-t[0], t[1]))
    pillars = [p for p, _ in model.pillars]

    def with_counts(counts: dict[str, int]) -> list[str]:
        return [code for p in pillars for _g, code in by_pillar[p][: counts.get(p, 0)]]

    def ideal_reaches(k: int) -> bool:
        # Each pillar at its own best with k changes, every other pillar too: an upper bound.
        return rank(outcome_for(dict(medians, **{c: 4.0 for c in with_counts({p: k for p in pillars})}))) >= rank(target)

    lo, hi = 1, len(greedy)
    while lo < hi:  # the smallest size whose ideal reaches the target (monotone in k)
        mid = (lo + hi) // 2
        if ideal_reaches(mid):
            hi = mid
        else:
            lo = mid + 1
    for k in range(lo, len(greedy)):
        ranges = [range(min(k, len(by_pillar[p])) + 1) for p in pillars]
        for combo in itertools.product(*ranges):
            if sum(combo) != k:
                continue
            chosen = with_counts(dict(zip(pillars, combo)))
            if rank(outcome_for(dict(medians, **{c: 4.0 for c in chosen}))) >= rank(target):
                return chosen
    return greedy


def _greedy_order(model: Any, medians: dict[str, float | None]) -> list[str]:
    """Criteria in the order the search raises them to 4: each step picks the one that most
    lifts the weakest pillar plus the total, tracking pillar sums incrementally."""
    pillar_w = dict(model.pillars)
    sums = {p: 0.0 for p in pillar_w}
    weights = {p: 0.0 for p in pillar_w}
    for code, pillar, w in model.criteria:
        m = medians.get(code)
        if m is not None:
            sums[pillar] += w * m * 25.0
            weights[pillar] += w
    candidates = [(code, pillar, w, medians[code]) for code, pillar, w in model.criteria
                  if medians.get(code) is not None and medians[code] < 4]
    total_w = sum(pillar_w[p] for p in pillar_w if weights[p] > 0)
    order: list[str] = []
    while candidates:
        values = [(sums[p] / weights[p], p) for p in sums if weights[p] > 0]
        total = sum(v * pillar_w[p] for v, p in values) / total_w
        values.sort()
        lowest, lowest_p = values[0]
        second = values[1][0] if len(values) > 1 else float("inf")
        current = dict((p, v) for v, p in values)
        best_i, best_key = -1, None
        for i, (code, pillar, w, m) in enumerate(candidates):
            gain = w * (4 - m) * 25.0 / weights[pillar]
            new_p = current[pillar] + gain
            other = second if pillar == lowest_p else lowest
            key = (new_p if new_p < other else other) + total + gain * pillar_w[pillar] / total_w
            if best_key is None or key > best_key:
                best_i, best_key = i, key
        code, pillar, w, m = candidates.pop(best_i)
        sums[pillar] += w * (4 - m) * 25.0
        order.append(code)
    return order


def _words(plan: dict[str, Any]) -> str:
    parts = []
    if plan["knockouts_to_clear"]:
        parts.append("clear the knock-out(s) " + ", ".join(plan["knockouts_to_clear"]))
    if plan["blockers_to_clear"]:
        parts.append("resolve the blocker(s) " + ", ".join(plan["blockers_to_clear"]))
    q = plan["quorum_needed"]
    if q:
        need = []
        if q["counted"]:
            need.append(f"{q['counted']} more counted assessment(s)")
        if q["associations"]:
            need.append(f"assessments from {q['associations']} more association(s)")
        if q["independent"]:
            need.append(f"{q['independent']} assessment(s) from an association the enterprise is not a member of")
        parts.append("obtain " + " and ".join(need))
    if plan["evidence_needed"]:
        e = plan["evidence_needed"]
        parts.append(f"back at least {e['required'] * 100:.0f}% of the weighted score with evidence (now {e['coverage'] * 100:.0f}%)")
    if plan["criterion_changes"]:
        parts.append("raise the median score of " + ", ".join(
            f"{c['criterion']} from {c['from']:g} to {c['to']:g}" for c in plan["criterion_changes"]))
    if not plan["reachable"]:
        parts.append("(even top scores on every scored criterion would not be enough)")
    if not parts:
        return f"Nothing further is needed to reach {plan['target']}."
    return f"To reach {plan['target']}: " + "; ".join(parts) + "."
