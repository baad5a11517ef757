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

    def reaches(pillars: dict[str, float], total: float) -> bool:
        ctx["total"] = float(total)
        ctx["scored"] = True
        ctx["pillars"] = dict(pillars)
        ctx["min_pillar"] = min(pillars.values())
        prepared = prepare(ctx)
        for i, row in enumerate(model.rows):
            if static[i] if i in static else row_holds(ruleset, model, i, ctx, prepared):
                return rank(row["outcome"]) >= rank(target)
        return False

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
            raised = _fewest(model, medians, order[:lo], target, reaches)
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


def _fewest(model: Any, medians: dict[str, float | None], greedy: list[str], target: str, holds: Any) -> list[str]:
    """The fewest criteria that, raised to 4, reach ``target``; ``greedy`` is a known answer.

    Within a pillar, raising the j criteria with the largest gains dominates any other choice
    of j criteria in that pillar (the pillar, hence the total, is at least as high), and the
    outcome never worsens as scores rise; so only per-pillar counts need trying. Before trying
    any count of k changes, an ideal bound is checked: no pillar can gain more than its own
    top-k gains and the total no more than the top-k weighted gains overall. If even that ideal
    misses the target, no set of k changes reaches it. ``holds(pillars, total)`` tells whether
    given pillar scores and total reach the target."""
    pillar_w = dict(model.pillars)
    sums = {p: 0.0 for p in pillar_w}
    weights = {p: 0.0 for p in pillar_w}
    gains: dict[str, list[tuple[float, str]]] = {p: [] for p in pillar_w}
    for code, pillar, w in model.criteria:
        m = medians.get(code)
        if m is None:
            continue
        sums[pillar] += w * m * 25.0
        weights[pillar] += w
    for code, pillar, w in model.criteria:
        m = medians.get(code)
        if m is not None and m < 4:
            gains[pillar].append((w * (4 - m) * 25.0 / weights[pillar], code))
    scored = [p for p in pillar_w if weights[p] > 0]
    base = {p: sums[p] / weights[p] for p in scored}
    total_w = sum(pillar_w[p] for p in scored)
    prefix: dict[str, list[float]] = {}
    for p in scored:
        gains[p].sort(key=lambda t: (-t[0], t[1]))
        acc = [0.0]
        for g, _code in gains[p]:
            acc.append(acc[-1] + g)
        prefix[p] = acc
    weighted = sorted((g * pillar_w[p] / total_w for p in scored for g, _c in gains[p]), reverse=True)
    base_total = sum(base[p] * pillar_w[p] for p in scored) / total_w

    def ideal(k: int) -> bool:
        pillars = {p: base[p] + prefix[p][min(k, len(prefix[p]) - 1)] for p in scored}
        return holds(pillars, base_total + sum(weighted[:k]))

    def compositions(k: int, index: int):  # noqa: ANN202
        if index == len(scored) - 1:
            if k < len(prefix[scored[index]]):
                yield (k,)
            return
        for j in range(min(k, len(prefix[scored[index]]) - 1), -1, -1):
            for rest in compositions(k - j, index + 1):
                yield (j, *rest)

    for k in range(len(greedy) - 1, 0, -1):
        if not ideal(k):
            break
    else:
        k = 0
    # sizes 1..k cannot reach the target; try each larger size below the greedy answer
    for size in range(k + 1, len(greedy)):
        for combo in compositions(size, 0):
            pillars = {p: base[p] + prefix[p][j] for p, j in zip(scored, combo)}
            total = sum(pillars[p] * pillar_w[p] for p in scored) / total_w
            if holds(pillars, total):
                return [code for p, j in zip(scored, combo) for _g, code in gains[p][:j]]
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
