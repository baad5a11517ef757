"""The method document: the active ruleset rendered as Markdown for people.

Pure: a ruleset document in, text out. `vetting rulesets render` writes it to docs/method.md
and the /method page shows the same content, so the published method can never drift from
the rules the engine applies.
"""

from __future__ import annotations

from typing import Any


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ").strip()


def _rubric(rubric: Any) -> list[tuple[str, str]]:
    if isinstance(rubric, dict):
        return [(str(k), str(v)) for k, v in sorted(rubric.items(), key=lambda kv: str(kv[0]))]
    if isinstance(rubric, list):
        out = []
        for i, item in enumerate(rubric):
            if isinstance(item, dict):
                out.append((str(item.get("score", item.get("level", i))), str(item.get("text", item.get("description", "")))))
            else:
                out.append((str(i), str(item)))
        return out
    return []


def _percent(value: Any) -> str:
    return f"{float(value) * 100:g}%"


def _aggregation(agg: dict[str, Any]) -> list[str]:
    """How criterion scores become pillar and total scores, in the words of the method the
    ruleset names."""
    out = ["## Aggregation", ""]
    if agg.get("method") == "median_of_association_medians":
        out += [
            "One association, one voice. For each criterion, each association's median over the scores of its own",
            "counted assessments is taken first; the criterion's score is then the median across those association",
            "medians. An association that files several assessments weighs no more than one that files one, and an",
            "association whose counted assessments all answer a criterion `n/a` has no voice on that criterion.",
        ]
    elif agg.get("method") == "median":
        out += ["For each criterion, its score is the median of the scores of all counted assessments."]
    if "disputed_spread" in agg:
        out += [f"A criterion is *disputed* when the counted scores, over all counted assessments, span {agg['disputed_spread']} points",
                "or more; a disputed criterion still counts, and the decision says so."]
    if "na_renormalise_within_pillar" in agg:
        na = ("its weight is shared among the pillar's other criteria" if agg["na_renormalise_within_pillar"]
              else "it counts as zero within its pillar")
        out += [f"A criterion that no counted assessment scored is `n/a`: {na}."]
    out += ["A pillar score is the weighted mean of its criterion scores on 0–100 (score / 4 × 100); the total is",
            "the pillar-weighted mean of the pillars that have a score.", ""]
    out += [f"- `{key}`: {_cell(value)}" for key, value in agg.items()]
    return out + [""]


def _quorum(quorum: dict[str, Any], method: Any) -> list[str]:
    """The quorum and what makes an assessment (or an association) independent."""
    out = ["## Quorum and independence", ""]
    if {"min_counted", "min_associations", "min_independent"} <= set(quorum):
        out += [f"A decision on the scores needs at least {quorum['min_counted']} counted assessments from at least "
                f"{quorum['min_associations']} associations."]
        if method == "median_of_association_medians":
            out += [
                f"At least {quorum['min_independent']} of those associations must be independent. An association counts as",
                "independent only when none of its counted assessments was filed while the enterprise was its member:",
                "each assessment's standing is fixed on its submission date and stored with it, and one assessment",
                "filed as a member makes the association's voice a member's (conservative on purpose, since its median",
                "mixes that assessment in).",
            ]
        else:
            out += [
                f"At least {quorum['min_independent']} of the counted assessments must be independent: filed by an association",
                "the enterprise was not a member of on the assessment's submission date (its standing, fixed then and",
                "stored with the assessment; for an assessment stored without one, the enterprise's memberships decide).",
            ]
        out += ["Assessments with a declared conflict of interest, or filed with a conflicted standing, are kept but",
                "not counted, and the decision lists them as excluded.", ""]
    out += [f"- `{key}`: {_cell(value)}" for key, value in quorum.items()]
    return out + [""]


def _named_pillars(doc: dict[str, Any]) -> list[str]:
    """What the rows that name failing pillars add to a decision."""
    thresholds = doc.get("thresholds") or {}
    rows = [(i, row) for i, row in enumerate(doc.get("outcomes") or [], start=1) if row.get("name_pillars_below")]
    if not rows:
        return []
    out = ["### Failing pillars named", ""]
    for i, row in rows:
        name = row["name_pillars_below"]
        out.append(f"- Row {i} (`{row.get('reason')}`) names every pillar scored below `{name}` ({thresholds.get(name)}): a reason")
        out.append("  code `PILLAR_<code>` for each, in pillar order, and the pillar with its score in the grounds.")
    return out + [""]


def _challenges() -> list[str]:
    return [
        "## Decided challenges",
        "",
        "When an objection has been upheld or a repair request granted, a later decision with the same outcome on",
        "the same reason codes is *held* for as long as no assessment has been submitted since the challenge was",
        "decided: the decision records what the rules give and names the challenge, and no listing is proposed on",
        "it again. Any assessment submitted after the challenge was decided is new evidence and lifts the hold.",
        "",
    ]


def _due_process(durations: dict[str, Any]) -> list[str]:
    """How a decision becomes a listing: the lifecycle the listings service enforces, with this
    ruleset's durations."""
    days = durations.get("objection_days", "the ruleset's")
    red, black = durations.get("red_months", "the ruleset's"), durations.get("black_months", "the ruleset's")
    return [
        "## From decision to listing",
        "",
        "A decision whose outcome differs from the list the enterprise is on *proposes* a listing (or its",
        "removal); the decision alone lists no one. The enterprise is sent a notice quoting the listing's",
        f"reference. Its objection window of {days} days opens on the day the notice reaches it: the day the",
        "mail server accepts the e-mail, or the day a registrar records that it was served by another channel",
        "(post, courier, in person). Until then the proposal cannot be confirmed and is not shown to the public.",
        "After the window, with no objection open, a registrar other than the one who triggered the proposal",
        f"confirms it: a red listing then runs {red} months, a black listing {black} months, from the day of the",
        "confirmation.",
        "",
        "A listing counts from its first day through its last day (`expires_on`) inclusive and never after,",
        "whether or not the expiry job has run; the status on any past date is answered from these dates.",
        "An enterprise is never on both lists: a confirmed listing ends the one it replaces. When a black",
        "listing is proposed on a confirmed knock-out for an enterprise on the red list, its red listing is",
        "suspended at once (on neither list, shown as suspended pending review) and restored if the black",
        "proposal is withdrawn, revoked or its objection upheld.",
        "",
    ]


def render_method(doc: dict[str, Any], *, content_hash: str | None = None) -> str:
    lines: list[str] = []
    add = lines.append
    add(f"# Scoring method: ruleset {doc.get('version')}")
    add("")
    add("<!-- Generated by `vetting rulesets render` from the active ruleset. Do not edit by hand. -->")
    add("")
    if doc.get("title"):
        add(f"**{doc['title']}**, effective {doc.get('effective_date')}.")
    if content_hash:
        add(f"Content hash (SHA-256 of the canonical document): `{content_hash}`.")
    add("")
    add("Every number on this page is ruleset data. A registrar changes it by publishing a new ruleset")
    add("version; each decision records the hash of the ruleset it was made under and can be replayed.")
    add("")

    scale = doc.get("scale")
    if scale:
        add("## Score scale")
        add("")
        add("| Score | Meaning |")
        add("|---|---|")
        levels = scale.get("levels", scale) if isinstance(scale, dict) else scale
        for level, text in _rubric(levels):
            add(f"| {level} | {_cell(text)} |")
        add("")
        add("A criterion may be answered `n/a` with a written justification.")
        add("")

    pillars = doc.get("pillars") or []
    criteria = doc.get("criteria") or []
    add("## Pillars and criteria")
    add("")
    add("| Pillar | Weight | Criteria |")
    add("|---|---:|---|")
    for p in pillars:
        codes = ", ".join(c["code"] for c in criteria if c.get("pillar") == p.get("code"))
        add(f"| {p.get('code')} {_cell(p.get('name', ''))} | {p.get('weight')} | {codes} |")
    add("")
    for p in pillars:
        add(f"### {p.get('code')}: {p.get('name', '')} (weight {p.get('weight')})")
        add("")
        for c in (c for c in criteria if c.get("pillar") == p.get("code")):
            ref = f" ({c['reference']})" if c.get("reference") else ""
            add(f"#### {c['code']} {c.get('name', '')}{ref}, weight {c.get('weight')}")
            add("")
            if c.get("description"):
                add(_cell(c["description"]))
                add("")
            if c.get("evidence_required_at_or_above") is not None:
                add(f"Evidence is required for a score of {c['evidence_required_at_or_above']} or more.")
                add("")
            add("| Score | Rubric |")
            add("|---|---|")
            for level, text in _rubric(c.get("rubric")):
                add(f"| {level} | {_cell(text)} |")
            add("")

    coverage = doc.get("coverage") or {}
    lines += _aggregation(doc.get("aggregation") or {})
    lines += _quorum(doc.get("quorum") or {}, (doc.get("aggregation") or {}).get("method"))
    if coverage:
        add("## Evidence coverage")
        add("")
        if "min_evidence_coverage" in coverage:
            add(f"At least {_percent(coverage['min_evidence_coverage'])} of the weighted score must be backed by evidence: a")
            add("criterion is evidence-backed when a counted assessment that scored it cites evidence for it.")
            add("")
        for key, value in coverage.items():
            add(f"- `{key}`: {_cell(value)}")
        add("")
    if doc.get("thresholds"):
        add("## Thresholds")
        add("")
        add("| Name | Value |")
        add("|---|---:|")
        for key, value in doc["thresholds"].items():
            add(f"| `{key}` | {value} |")
        add("")

    add("## Knock-outs")
    add("")
    add("Any one knock-out confirmed with evidence in a counted assessment gives BLACK, whatever the scores.")
    add("")
    add("| Code | Title | Evidence required | Repairable |")
    add("|---|---|---|---|")
    for k in doc.get("knockouts") or []:
        add(f"| `{k.get('code')}` | {_cell(k.get('title', ''))} | {'yes' if k.get('evidence_required', True) else 'no'} | "
            f"{'yes' if k.get('repairable', True) else 'no'} |")
    add("")
    blockers = doc.get("red_blockers") or []
    if blockers:
        add("## Red blockers")
        add("")
        add("These keep an enterprise off the red list while they last, whatever the scores.")
        add("")
        for b in blockers:
            if isinstance(b, dict):
                add(f"- `{b.get('code')}`: {_cell(b.get('title', b.get('description', '')))}")
            else:
                add(f"- `{b}`")
        add("")

    add("## Outcome table")
    add("")
    add("Rows are tried in order; the first whose condition holds decides the outcome.")
    add("")
    add("| # | Condition | Outcome | Reason | Grounds |")
    add("|---:|---|---|---|---|")
    for i, row in enumerate(doc.get("outcomes") or [], start=1):
        add(f"| {i} | `{_cell(row.get('when'))}` | {row.get('outcome')} | `{row.get('reason')}` | {_cell(row.get('grounds', ''))} |")
    add("")
    lines += _named_pillars(doc)
    lines += _challenges()
    durations = doc.get("durations") or {}
    lines += _due_process(durations)
    if durations:
        add("## Durations and limits")
        add("")
        for key, value in durations.items():
            add(f"- `{key}`: {_cell(value)}")
        add("")
    return "\n".join(lines).rstrip() + "\n"
