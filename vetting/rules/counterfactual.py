"""What it would take: the changes that would move a decision to the next better outcome.

For BLACK the target is NONE; for NONE it is RED. Knock-outs and blockers that stand in the way
are named (they cannot be scored away). Quorum and evidence coverage, when short, are stated as
what is missing (under ``median_of_association_medians`` the independent shortfall counts
associations, as the quorum does). The search needs only the final per-criterion medians, however
they were aggregated. Then the criterion changes: starting from the current medians, the search
finds the fewest criteria whose median must rise (an ideal bound bisects for the smallest size
worth trying, then per-pillar counts are tried, see ``_Space``), then lowers each raised
criterion back to the smallest level that still reaches the target. Every answer is checked by
re-running the ruleset's own outcome rows, so it is always a real path.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

from vetting.rules.fastpath import Unsupported

NEXT = {"BLACK": "NONE", "NONE": "RED"}


def what_it_would_take(ruleset: Any, model: Any, outcome: str, context: dict[str, Any],
                       medians: dict[str, float | None], quorum: dict[str, Any]) -> dict[str, Any] | None:
    target = NEXT.get(outcome)
    if target is None:
        return None
    from vetting.rules.engine import first_match, rank  # the engine imports this module

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

    # Only the scores change below; rows that do not mention them are evaluated once (all of
    # them, in order, before the search). The rows a trial has to try are then the dynamic
    # ones up to the first static row that holds, which ends every trial with a fixed answer.
    static = {i: model.checks[i](ctx) for i in model.static_rows}
    goal = rank(target)
    # (whether the row's outcome reaches the target, its fast closure or else its check), and
    # the same with its check, which falls back to rule-engine
    trials: list[tuple[bool, Any]] = []
    checked: list[tuple[bool, Any]] = []
    otherwise = False  # what a trial gives when no dynamic row holds
    for i, row_rank in enumerate(model.row_rank):
        fixed = static.get(i)
        if fixed is None:
            trials.append((row_rank >= goal, model.fast[i] or model.checks[i]))
            checked.append((row_rank >= goal, model.checks[i]))
        elif fixed:
            otherwise = row_rank >= goal
            break

    space = _Space(model, medians)
    if not space.scored:
        reached = rank(model.rows[first_match(ruleset, ctx)]["outcome"]) >= goal
        raised: dict[str, float] = {}
    else:
        scored = space.scored
        # ctx["pillars"] is a dict only a row that names ``pillars`` reads: build it per trial
        # only then (the fast rows read total and min_pillar).
        with_pillars = any(i not in static for i in model.pillar_rows)
        ctx["scored"] = True

        def holds(values: list[float], total: float) -> bool:
            """Whether pillar scores ``values`` (in ``space.scored`` order) and ``total`` reach the target."""
            ctx["total"] = total
            ctx["min_pillar"] = min(values)
            if with_pillars:
                ctx["pillars"] = dict(zip(scored, values))
            try:
                for reaches, fast in trials:
                    if fast(ctx):
                        return reaches
            except Unsupported:
                # a fast closure left a value to rule-engine: try the rows again through their
                # checks, which fall back to it (rows are pure, so trying one twice is harmless)
                for reaches, check in checked:
                    if check(ctx):
                        return reaches
            return otherwise

        raised, reached = space.fewest(holds)
    plan["criterion_changes"] = [{"criterion": c, "from": medians[c], "to": raised[c]} for c, _p, _w in model.criteria if c in raised]
    plan["reachable"] = reached
    plan["summary"] = _words(plan, by_association=model.by_association)
    return plan


class _Space:
    """The criterion medians as pillar sums, for cheap trials of raised scores.

    Raising criterion c of pillar p from median m to level v adds ``w_c (v - m) 25 / W_p`` to
    pillar p, where ``W_p`` is the weight of p's scored criteria; its *gain* is that amount at
    v = 4. Within a pillar, raising the j criteria with the largest gains dominates any other
    choice of j criteria there (the pillar, hence the total, is at least as high), and outcomes
    never worsen as scores rise (property-tested for the shipped rulesets); so the search only
    needs per-pillar counts of raised criteria.

    Pillar values are plain lists in the order of ``scored`` (the scored pillars in ruleset
    order), indexed by position; every sum is taken in the same order as it always was, so the
    floats, hence the answers, do not depend on how they are held.
    """

    def __init__(self, model: Any, medians: dict[str, float | None]) -> None:
        # pillar by pillar (each pillar's criteria in ruleset order, so every sum is added up
        # in the same order as criterion by criterion): scored sums and weights, and the gains
        scored: list[str] = []
        pw: list[float] = []
        weights: list[float] = []
        base: list[float] = []
        all_gains: list[list[tuple[float, str, float]]] = []  # (gain, code, weight), largest first
        prefixes: list[list[float]] = []  # running sums of the gains, from 0.0
        cap: list[int] = []  # how many criteria each pillar can raise
        accumulate = itertools.accumulate
        for (pillar, pillar_weight, criteria), in_code_order in zip(model.pillar_criteria, model.pillar_codes_sorted):
            total = weight = 0.0
            raisable = []
            for code, w in criteria:
                m = medians[code]
                if m is not None:
                    total += w * m * 25.0
                    weight += w
                    if m < 4:
                        raisable.append((w, m, code))
            if weight > 0:
                scored.append(pillar)
                pw.append(pillar_weight)
                weights.append(weight)
                base.append(total / weight)
                gains = [(w * (4 - m) * 25.0 / weight, code, w) for w, m, code in raisable]
                # equal gains by code (stable sorts; raisable is in ruleset order, which usually
                # is code order already), then the largest gains first
                if not in_code_order:
                    gains.sort(key=_code)
                gains.sort(key=_gain, reverse=True)
                all_gains.append(gains)
                prefixes.append(list(accumulate(map(_gain, gains), initial=0.0)))
                cap.append(len(gains))
        self.scored, self.pw, self.weights, self.base = scored, pw, weights, base
        self.gains, self.prefix, self.cap = all_gains, prefixes, cap
        self.medians = medians
        self.position = model.position
        self.total_w = sum(pw)  # the scored pillars' weights, in ruleset order
        self._suffix: dict[int, list[float]] = {}
        self.size = sum(cap)
        # the pillar part of the total with nothing raised, as bound() adds it up
        acc = 0.0
        for b, w in zip(base, pw):
            acc += b * w
        self._unraised_total = acc / self.total_w if scored else 0.0

    def suffix_gains(self, i: int) -> list[float]:
        """Running sums of the weighted gains of pillars i.. (largest first)."""
        acc = self._suffix.get(i)
        if acc is None:
            pw, total_w = self.pw, self.total_w
            gains = sorted((g * pw[q] / total_w for q in range(i, len(pw)) for g, _c, _w in self.gains[q]), reverse=True)
            acc = [0.0]
            for g in gains:
                acc.append(acc[-1] + g)
            self._suffix[i] = acc
        return acc

    def total(self, values: list[float]) -> float:
        return sum(map(operator.mul, values, self.pw)) / self.total_w

    def with_counts(self, counts: tuple[int, ...] | list[int]) -> list[float]:
        return [b + prefix[j] for b, prefix, j in zip(self.base, self.prefix, counts)]

    def bound(self, fixed: tuple[int, ...], left: int, holds: Any) -> bool:
        """A necessary condition for reaching the target with the first pillars raising
        ``fixed`` criteria each and ``left`` more raised among the others: each other pillar
        gains at most its own top-``left`` gains and the total at most their top-``left``
        weighted gains. Outcomes never worsen as scores rise, so if even that misses, so does
        every completion."""
        # (``x if x < y else y`` is min() without the call: this runs for every node searched)
        base, prefix, pw, cap = self.base, self.prefix, self.pw, self.cap
        n = len(fixed)
        gains = self._suffix.get(n) if n < len(base) else None
        if gains is None and n < len(base):
            gains = self.suffix_gains(n)
        if not n:  # as below, with the unraised total added up once
            last = len(gains) - 1
            return holds([b + p[left if left < c else c] for b, p, c in zip(base, prefix, cap)],
                         self._unraised_total + gains[left if left < last else last])
        values = []
        total = 0.0
        for i, j in enumerate(fixed):
            v = base[i] + prefix[i][j]
            values.append(v)
            total += v * pw[i]
        for i in range(n, len(base)):
            c = cap[i]
            values.append(base[i] + prefix[i][left if left < c else c])
            total += base[i] * pw[i]
        total = total / self.total_w
        if gains is not None:
            last = len(gains) - 1
            total += gains[left if left < last else last]
        return holds(values, total)

    def search(self, k: int, holds: Any, fixed: tuple[int, ...] = ()) -> tuple[int, ...] | None:
        """The first per-pillar counts summing to ``k`` that reach the target (the first pillars
        taking the most first), pruning every branch whose bound misses."""
        index = len(fixed)
        limit = self.cap[index]
        if index == len(self.scored) - 1:
            if k > limit:
                return None
            counts = (*fixed, k)
            values = self.with_counts(counts)
            return counts if holds(values, self.total(values)) else None
        for j in range(min(k, limit), -1, -1):
            counts = (*fixed, j)
            if self.bound(counts, k - j, holds):
                found = self.search(k - j, holds, counts)
                if found is not None:
                    return found
        return None

    def fewest(self, holds: Any) -> tuple[dict[str, float], bool]:
        """The fewest criteria to raise, each to the smallest level that still reaches the
        target, and whether the target is reachable at all."""
        if holds(list(self.base), self.total(self.base)):
            return {}, True
        everything = self.with_counts(self.cap)
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
        guess = _Balanced(self)
        for k in range(lo, self.size + 1):
            # every smaller size has been ruled out, so any counts of size k that reach the
            # target are an answer: try the balanced guess first, then search exhaustively
            counts: tuple[int, ...] | None = guess.counts(k)
            values = self.with_counts(counts)
            if not holds(values, self.total(values)):
                counts = self.search(k, holds)
            if counts is not None:
                return self._lowest_levels(counts, holds), True
        raise AssertionError("raising every criterion reaches the target")

    def _lowest_levels(self, counts: tuple[int, ...], holds: Any) -> dict[str, float]:
        """Lower each raised criterion (in the ruleset's order) to the smallest level that
        still reaches the target, the others staying where they are."""
        levels: dict[str, float] = {}
        where: dict[str, tuple[int, float]] = {}
        for i, j in enumerate(counts):
            for _g, code, w in self.gains[i][:j]:
                levels[code] = 4.0
                where[code] = (i, w)
        values = self.with_counts(counts)
        pw, total_w, weights, medians = self.pw, self.total_w, self.weights, self.medians
        for code in sorted(levels, key=self.position.__getitem__):
            i, w = where[code]
            start = medians[code] or 0.0
            # outcomes never worsen as scores rise: bisect the levels between start and 4
            lo, hi = int(start) + 1, 4  # 4 is known to reach the target
            best = values
            while lo < hi:
                mid = (lo + hi) // 2
                trial = values.copy()
                trial[i] = values[i] - w * (4.0 - mid) * 25.0 / weights[i]
                if holds(trial, sum(map(operator.mul, trial, pw)) / total_w):  # self.total(trial), inline
                    hi, best = mid, trial
                else:
                    lo = mid + 1
            values = best
            levels[code] = float(hi)
        return levels


_gain = operator.itemgetter(0)
_code = operator.itemgetter(1)


class _Balanced:
    """Per-pillar counts of size k chosen one raise at a time, each going to the pillar where
    it most lifts the weakest pillar plus the total (a guess that often reaches the target
    under threshold rules). Each raise depends only on the counts so far, so the counts of
    size k + 1 extend those of size k: they are grown as k rises instead of redone."""

    def __init__(self, space: _Space) -> None:
        self.space = space
        self.taken = [0] * len(space.scored)
        self.values = list(space.base)
        self.size = 0

    def counts(self, k: int) -> tuple[int, ...]:
        while self.size < k:
            self._raise_one()
        return tuple(self.taken)

    def _raise_one(self) -> None:
        space, taken, values = self.space, self.taken, self.values
        # the weakest other pillar of i is the lowest pillar, or the second lowest for the
        # lowest itself (a stable sort puts the first of equals first, as min() would)
        order = sorted(range(len(values)), key=values.__getitem__)
        low = order[0]
        second = values[order[1]] if len(order) > 1 else None
        best, best_key = -1, 0.0
        cap, pw, total_w, lowest = space.cap, space.pw, space.total_w, values[low]
        for i, prefix in enumerate(space.prefix):
            j = taken[i]
            if j >= cap[i]:
                continue
            gain = prefix[j + 1] - prefix[j]
            raised = values[i] + gain
            other = second if i == low else lowest
            new_low = raised if other is None or other > raised else other
            key = new_low + gain * pw[i] / total_w
            if best < 0 or key > best_key:
                best, best_key = i, key
        taken[best] += 1
        values[best] = space.base[best] + space.prefix[best][taken[best]]
        self.size += 1


def _words(plan: dict[str, Any], *, by_association: bool = False) -> str:
    """The plan in one sentence. ``by_association``: the ruleset counts independence by
    association (``median_of_association_medians``), so the independent shortfall is in
    associations."""
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
            if by_association:
                need.append(f"assessments from {q['independent']} more association(s) none of whose counted assessments "
                            "was filed while the enterprise was its member")
            else:
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
