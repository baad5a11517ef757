"""The engine: one enterprise's facts and a compiled ruleset in, a decision out. Pure.

Steps, each recorded in the decision document so that anyone can follow it:

1. **Counting.** Submitted assessments without a conflict of interest are counted; every other
   one is listed as excluded with its reason (conflict_of_interest, withdrawn, superseded,
   draft). A conflict of interest is one declared, or an assessment whose standing fixed at
   filing is "conflicted".
2. **Criteria.** Per criterion, the median of the counted 0–4 scores, their spread, and
   *disputed* when the spread reaches the ruleset's ``disputed_spread``. Under the aggregation
   method ``median_of_association_medians`` (one association, one voice) the median is that of
   the associations' own medians, each over its counted scores, and the entry lists them as
   ``association_medians``; the spread stays over every counted score. A criterion that no
   counted assessment scored (all n/a) is n/a. A criterion is *evidence-backed* when a counted
   assessment that scored it cites evidence for it.
3. **Scores.** A pillar is the weighted mean of its criterion medians on 0–100 (median / 4 ×
   100); n/a criteria drop out and the remaining weights re-normalise within the pillar. The
   total is the pillar-weighted mean of the pillars that have a score.
4. **Coverage.** The weighted share of scored criteria that are evidence-backed.
5. **Quorum.** Counted assessments, distinct associations, and the independent count, against
   the ruleset's minimums. An assessment is independent by the standing fixed when it was
   filed ("independent"); without a recorded standing, when its association is not among the
   enterprise's members. Under ``median_of_association_medians`` the independent count is of
   associations all of whose counted assessments are independent.
6. **Knock-outs.** A knock-out fires when a counted assessment reports it ``confirmed`` with
   evidence. Reported ``alleged`` it is an open allegation; reported confirmed without the
   evidence the ruleset requires it is a disputed knock-out. Both are red blockers, as is a
   project classed red under BRIGC.
7. **Outcome.** The ruleset's outcome rows are tried in order against a typed context; the
   first that holds decides. Every row tried is traced with the values it saw. A row with
   ``name_pillars_below: <threshold>`` adds a reason code ``PILLAR_<code>`` for every pillar
   scored below that threshold and names them, with their scores, in the grounds.
8. **Held.** When a decided challenge (upheld objection, granted repair) had the same outcome
   on the same reason codes and no assessment has been submitted since it was decided, the
   decision is *held*: outcome and reasons stand as the rules give them, the document names
   the challenge under ``held_by`` and the grounds say why nothing is proposed again.
9. **What it would take** to reach the next better outcome (see ``counterfactual``).

Everything new since engine version 1.1 was first used is gated on ruleset data (the
aggregation method, ``name_pillars_below``) or on facts that older inputs do not carry
(standings, challenges), so stored decisions replay byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from vetting.rules.canonical import canonical_json, sha256_hex
from vetting.rules.counterfactual import what_it_would_take  # it imports from here only when called
from vetting.rules.facts import AssessmentFacts, DecidedChallenge, EnterpriseFacts, facts_to_document, instant

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
    held: bool = False  # a decided challenge holds it (document["held_by"] names it): propose nothing


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
        self.pillar_names = {p["code"]: p["name"] for p in doc["pillars"]}
        self.method = doc["aggregation"]["method"]
        self.by_association = self.method == "median_of_association_medians"  # one association, one voice
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

    counted, excluded = _count(facts)
    criteria_doc, medians, disputed, coverage = _criteria(model, counted)
    pillars, total = pillar_and_total(model, medians)
    quorum = _quorum(model, counted, facts.member_associations)
    fired, allegations, disputed_kos = _knockouts(model, counted)
    blockers, red_projects = _blockers(model, facts, allegations, disputed_kos)
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
    below = _pillars_below(model, row, pillars)
    reasons += [f"PILLAR_{p}" for p in below]
    grounds = _grounds(model, row, context, quorum, knockout_codes, blockers, pillars, below)
    held = holding_challenge(facts, outcome, reasons)
    if held is not None:
        grounds += " " + _held_sentence(held)

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
    if held is not None:
        document["held_by"] = {"kind": held.kind, "reference": held.reference, "decided_at": held.decided_at}
    document["what_it_would_take"] = what_it_would_take(ruleset, model, outcome, context, medians, quorum)
    return Decision(outcome=outcome, reason_codes=tuple(reasons), total=_r(total),
                    pillars=dict(rounded), input_hash=input_hash, document=document,
                    inputs=inputs, held=held is not None)


def _count(facts: EnterpriseFacts) -> tuple[list[AssessmentFacts], list[dict[str, Any]]]:
    """The counted assessments (submitted, no conflict of interest) and the excluded ones,
    each with its reason: its status (draft, withdrawn, superseded), else
    ``conflict_of_interest`` (declared, or the standing "conflicted" fixed at filing)."""
    counted = []
    excluded = []
    for a in sorted(facts.assessments, key=_by_id):
        if a.status in _EXCLUDED_STATUSES:
            excluded.append({"assessment": a.id, "association": a.association, "reason": a.status})
        elif a.conflicted:
            excluded.append({"assessment": a.id, "association": a.association, "reason": "conflict_of_interest"})
        else:
            counted.append(a)
    return counted, excluded


def _median(values: Sequence[float]) -> float:
    """The median of ``values``, which are sorted and not empty."""
    n = len(values)
    half = n // 2
    return float(values[half]) if n % 2 else (values[half - 1] + values[half]) / 2.0


def _criteria(model: _Model, counted: list[AssessmentFacts]) -> tuple[list[dict[str, Any]], dict[str, float | None], list[str], float]:
    """Per criterion its document entry and median, the disputed criteria, and the evidence
    coverage (the weighted share of scored criteria that are evidence-backed).

    Under ``median`` a criterion's median is taken over every counted scored value. Under
    ``median_of_association_medians`` each association's median over its own counted scored
    values comes first, then the median across those (one association, one voice); the entry
    then also carries ``association_medians``. Either way the spread (hence *disputed*) is over
    every counted scored value, and a criterion is evidence-backed when a counted assessment
    that scored it cites evidence for it."""
    # One pass over the counted scores: per criterion its score entries for the document, its
    # scored (non-n/a) values, and whether a scored answer cites evidence.
    entries: dict[str, list[dict[str, Any]]] = {c: [] for c in model.codes}
    scored_values: dict[str, list[Any]] = {c: [] for c in model.codes}
    by_association: dict[str, dict[str, list[int]]] | None = {c: {} for c in model.codes} if model.by_association else None
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
                if by_association is not None:
                    by_association[code].setdefault(a.association, []).append(score)
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
        association_medians: dict[str, float] = {}
        if values:
            values.sort()
            if by_association is None:
                median: float | None = _median(values)
            else:
                groups = by_association[code]
                if len(groups) == len(values):
                    # one score per association (the usual case): each is its association's
                    # median, and the median across them is the median of the sorted values
                    association_medians = {assoc: float(v[0]) for assoc, v in sorted(groups.items())}
                    median = _median(values)
                else:
                    association_medians = {assoc: _median(sorted(v)) for assoc, v in sorted(groups.items())}
                    median = _median(sorted(association_medians.values()))
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
        entry: dict[str, Any] = {
            "criterion": code, "pillar": pillar, "weight": weight,
            "scores": entries[code],
            "median": median, "spread": spread, "disputed": is_disputed,
            "not_applicable": median is None, "evidence_backed": backed,
        }
        if by_association is not None:
            entry["association_medians"] = association_medians
        criteria_doc.append(entry)
    coverage = backed_weight / scored_weight if scored_weight > 0 else 0.0
    return criteria_doc, medians, disputed, coverage


def is_independent(assessment: AssessmentFacts, member_associations: frozenset[str]) -> bool:
    """Whether an assessment is independent of the enterprise: by the standing fixed when it
    was filed; when none was recorded (older facts), by the association not being among the
    enterprise's ``member_associations``."""
    if assessment.standing is None:
        return assessment.association not in member_associations
    return assessment.standing == "independent"


def _quorum(model: _Model, counted: list[AssessmentFacts], members: frozenset[str]) -> dict[str, Any]:
    """The quorum: counted assessments, distinct associations with a counted assessment, and
    the independent count, against the ruleset's minimums.

    Under ``median`` the independent count is of counted assessments that are independent.
    Under ``median_of_association_medians`` it is of associations, and an association counts
    as independent only when every one of its counted assessments is: one assessment filed
    while the enterprise was its member makes the association's voice a member's (conservative
    on purpose, as its median mixes that assessment in)."""
    associations = {a.association for a in counted}
    if model.by_association:
        dependent = {a.association for a in counted if not is_independent(a, members)}
        independent = len(associations - dependent)
    else:
        independent = sum(1 for a in counted if is_independent(a, members))
    q = model.quorum
    quorum: dict[str, Any] = {
        "counted": len(counted), "associations": len(associations), "independent": independent,
        "min_counted": q["min_counted"], "min_associations": q["min_associations"], "min_independent": q["min_independent"],
    }
    quorum["met"] = (len(counted) >= q["min_counted"] and len(associations) >= q["min_associations"]
                     and independent >= q["min_independent"])
    return quorum


def _knockouts(model: _Model, counted: list[AssessmentFacts]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Knock-outs fired (confirmed with the evidence the ruleset requires), allegations, and
    disputed knock-outs (confirmed without the required evidence), from counted assessments."""
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
    return fired, allegations, disputed_kos


def _blockers(model: _Model, facts: EnterpriseFacts, allegations: list[dict[str, Any]],
              disputed_kos: list[dict[str, Any]]) -> tuple[list[str], list[int]]:
    """The red blockers the ruleset knows that stand (an open allegation, reported or on the
    register; a disputed knock-out; a project classed red under BRIGC), and the red projects."""
    blockers: list[str] = []
    if (allegations or facts.open_allegations) and "OPEN_ALLEGATION" in model.blockers:
        blockers.append("OPEN_ALLEGATION")
    if disputed_kos and "DISPUTED_KNOCKOUT" in model.blockers:
        blockers.append("DISPUTED_KNOCKOUT")
    red_projects = [p.id for p in sorted(facts.projects, key=_by_id) if p.brigc_class == "red"]
    if red_projects and "BRIGC_RED_PROJECT" in model.blockers:
        blockers.append("BRIGC_RED_PROJECT")
    return blockers, red_projects


def _pillars_below(model: _Model, row: dict[str, Any], pillars: dict[str, float | None]) -> list[str]:
    """The pillars (in ruleset order) scored below the threshold the row's
    ``name_pillars_below`` names; none when the row has no such key."""
    name = row.get("name_pillars_below")
    if name is None:
        return []
    floor = model.named[name]
    return [p for p in model.pillar_codes if (v := pillars[p]) is not None and v < floor]


def _named_pillars(model: _Model, row: dict[str, Any], below: list[str], pillars: dict[str, float | None]) -> str:
    """The sentence naming the pillars below the row's threshold with their scores, e.g.
    "Below 60: P (Project quality) 55.0."."""
    floor = model.named[row["name_pillars_below"]]
    return f"Below {floor:g}: " + ", ".join(f"{p} ({model.pillar_names[p]}) {pillars[p]:.1f}" for p in below) + "."


def holding_challenge(facts: EnterpriseFacts, outcome: str, reasons: Sequence[str]) -> DecidedChallenge | None:
    """The decided challenge that holds this decision, if any: one with the same outcome and
    the same reason codes (in any order) after which no assessment in the facts (whatever its
    status) was submitted. The latest such challenge is named."""
    if not facts.challenges:
        return None
    same = sorted(reasons)
    submitted = [instant(a.submitted_at) for a in facts.assessments if a.submitted_at]
    latest = max(submitted) if submitted else None
    holding = [
        (instant(c.decided_at), c.reference, c) for c in facts.challenges
        if c.outcome == outcome and sorted(c.reason_codes) == same and (latest is None or latest <= instant(c.decided_at))
    ]
    return max(holding, key=lambda t: (t[0], t[1]))[2] if holding else None


def _held_sentence(challenge: DecidedChallenge) -> str:
    day = instant(challenge.decided_at).date().isoformat()  # the date in the offset it was decided in
    what = (f"objection {challenge.reference} upheld" if challenge.kind == "objection_upheld"
            else f"repair {challenge.reference} granted")
    return f"Not proposed again: {what} on {day} on the same grounds, and no new evidence has been filed since."


def _grounds(model: _Model, row: dict[str, Any], ctx: dict[str, Any], quorum: dict[str, Any], knockouts: list[str],
             blockers: list[str], pillars: dict[str, float | None], below: list[str]) -> str:
    """The row's grounds text followed by the figures behind it. Pillars the row names
    (``below``) are stated with their scores in place of the lowest-pillar sentence."""
    text = row["grounds"].strip()
    if below:
        text = f"{text} {_named_pillars(model, row, below, pillars)}"
    reason = row["reason"]
    if reason == "KNOCKOUT":
        titles = "; ".join(model.knockouts[k]["title"] for k in knockouts)
        return f"{text} Confirmed: {titles}."
    if reason == "QUORUM_NOT_MET":
        independent = "independent association(s)" if model.by_association else "independent"
        return (f"{text} Counted assessments: {quorum['counted']} of {quorum['min_counted']} needed, from "
                f"{quorum['associations']} association(s) of {quorum['min_associations']} needed, "
                f"{quorum['independent']} {independent} of {quorum['min_independent']} needed.")
    if reason == "INSUFFICIENT_DATA":
        return f"{text} Evidence backs {ctx['coverage'] * 100:.0f}% of the weighted score; {ctx['min_evidence_coverage'] * 100:.0f}% is needed."
    if reason == "RED_BLOCKED":
        return f"{text} Blockers: {', '.join(blockers)}."
    low = sorted(p for p, v in pillars.items() if v is not None and v < ctx["min_pillar"] + 1e-9)
    scores = f"Total {ctx['total']:.1f}; pillars " + ", ".join(f"{p} {v:.1f}" for p, v in pillars.items() if v is not None) + "."
    if reason == "LOW_PILLAR" and low and not below:
        return f"{text} Lowest pillar: {', '.join(low)}. {scores}"
    return f"{text} {scores}"


def decision_bytes(decision: Decision) -> bytes:
    """The canonical bytes of a decision document (what is stored and compared on replay)."""
    return canonical_json(decision.document, exact=True)
