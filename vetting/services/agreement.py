"""Rater agreement: Krippendorff's alpha per criterion, per ruleset version.

A unit is one enterprise; its values are the scores that counted assessments filed under that
ruleset version gave the criterion. A low alpha means reviewers read the rubric differently:
the rubric needs work before decisions lean on that criterion.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting import rules
from vetting.models import Assessment, AssessmentStatus, Ruleset
from vetting.services.evaluation import compiled, load_facts

METHOD = (
    "Krippendorff's alpha (interval metric) per criterion. Units are enterprises; values are the "
    "0-4 scores of counted assessments (submitted, no declared conflict); n/a answers are left out. "
    "alpha = 1 - observed disagreement / expected disagreement; 1 is perfect agreement, 0 is no "
    "better than chance. Units with fewer than two values cannot be paired and are left out."
)


@dataclass
class AgreementReport:
    method: str = METHOD
    by_version: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def agreement_report(session: Session) -> AgreementReport:
    report = AgreementReport()
    rows = session.execute(
        select(Assessment.id, Assessment.enterprise_id, Assessment.ruleset_id)
        .where(Assessment.status == AssessmentStatus.SUBMITTED)
    ).all()
    by_ruleset: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for a_id, ent_id, rs_id in rows:
        by_ruleset[rs_id][ent_id].add(a_id)
    for rs_id, enterprises in sorted(by_ruleset.items()):
        ruleset = session.get(Ruleset, rs_id)
        facts = load_facts(session, sorted(enterprises))
        filtered = [
            dataclasses.replace(f, assessments=tuple(a for a in f.assessments if a.id in enterprises[eid]))
            for eid, f in facts.items()
        ]
        report.by_version[ruleset.version] = rules.agreement_by_criterion(compiled(ruleset), filtered)
    return report


def agreement_json(report: AgreementReport) -> str:
    return json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2)
