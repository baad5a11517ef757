"""The engine: one enterprise's facts and a compiled ruleset in, a decision out. Pure.

Steps, each recorded in the decision document so that anyone can follow it:

1. **Counting.** Submitted assessments without a declared conflict of interest are counted;
   every other one is listed as excluded with its reason (conflict_of_interest, withdrawn,
   superseded, draft).
2. **Criteria.** Per criterion, the median of the counted 0–4 scores, their spread, and
   *disputed* when the spread reaches the ruleset's ``disputed_spread``. A criterion that no
   counted assessment scored (all n/a) is n/a. A criterion is *evidence-backed* when a counted
   assessment that scored it cites evidence for it.
3. **Scores.** A pillar is the weighted mean of its criterion medians on 0–100 (median / 4 ×
   100); n/a criteria drop out and the remaining weights re-normalise within the pillar. The
   total is the pillar-weighted mean of the pillars that have a score.
4. **Coverage.** The weighted share of scored criteria that are evidence-backed.
5. **Quorum.** Counted assessments, distinct associations, and independent assessments (from
   associations the enterprise is not a member of), against the ruleset's minimums.
6. **Knock-outs.** A knock-out fires when a counted assessment reports it ``confirmed`` with
   evidence. Reported ``alleged`` it is an open allegation; reported confirmed without the
   evidence the ruleset requires it is a disputed knock-out. Both are red blockers, as is a
   project classed red under BRIGC.
7. **Outcome.** The ruleset's outcome rows are tried in order against a typed context; the
   first that holds decides. Every row tried is traced with the values it saw.
8. **What it would take** to reach the next better outcome (see ``counterfactual``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from vetting.rules.canonical import canonical_json, sha256_hex
from vetting.rules.counterfactual import what_it_would_take  # it imports from here only when called
from vetting.rules.facts import EnterpriseFacts, facts_to_document

ENGINE_VERSION = "1.1"  # 1.1: what-it-would-take picks among equally small sets differently

_EXCLUDED_STATUSES = frozenset({"draft", "withdrawn", "superseded"})  # excluded with the status as the reason
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ORDER = {"BLACK": 0, "NONE": 1, "RED": 2}


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason_codes: tuple[str, ...]
    total: float | None
    pillars: dict[str, float | None]
    input_hash: str
    document: dict[str, Any]
    inputs: bytes = b""  # the canonical bytes of the facts (what the hash is over)


def rank(outcome: str) -> int:
    """BLACK < NONE < RED."""
    return _ORDER[outcome]


_by_id = attrgetter("id")  # assessments and projects


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


class _Model:
    """Pre-digested ruleset parts the engine needs on every evaluation."""

    def __init__(self, ruleset: Any) -> None:
        doc = ruleset.document
        self.ruleset = ruleset
        self.criteria = [(c["code"], c["pillar"], float(c["weight"])) for c in doc["criteria"]]
        self.codes = [code for code, _p, _w in self.criteria]
        self.pillars = [(p["code"], float(p["weight"])) for p in doc["pillars"]]
        self.pillar_codes = [p for p, _ in self.pillars]
        self.disputed_spread = int(doc["aggregation"]["disputed_spread"])
        self.renormalise = bool(doc["aggregation"]["na_renormalise_within_pillar"])
        self.quorum = doc["quorum"]
        self.knockouts = {k["code"]: k for k in doc["knockouts"]}
        self.blockers = {b["code"] for b in doc["red_blockers"]}
        self.rows = doc["outcomes"]
        # the part of each row's trace entry that is the same in every decision
        self.trace_heads = [{"row": i + 1, "when": r["when"], "outcome": r["outcome"], "reason": r["reason"]} for i, r in enumerate(self.rows)]
        self.named = {k: float(v) for k, v in (doc.get("thresholds") or {}).items()}
        self.named["min_evidence_coverage"] = float(doc["coverage"]["min_evidence_coverage"])
        self.row_names = [sorted({n for n in _IDENT.findall(r["when"])} - {"and", "or", "not", "true", "false", "null", "in"}) for r in self.rows]
        self.memo: dict[Any, bool] = {}
        from vetting.rules.fastpath import compile_condition

        self.fast = [compile_condition(rule, self.named) for rule in ruleset.conditions]
        self.checks = [_row_check(ruleset, self, i) for i in range(len(self.rows))]
        # for the counterfactual search
        self.pillar_weight = dict(self.pillars)
        self.pillar_criteria = [(p, w, [(code, cw) for code, cp, cw in self.criteria if cp == p]) for p, w in self.pillars]
        # whether each pillar's criteria come in code order (the search then need not sort by code)
        self.pillar_codes_sorted = [[c for c, _w in cs] == sorted(c for c, _w in cs) for _p, _w, cs in self.pillar_criteria]
        self.position = {code: i for i, (code, _p, _w) in enumerate(self.criteria)}
        self.row_rank = [rank(row["outcome"]) for row in self.rows]
        # rows whose result does not depend on the scores (see counterfactual)
        self.static_rows = [i for i, names in enumerate(self.row_names) if not _SCORE_NAMES.intersection(names)]
        self.pillar_rows = [i for i, names in enumerate(self.row_names) if "pillars" in names]


_SCORE_NAMES = frozenset({"total", "min_pillar", "pillars", "scored"})


def _row_check(ruleset: Any, model: _Model, i: int) -> Any:
    """A function telling whether outcome row ``i`` holds on a context: the fast evaluator
    when the condition's shape allows, else rule-engine, memoised on the values of the names
    the row mentions."""
    from vetting.rules.fastpath import Unsupported

    condition = ruleset.conditions[i]
    names = model.row_names[i]
    memo = model.memo

    def by_rule_engine(context: dict[str, Any]) -> bool:
        key = (i, tuple(_key(context.get(n)) for n in names))
        hit = memo.get(key)
        if hit is None:
            if len(memo) > 200_000:
                memo.clear()
            hit = memo[key] = bool(condition.matches(context))
        return hit

    fast = model.fast[i]
    if fast is None:
        return by_rule_engine

    def check(context: dict[str, Any]) -> bool:
        try:
            return fast(context)
        except Unsupported:
            return by_rule_engine(context)

    return check


_models: dict[str, _Model] = {}


def _model(ruleset: Any) -> _Model:
    model = _models.get(ruleset.hash)
    if model is None:
        model = _models[ruleset.hash] = _Model(ruleset)
    return model


def pillar_and_total(model: _Model, medians: dict[str, float | None]) -> tuple[dict[str, float | None], float | None]:
    sums = dict.fromkeys(model.pillar_codes, 0.0)
    weights = dict.fromkeys(model.pillar_codes, 0.0)
    renormalise = model.renormalise
    for code, pillar, weight in model.criteria:
        m = medians.get(code)
        if m is None:
            if not renormalise:
                weights[pillar] += weight
            continue
        sums[pillar] += weight * m * 25.0
        weights[pillar] += weight
    pillars: dict[str, float | None] = {}
    num = den = 0.0
    for p, pw in model.pillars:
        w = weights[p]
        if w > 0:
            v = pillars[p] = sums[p] / w
            num += v * pw
            den += pw
        else:
            pillars[p] = None
    return pillars, (num / den if den > 0 else None)


def _key(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def row_holds(ruleset: Any, model: _Model, i: int, context: dict[str, Any]) -> bool:
    """Whether outcome row ``i`` holds: through the fast evaluator when the condition's shape
    allows, else through rule-engine, memoised on the values of the names the row mentions."""
    return model.checks[i](context)


def decide(ruleset: Any, context: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Try the outcome rows in order; return the index of the first that holds and the trace."""
    model = _model(ruleset)
    trace: list[dict[str, Any]] = []
    chosen = -1
    checks, row_names = model.checks, model.row_names
    for i, head in enumerate(model.trace_heads):
        if chosen >= 0:
            trace.append({**head, "result": "not evaluated"})
            continue
        held = checks[i](context)
        seen = {}
        for n in row_names[i]:
            if n in context:
                value = context[n]
                # most values are floats: round them here rather than through _plain's checks
                seen[n] = round(value, 4) if type(value) is float else _plain(value)
        trace.append({**head, "result": "holds" if held else "does not hold", "values": seen})
        if held:
            chosen = i
    return chosen, trace


def first_match(ruleset: Any, context: dict[str, Any]) -> int:
    """Like :func:`decide` without the trace (used by the counterfactual search)."""
    model = _model(ruleset)
    for i in range(len(model.rows)):
        if row_holds(ruleset, model, i, context):
            return i
    return -1


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def build_context(model: _Model, pillars: dict[str, float | None], total: float | None, coverage: float,
                  quorum: dict[str, Any], knockouts: list[str], blockers: list[str], disputed: list[str]) -> dict[str, Any]:
    scored_pillars = {p: float(v) for p, v in pillars.items() if v is not None}
    ctx: dict[str, Any] = {
        "total": float(total) if total is not None else 0.0,
        "scored": total is not None,
        "min_pillar": min(scored_pillars.values()) if scored_pillars else 0.0,
        "pillars": scored_pillars,
        "coverage": float(coverage),
        "quorum_met": bool(quorum["met"]),
        "counted": float(quorum["counted"]),
        "associations": float(quorum["associations"]),
        "independent": float(quorum["independent"]),
        "knockouts": tuple(knockouts),
        "knockout_count": float(len(knockouts)),
        "blockers": tuple(blockers),
        "blocker_count": float(len(blockers)),
        "disputed": tuple(disputed),
    }
    ctx.update(model.named)
    return ctx


def evaluate(ruleset: Any, facts: EnterpriseFacts) -> Decision:
    """Evaluate ``facts`` under the compiled ``ruleset``; same inputs give byte-identical output."""
    model = _model(ruleset)
    inputs = canonical_json(facts_to_document(facts), exact=True)
    input_hash = sha256_hex(inputs)

    counted = []
    excluded = []
    for a in sorted(facts.assessments, key=_by_id):
        if a.status in _EXCLUDED_STATUSES:
            excluded.append({"assessment": a.id, "association": a.association, "reason": a.status})
        elif a.conflict_declared:
            excluded.append({"assessment": a.id, "association": a.association, "reason": "conflict_of_interest"})
        else:
            counted.append(a)

    # One pass over the counted scores: per criterion its score entries for the document, its
    # scored (non-n/a) values, and whether a scored answer cites evidence.
    entries: dict[str, list[dict[str, Any]]] = {c: [] for c in model.codes}
    scored_values: dict[str, list[Any]] = {c: [] for c in model.codes}
    backed_codes: set[str] = set()
    for a in counted:
        aid = a.id
        for s in a.scores:
            code = s.criterion
            listed = entries.get(code)
            if listed is None:
                continue
            score = s.score
            listed.append({"assessment": aid, "score": score})
            if score is not None:
                scored_values[code].append(score)
                if s.evidence:
                    backed_codes.add(code)

    criteria_doc = []
    medians: dict[str, float | None] = {}
    disputed: list[str] = []
    backed_weight = 0.0
    scored_weight = 0.0
    spread_limit = model.disputed_spread
    for code, pillar, weight in model.criteria:
        values = scored_values[code]
        if values:
            values.sort()
            n = len(values)
            half = n // 2
            median: float | None = float(values[half]) if n % 2 else (values[half - 1] + values[half]) / 2.0
            spread = values[-1] - values[0]
            is_disputed = spread >= spread_limit
            backed = code in backed_codes
            scored_weight += weight
            if backed:
                backed_weight += weight
            if is_disputed:
                disputed.append(code)
        else:
            median, spread, is_disputed, backed = None, 0, False, False
        medians[code] = median
        criteria_doc.append({
            "criterion": code, "pillar": pillar, "weight": weight,
            "scores": entries[code],
            "median": median, "spread": spread, "disputed": is_disputed,
            "not_applicable": median is None, "evidence_backed": backed,
        })
    pillars, total = pillar_and_total(model, medians)
    coverage = backed_weight / scored_weight if scored_weight > 0 else 0.0

    associations = {a.association for a in counted}
    independent = [a for a in counted if a.association not in facts.member_associations]
    q = model.quorum
    quorum = {
        "counted": len(counted), "associations": len(associations), "independent": len(independent),
        "min_counted": q["min_counted"], "min_associations": q["min_associations"], "min_independent": q["min_independent"],
    }
    quorum["met"] = (len(counted) >= q["min_counted"] and len(associations) >= q["min_associations"]
                     and len(independent) >= q["min_independent"])

    fired: dict[str, list[dict[str, Any]]] = {}
    allegations: list[dict[str, Any]] = []
    disputed_kos: list[dict[str, Any]] = []
    for a in counted:
        if not a.knockouts:
            continue
        for k in sorted(a.knockouts, key=lambda k: k.code):
            spec = model.knockouts.get(k.code)
            if spec is None:
                continue
            evidence = [{"kind": e.kind, "reference": e.reference} for e in k.evidence]
            if k.status == "confirmed" and (evidence or not spec.get("evidence_required", True)):
                fired.setdefault(k.code, []).append({"assessment": a.id, "association": a.association, "evidence": evidence,
                                                     "description": k.description})
            elif k.status == "confirmed":
                disputed_kos.append({"code": k.code, "assessment": a.id, "why": "reported confirmed without the required evidence"})
            else:
                allegations.append({"code": k.code, "assessment": a.id, "description": k.description})
    blockers: list[str] = []
    if (allegations or facts.open_allegations) and "OPEN_ALLEGATION" in model.blockers:
        blockers.append("OPEN_ALLEGATION")
    if disputed_kos and "DISPUTED_KNOCKOUT" in model.blockers:
        blockers.append("DISPUTED_KNOCKOUT")
    red_projects = [p.id for p in sorted(facts.projects, key=_by_id) if p.brigc_class == "red"]
    if red_projects and "BRIGC_RED_PROJECT" in model.blockers:
        blockers.append("BRIGC_RED_PROJECT")
    knockout_codes = sorted(fired)

    context = build_context(model, pillars, total, coverage, quorum, knockout_codes, blockers, disputed)
    chosen, trace = decide(ruleset, context)
    row = model.rows[chosen]
    outcome = row["outcome"]
    reasons = [row["reason"]]
    if row["reason"] == "KNOCKOUT":
        reasons += knockout_codes
    elif row["reason"] == "RED_BLOCKED":
        reasons += blockers
    grounds = _grounds(model, row, context, quorum, knockout_codes, blockers, pillars)

    rounded = {p: _r(v) for p, v in pillars.items()}
    document: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "ruleset": {"version": ruleset.version, "hash": ruleset.hash},
        "enterprise_id": facts.enterprise_id,
        "input_hash": input_hash,
        "outcome": outcome,
        "reason_codes": reasons,
        "grounds": grounds,
        "scores": {"total": _r(total), "pillars": rounded},
        "coverage": _r(coverage),
        "quorum": quorum,
        "criteria": criteria_doc,
        "assessments": {"counted": [a.id for a in counted], "excluded": excluded},
        "knockouts": [{"code": c, "title": model.knockouts[c]["title"], "confirmed_by": fired[c]} for c in knockout_codes],
        "allegations": allegations,
        "disputed_knockouts": disputed_kos,
        "blockers": blockers,
        "brigc_red_projects": red_projects,
        "trace": trace,
    }
    document["what_it_would_take"] = what_it_would_take(ruleset, model, outcome, context, medians, quorum)
    return Decision(outcome=outcome, reason_codes=tuple(reasons), total=_r(total),
                    pillars=dict(rounded), input_hash=input_hash, document=document,
                    inputs=inputs)


def _grounds(model: _Model, row: dict[str, Any], ctx: dict[str, Any], quorum: dict[str, Any], knockouts: list[str],
             blockers: list[str], pillars: dict[str, float | None]) -> str:
    text = row["grounds"].strip()
    reason = row["reason"]
    if reason == "KNOCKOUT":
        titles = "; ".join(model.knockouts[k]["title"] for k in knockouts)
        return f"{text} Confirmed: {titles}."
    if reason == "QUORUM_NOT_MET":
        return (f"{text} Counted assessments: {quorum['counted']} of {quorum['min_counted']} needed, from "
                f"{quorum['associations']} association(s) of {quorum['min_associations']} needed, "
                f"{quorum['independent']} independent of {quorum['min_independent']} needed.")
    if reason == "INSUFFICIENT_DATA":
        return f"{text} Evidence backs {ctx['coverage'] * 100:.0f}% of the weighted score; {ctx['min_evidence_coverage'] * 100:.0f}% is needed."
    if reason == "RED_BLOCKED":
        return f"{text} Blockers: {', '.join(blockers)}."
    low = sorted(p for p, v in pillars.items() if v is not None and v < ctx["min_pillar"] + 1e-9)
    scores = f"Total {ctx['total']:.1f}; pillars " + ", ".join(f"{p} {v:.1f}" for p, v in pillars.items() if v is not None) + "."
    if reason == "LOW_PILLAR" and low:
        return f"{text} Lowest pillar: {', '.join(low)}. {scores}"
    return f"{text} {scores}"


def decision_bytes(decision: Decision) -> bytes:
    """The canonical bytes of a decision document (what is stored and compared on replay)."""
    return canonical_json(decision.document, exact=True)
