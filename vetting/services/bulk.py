"""Bulk import of assessments (a file from the command line, or a batch over the API).

Every record is validated against the active ruleset first; valid records are filed and
submitted in chunks, and each chunk re-evaluates the enterprises it touched in the same
transaction. A record may carry an ``idempotency_key``: re-running an import skips the records
already imported with that key (so an interrupted import resumes), and refuses a key reused with
different content. ``atomic`` files everything in one transaction, or nothing if any record is
rejected.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting.errors import DomainError, ValidationError
from vetting.models import Account, Assessment, AssessmentStatus, IdempotencyKey, Role
from vetting.models.types import utcnow
from vetting.services import audit
from vetting.services.actors import Actor
from vetting.services.assessment_input import parse
from vetting.services.assessments import _apply
from vetting.services.evaluation import evaluate_many
from vetting.services.rulesets import active_ruleset

IMPORT_PATH = "import:assessments"


@dataclass
class ImportReport:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    committed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": len(self.accepted), "skipped": len(self.skipped), "rejected": len(self.rejected),
                "decisions": self.decisions, "committed": self.committed,
                "accepted_records": self.accepted, "skipped_records": self.skipped, "rejected_records": self.rejected}


def read_records(name: str, text: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) from JSON Lines or CSV text; a line that cannot be read is a record
    that will be rejected with the reason."""
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            yield reader.line_num, _from_csv(row)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, {"__error__": f"not valid JSON: {exc.msg} at column {exc.colno}"}


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row: enterprise_id, reviewer, conflict_declared, conflict_note, summary, project_id,
    idempotency_key, then per criterion CODE (0–4 or n/a), CODE_justification, CODE_evidence
    (references separated by ' | ', filed as documents)."""
    record: dict[str, Any] = {"scores": {}}
    for key in ("reviewer", "summary", "idempotency_key"):
        if row.get(key):
            record[key] = row[key]
    for key in ("enterprise_id", "project_id"):
        if row.get(key):
            record[key] = int(row[key]) if row[key].strip().isdigit() else row[key]
    if row.get("conflict_declared", "") != "":
        record["conflict"] = {"declared": row["conflict_declared"].strip().lower() in ("1", "true", "yes"),
                              "note": row.get("conflict_note") or None}
    for column, value in row.items():
        if column is None or "_" in column or column in ("reviewer", "summary"):
            continue
        if value in (None, ""):
            continue
        code = column
        score: Any = value.strip()
        score = "n/a" if score.lower() == "n/a" else int(score) if score.isdigit() else score
        entry: dict[str, Any] = {"score": score}
        if row.get(f"{code}_justification"):
            entry["justification"] = row[f"{code}_justification"]
        refs = [r.strip() for r in (row.get(f"{code}_evidence") or "").split(" | ") if r.strip()]
        entry["evidence"] = [{"kind": "document", "reference": r} for r in refs]
        record["scores"][code] = entry
    return record


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def import_assessments(session: Session, actor: Actor, records: Iterable[tuple[int, Any]], *, atomic: bool = False,
                       chunk: int = 500, progress: Callable[[int], None] | None = None) -> ImportReport:
    """File and submit every valid record; report accepted, skipped and rejected ones."""
    ruleset = active_ruleset(session)
    document = json.loads(ruleset.document)
    report = ImportReport()
    accounts: dict[str, Account] = {}
    pending: list[tuple[Assessment, str | None, str, Account, dict[str, Any]]] = []
    touched: set[int] = set()

    def reviewer_for(record: dict[str, Any]) -> Account:
        if isinstance(actor, Account):
            if record.get("reviewer") and record["reviewer"].lower() != actor.email:
                raise ValidationError("the record has errors", {"reviewer": ["records sent over the API are filed by the caller"]})
            if actor.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN):
                raise ValidationError("the record has errors", {"reviewer": ["only reviewers and association admins file assessments"]})
            return actor
        email = (record.get("reviewer") or "").strip().lower()
        if email not in accounts:
            found = session.scalar(select(Account).where(Account.email == email))
            if found is None or found.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN):
                raise ValidationError("the record has errors", {"reviewer": [f"no reviewer account '{email}'"]})
            accounts[email] = found
        return accounts[email]

    def flush_chunk() -> None:
        nonlocal pending, touched
        if not pending:
            return
        session.flush()
        for assessment, key, digest, reviewer, item in pending:
            item["assessment_id"] = assessment.id
            if key:
                session.add(IdempotencyKey(account_id=reviewer.id, key=key, method="IMPORT", path=IMPORT_PATH,
                                           request_sha256=digest, status_code=201,
                                           response_body=json.dumps({"assessment_id": assessment.id})))
            audit.record(session, actor, "assessment.submit", "assessment", assessment.id,
                         {"enterprise_id": assessment.enterprise_id, "via": "import"})
        result = evaluate_many(session, actor, sorted(touched), trigger="import")
        report.decisions += result.evaluated
        if not atomic:
            session.commit()
        pending, touched = [], set()

    seen_keys: set[tuple[int, str]] = set()
    for number, record in records:
        if progress:
            progress(1)
        where = {"line": number}
        if isinstance(record, dict) and record.get("idempotency_key"):
            where["idempotency_key"] = record["idempotency_key"]
        try:
            if not isinstance(record, dict):
                raise ValidationError("the record is not an object", {"record": ["expected a JSON object"]})
            if "__error__" in record:
                raise ValidationError("the record cannot be read", {"record": [record["__error__"]]})
            body = {k: v for k, v in record.items() if k not in ("reviewer", "idempotency_key")}
            reviewer = reviewer_for(record)
            key = record.get("idempotency_key")
            digest = _digest(body)
            if key:
                if (reviewer.id, key) in seen_keys:
                    raise ValidationError("the record has errors", {"idempotency_key": ["appears twice in this import"]})
                stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == reviewer.id,
                                                                     IdempotencyKey.key == key))
                if stored is not None:
                    if stored.request_sha256 != digest:
                        raise ValidationError("the record has errors",
                                              {"idempotency_key": ["already used for a different record"]})
                    report.skipped.append({**where, **json.loads(stored.response_body or "{}")})
                    continue
                seen_keys.add((reviewer.id, key))
            data = parse(body, document, complete=True)
            assessment = Assessment(association_id=reviewer.association_id, reviewer_id=reviewer.id, ruleset_id=ruleset.id,
                                    status=AssessmentStatus.SUBMITTED, submitted_at=utcnow())
            with session.no_autoflush:
                _apply(session, assessment, data)
            session.add(assessment)
            pending.append((assessment, key, digest, reviewer, where))
            touched.add(assessment.enterprise_id)
            report.accepted.append(where)
        except DomainError as exc:
            report.rejected.append({**where, "message": exc.message, "errors": exc.details.get("errors") or {}})
            continue
        if len(pending) >= chunk:
            flush_chunk()
    if atomic and report.rejected:
        session.rollback()
        report.committed = False
        report.decisions = 0
        return report
    flush_chunk()
    session.commit()
    return report
