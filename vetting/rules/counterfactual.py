"""What it would take: the changes that would move a decision to the next better outcome.

For BLACK the target is NONE; for NONE it is RED. Knock-outs and blockers that stand in the way
are named (they cannot be scored away). Quorum and evidence coverage, when short, are stated as
what is missing. Then the criterion changes: starting from the current medians, the search
finds the fewest criteria whose median must rise (an ideal bound bisects for the smallest size
worth trying, then per-pillar counts are tried, see ``_Space``), then lowers each raised
criterion back to the smallest level that still reaches the target. Every answer is checked by
re-running the ruleset's own outcome rows, so it is always a real path.
"""

from __future__ import annotations

from typing import Any

NEXT = {"BLACK": "NONE", "NONE": "RED"}


def what_it_would_take(ruleset: Any, model: Any, outcome: str, context: dict[str, Any],
                       medians: dict[str, float | None], quorum: dict[str, Any]) -> dict[str, Any] | None:
    from vetting.rules.engine import rank

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

    from vetting.rules.engine import first_match, row_holds
    from vetting.rules.fastpath import Unsupported

    # Only the scores change below; rows that do not mention them are evaluated once.
    dynamic = {"total", "min_pillar", "pillars", "scored"}
    static = {i: row_holds(ruleset, model, i, ctx)
              for i, names in enumerate(model.row_names) if not dynamic.intersection(names)}
    goal = rank(target)
    # (rank of the row's outcome, its fixed result or None, the fast closure or None, index)
    checks = [(rank(row["outcome"]), static.get(i), model.fast[i], i) for i, row in enumerate(model.rows)]

    def holds(pillars: dict[str, float], total: float) -> bool:
        """Whether pillar scores ``pillars`` and ``total`` reach the target."""
        ctx["total"] = float(total)
        ctx["scored"] = True
        ctx["pillars"] = pillars
        ctx["min_pillar"] = min(pillars.values())
        for row_rank, fixed, fast, i in checks:
            if fixed is None:
                if fast is None:
                    fixed = row_holds(ruleset, model, i, ctx)
                else:
                    try:
                        fixed = fast(ctx)
                    except Unsupported:
                        fixed = row_holds(ruleset, model, i, ctx)
            if fixed:
                return row_rank >= goal
        return False

    space = _Space(model, medians)
    if not space.scored:
        reached = rank(model.rows[first_match(ruleset, ctx)]["outcome"]) >= goal
        raised: dict[str, float] = {}
    else:
        raised, reached = space.fewest(holds)
    plan["criterion_changes"] = [{"criterion": c, "from": medians[c], "to": raised[c]} for c, _p, _w in model.criteria if c in raised]
    plan["reachable"] = reached
    plan["summary"] = _words(plan)
    return plan


class _Space:
    """The criterion medians as pillar sums, for cheap trials of raised scores.

    Raising criterion c of pillar p from median m to level v adds ``w_c (v - m) 25 / W_p`` to
    pillar p, where ``W_p`` is the weight of p's scored criteria; its *gain* is that amount at
    v = 4. Within a pillar, raising the j criteria with the largest gains dominates any other
    choice of j criteria there (the pillar, hence the total, is at least as high), and outcomes
    never worsen as scores rise (property-tested for the shipped rulesets); so the search only
    needs per-pillar counts of raised criteria.
    """

    def __init__(self, model: Any, medians: dict[str, float | None]) -> None:
        self.pillar_w = dict(model.pillars)
        sums = {p: 0.0 for p in self.pillar_w}
        weights = {p: 0.0 for p in self.pillar_w}
        for code, pillar, w in model.criteria:
            m = medians.get(code)
            if m is not None:
                sums[pillar] += w * m * 25.0
                weights[pillar] += w
        self.scored = [p for p in self.pillar_w if weights[p] > 0]
        self.weights = weights
        self.medians = medians
        self.position = {code: i for i, (code, _p, _w) in enumerate(model.criteria)}
        self.base = {p: sums[p] / weights[p] for p in self.scored}
        self.total_w = sum(self.pillar_w[p] for p in self.scored)
        self.gains: dict[str, list[tuple[float, str, float]]] = {p: [] for p in self.scored}
        for code, pillar, w in model.criteria:
            m = medians.get(code)
            if m is not None and m < 4:
                self.gains[pillar].append((w * (4 - m) * 25.0 / weights[pillar], code, w))
        self.prefix: dict[str, list[float]] = {}
        for p in self.scored:
            self.gains[p].sort(key=lambda t: (-t[0], t[1]))
            acc = [0.0]
            for g, _code, _w in self.gains[p]:
                acc.append(acc[-1] + g)
            self.prefix[p] = acc
        self._suffix: dict[int, list[float]] = {}
        self.size = sum(len(self.prefix[p]) - 1 for p in self.scored)

    def suffix_gains(self, i: int) -> list[float]:
        """Running sums of the weighted gains of pillars i.. (largest first)."""
        acc = self._suffix.get(i)
        if acc is None:
            gains = sorted((g * self.pillar_w[p] / self.total_w for p in self.scored[i:] for g, _c, _w in self.gains[p]), reverse=True)
            acc = [0.0]
            for g in gains:
                acc.append(acc[-1] + g)
            self._suffix[i] = acc
        return acc

    def total(self, pillars: dict[str, float]) -> float:
        return sum(pillars[p] * self.pillar_w[p] for p in self.scored) / self.total_w

    def with_counts(self, counts: tuple[int, ...]) -> dict[str, float]:
        return {p: self.base[p] + self.prefix[p][j] for p, j in zip(self.scored, counts)}

    def bound(self, fixed: tuple[int, ...], left: int, holds: Any) -> bool:
        """A necessary condition for reaching the target with the first pillars raising
        ``fixed`` criteria each and ``left`` more raised among the others: each other pillar
        gains at most its own top-``left`` gains and the total at most their top-``left``
        weighted gains. Outcomes never worsen as scores rise, so if even that misses, so does
        every completion."""
        pillars = {}
        total = 0.0
        for p, j in zip(self.scored, fixed):
            pillars[p] = v = self.base[p] + self.prefix[p][j]
            total += v * self.pillar_w[p]
        for p in self.scored[len(fixed):]:
            prefix = self.prefix[p]
            pillars[p] = self.base[p] + prefix[min(left, len(prefix) - 1)]
            total += self.base[p] * self.pillar_w[p]
        total = total / self.total_w
        if len(fixed) < len(self.scored):
            gains = self.suffix_gains(len(fixed))
            total += gains[min(left, len(gains) - 1)]
        return holds(pillars, total)

    def search(self, k: int, holds: Any, fixed: tuple[int, ...] = ()) -> tuple[int, ...] | None:
        """The first per-pillar counts summing to ``k`` that reach the target (the first pillars
        taking the most first), pruning every branch whose bound misses."""
        index = len(fixed)
        limit = len(self.prefix[self.scored[index]]) - 1
        if index == len(self.scored) - 1:
            if k > limit:
                return None
            counts = (*fixed, k)
            pillars = self.with_counts(counts)
            return counts if holds(pillars, self.total(pillars)) else None
        for j in range(min(k, limit), -1, -1):
            if self.bound((*fixed, j), k - j, holds):
                found = self.search(k - j, holds, (*fixed, j))
                if found is not None:
                    return found
        return None

    def fewest(self, holds: Any) -> tuple[dict[str, float], bool]:
        """The fewest criteria to raise, each to the smallest level that still reaches the
        target, and whether the target is reachable at all."""
        if holds(dict(self.base), self.total(self.base)):
            return {}, True
        everything = self.with_counts(tuple(len(self.prefix[p]) - 1 for p in self.scored))
        if not holds(everything, self.total(everything)):
            return {}, False
        # the bound with nothing fixed only grows with k: bisect for the first size it admits
        lo, hi = 1, self.size
        while lo < hi:
            mid = (lo + hi) // 2
            if self.bound((), mid, holds):
                hi = mid
            else:
                lo = mid + 1
        for k in range(lo, self.size + 1):
            # every smaller size has been ruled out, so any counts of size k that reach the
            # target are an answer: try the balanced guess first, then search exhaustively
            counts = self.balanced(k)
            pillars = self.with_counts(counts)
            if not holds(pillars, self.total(pillars)):
                counts = self.search(k, holds)
            if counts is not None:
                return self._lowest_levels(counts, holds), True
        raise AssertionError("raising every criterion reaches the target")

    def balanced(self, k: int) -> tuple[int, ...]:
        """Per-pillar counts of size k chosen one raise at a time, each going to the pillar
        where it most lifts the weakest pillar plus the total (a guess that often reaches the
        target under threshold rules)."""
        counts = dict.fromkeys(self.scored, 0)
        values = dict(self.base)
        for _ in range(k):
            best, best_key = None, None
            for p in self.scored:
                j = counts[p]
                if j + 1 >= len(self.prefix[p]):
                    continue
                gain = self.prefix[p][j + 1] - self.prefix[p][j]
                new_low = min([values[p] + gain, *(v for q, v in values.items() if q != p)])
                key = new_low + gain * self.pillar_w[p] / self.total_w
                if best_key is None or key > best_key:
                    best, best_key = p, key
            counts[best] += 1
            values[best] = self.base[best] + self.prefix[best][counts[best]]
        return tuple(counts[p] for p in self.scored)

    def _lowest_levels(self, counts: tuple[int, ...], holds: Any) -> dict[str, float]:
        """Lower each raised criterion (in the ruleset's order) to the smallest level that
        still reaches the target, the others staying where they are."""
        levels: dict[str, float] = {}
        where: dict[str, tuple[str, float]] = {}
        for p, j in zip(self.scored, counts):
            for _g, code, w in self.gains[p][:j]:
                levels[code] = 4.0
                where[code] = (p, w)
        pillars = self.with_counts(counts)
        for code in sorted(levels, key=self.position.__getitem__):
            p, w = where[code]
            start = self.medians[code] or 0.0
            # outcomes never worsen as scores rise: bisect the levels between start and 4
            lo, hi = int(start) + 1, 4  # 4 is known to reach the target
            best = pillars
            while lo < hi:
                mid = (lo + hi) // 2
                trial = dict(pillars)
                trial[p] = pillars[p] - w * (4.0 - mid) * 25.0 / self.weights[p]
                if holds(trial, self.total(trial)):
                    hi, best = mid, trial
                else:
                    lo = mid + 1
            pillars = best
            levels[code] = float(hi)
        return levels


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
