"""Bulk import of assessments (a file from the command line, or a batch over the API).

Every record is validated against the active ruleset first; valid records are filed and
submitted in chunks, and each chunk re-evaluates the enterprises it touched in the same
transaction. A record may carry an ``idempotency_key``: re-running an import skips the records
already imported with that key (so an interrupted import resumes), and refuses a key reused with
different content. ``atomic`` files everything in one transaction, or nothing if any record is
rejected; as nothing is seen before the end, it evaluates each enterprise it touched once, after
all of its records are stored.

The part of checking a record that needs no database (reading it, its digest, parsing it
against the ruleset) runs a group ahead in a thread, while the session stores the group before:
the database works on one group while Python reads the next.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting import clock
from vetting.errors import DomainError, ValidationError
from vetting.models import (
    Account,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    CriterionScore,
    Decision,
    Enterprise,
    EvidenceReference,
    IdempotencyKey,
    KnockoutFinding,
    Listing,
    ListingEvent,
    Project,
    Role,
)
from vetting.services import audit
from vetting.services.actors import Actor
from vetting.services.assessment_input import parse
from vetting.services.assessments import check_targets, insert_children
from vetting.services.evaluation import evaluate_many
from vetting.services.memberships import members_on, standing_of
from vetting.services.rows import insert_rows, refresh_statistics
from vetting.services.rulesets import active_ruleset

IMPORT_PATH = "import:assessments"

# The tables an import grows; their statistics are refreshed each time the import has doubled
# what it stored (from the first thousand records on).
_GROWN = (Assessment, CriterionScore, EvidenceReference, KnockoutFinding, IdempotencyKey, Decision, AuditEvent,
          Listing, ListingEvent)
_FIRST_REFRESH = 1000

#: Records per chunk. The default mode commits each chunk with its enterprises' decisions, so a
#: chunk is also how much an interruption loses (a re-run resumes by idempotency key); an atomic
#: import commits nothing before the end, so its chunks are only batches of inserts, and fewer,
#: larger batches mean fewer statements.
CHUNK, ATOMIC_CHUNK = 500, 2000


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


def _insert_chunk(session: Session, ruleset_id: int,
                  pending: list[tuple[dict[str, Any], str | None, str, Account, dict[str, Any]]]) -> list[int]:
    """Store a chunk of parsed, checked records as submitted assessments with set-based
    inserts (one statement per table); returns the new ids in record order."""
    now = clock.now(session)
    members = members_on(session, [(reviewer.association_id, data["enterprise_id"]) for data, _k, _d, reviewer, _w in pending],
                         now.date())
    rows = [{"enterprise_id": data["enterprise_id"], "project_id": data.get("project_id"), "association_id": reviewer.association_id,
             "reviewer_id": reviewer.id, "ruleset_id": ruleset_id, "status": AssessmentStatus.SUBMITTED,
             "conflict_declared": data["conflict"]["declared"], "conflict_note": data["conflict"].get("note"),
             "standing": standing_of(data["conflict"]["declared"], (reviewer.association_id, data["enterprise_id"]) in members),
             "summary": data.get("summary"), "created_at": now, "updated_at": now, "submitted_at": now, "version": 1}
            for data, _key, _digest, reviewer, _where in pending]
    ids = insert_rows(session, Assessment, rows, return_ids=True)
    insert_children(session, [(assessment_id, data) for assessment_id, (data, *_rest) in zip(ids, pending)])
    return ids


def _groups(records: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    group: list[tuple[int, Any]] = []
    for item in records:
        group.append(item)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


#: The digest of a record's body (the record without the import's own keys) and its parsed
#: input, or the error parsing it raised.
Prepared = tuple[str, dict[str, Any] | None, DomainError | None]
#: For a record that is not an object or could not be read: the caller refuses it first.
_UNREAD: Prepared = ("", None, None)


def _prepare(group: list[tuple[int, Any]], document: dict[str, Any]) -> list[Prepared]:
    """What checking each record of a group takes without a database (see ``Prepared``)."""
    out: list[Prepared] = []
    for _number, record in group:
        if not isinstance(record, dict) or "__error__" in record:
            out.append(_UNREAD)
            continue
        body = {k: v for k, v in record.items() if k not in ("reviewer", "idempotency_key")}
        digest = _digest(body)
        try:
            out.append((digest, parse(body, document, complete=True), None))
        except DomainError as exc:
            out.append((digest, None, exc))
    return out


def _read_ahead(groups: Iterator[list[tuple[int, Any]]],
                document: dict[str, Any]) -> Iterator[tuple[list[tuple[int, Any]], list[Prepared]]]:
    """Each group with its prepared records, in order; the next group is read and prepared in
    a thread while the caller works on this one (an error there is raised here, in turn)."""
    def step() -> tuple[list[tuple[int, Any]], list[Prepared]] | None:
        group = next(groups, None)
        return None if group is None else (group, _prepare(group, document))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vetting-import") as pool:
        ahead = pool.submit(step)
        while (item := ahead.result()) is not None:
            ahead = pool.submit(step)
            yield item


def _prefetch(session: Session, actor: Actor, group: list[tuple[int, Any]]) -> tuple[dict[tuple[int, str], IdempotencyKey], list[object]]:
    """What a group of records will look up one by one, read in a few queries: the idempotency
    keys they carry (by account and key), and the enterprises and projects they name (returned
    to be held, so the session's identity map answers the lookups)."""
    def ids(name: str) -> list[int]:
        return sorted({r[name] for _n, r in group if isinstance(r, dict) and type(r.get(name)) is int and 0 < r[name] < 2**31})

    keys = sorted({r["idempotency_key"] for _n, r in group if isinstance(r, dict) and isinstance(r.get("idempotency_key"), str)})
    with session.no_autoflush:
        stored = {}
        if keys:
            # keys are unique per account: asking by account and key lets the database use that index
            if isinstance(actor, Account):
                accounts = [actor.id]
            else:
                emails = sorted({r["reviewer"].strip().lower() for _n, r in group
                                 if isinstance(r, dict) and isinstance(r.get("reviewer"), str)})
                accounts = list(session.scalars(select(Account.id).where(Account.email.in_(emails)))) if emails else []
            if accounts:
                stored = {(k.account_id, k.key): k for k in session.scalars(
                    select(IdempotencyKey).where(IdempotencyKey.account_id.in_(accounts), IdempotencyKey.key.in_(keys)))}
        held: list[object] = []
        for model, name in ((Enterprise, "enterprise_id"), (Project, "project_id")):
            wanted = ids(name)
            if wanted:
                held += session.scalars(select(model).where(model.id.in_(wanted))).all()
    return stored, held


def import_assessments(session: Session, actor: Actor, records: Iterable[tuple[int, Any]], *, atomic: bool = False,
                       chunk: int | None = None, progress: Callable[[int], None] | None = None) -> ImportReport:
    """File and submit every valid record; report accepted, skipped and rejected ones. Records
    are stored ``chunk`` at a time (``CHUNK``, or ``ATOMIC_CHUNK`` for an atomic import)."""
    chunk = chunk or (ATOMIC_CHUNK if atomic else CHUNK)
    ruleset = active_ruleset(session)
    document = json.loads(ruleset.document)
    report = ImportReport()
    accounts: dict[str, Account] = {}
    pending: list[tuple[dict[str, Any], str | None, str, Account, dict[str, Any]]] = []
    touched: set[int] = set()
    deferred: set[int] = set()
    refresh_at = _FIRST_REFRESH
    filed = 0

    def reviewer_for(record: dict[str, Any]) -> Account:
        if isinstance(actor, Account):
            if record.get("reviewer") and record["reviewer"].lower() != actor.email:
                raise ValidationError("the record has errors", {"reviewer": ["records sent over the API are filed by the caller"]})
            if actor.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN):
                raise ValidationError("the record has errors", {"reviewer": ["only reviewers and association admins file assessments"]})
            return actor
        email = (record.get("reviewer") or "").strip().lower()
        if email not in accounts:
            with session.no_autoflush:
                found = session.scalar(select(Account).where(Account.email == email))
            if found is None or found.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN):
                raise ValidationError("the record has errors", {"reviewer": [f"no reviewer account '{email}'"]})
            accounts[email] = found
        return accounts[email]

    def flush_chunk() -> None:
        nonlocal pending, touched, refresh_at, filed
        if not pending:
            return
        ids = _insert_chunk(session, ruleset.id, pending)
        filed += len(ids)
        if filed >= refresh_at:
            refresh_statistics(session, _GROWN)
            refresh_at *= 2
        events = []
        keys = []
        for assessment_id, (data, key, digest, reviewer, item) in zip(ids, pending):
            item["assessment_id"] = assessment_id
            if key:
                keys.append({"account_id": reviewer.id, "key": key, "method": "IMPORT", "path": IMPORT_PATH, "request_sha256": digest,
                             "status_code": 201, "response_body": json.dumps({"assessment_id": assessment_id}), "carried_out": True,
                             "created_at": clock.now(session)})
            events.append(("assessment.submit", "assessment", assessment_id, {"enterprise_id": data["enterprise_id"], "via": "import"}))
        insert_rows(session, IdempotencyKey, keys)
        audit.append_many(session, actor, events)
        if atomic:
            # one transaction: nothing is seen until the end, so each enterprise is evaluated once,
            # after all of its records are stored, instead of once per chunk that names it
            deferred.update(touched)
        else:
            report.decisions += evaluate_many(session, actor, sorted(touched), trigger="import").evaluated
            session.commit()
        pending, touched = [], set()

    seen_keys: set[tuple[int, str]] = set()
    for group, prepared in _read_ahead(_groups(iter(records), chunk), document):
        stored_keys, held = _prefetch(session, actor, group)
        for (number, record), ready in zip(group, prepared):
            if progress:
                progress(1)
            where = {"line": number}
            if isinstance(record, dict) and record.get("idempotency_key") and isinstance(record["idempotency_key"], str):
                where["idempotency_key"] = record["idempotency_key"]
            try:
                if not isinstance(record, dict):
                    raise ValidationError("the record is not an object", {"record": ["expected a JSON object"]})
                if "__error__" in record:
                    raise ValidationError("the record cannot be read", {"record": [record["__error__"]]})
                for name in ("reviewer", "idempotency_key"):
                    if record.get(name) is not None and not isinstance(record[name], str):
                        raise ValidationError("the record has errors", {name: ["must be a string"]})
                if len(record.get("idempotency_key") or "") > 200:
                    raise ValidationError("the record has errors", {"idempotency_key": ["at most 200 characters"]})
                digest, data, error = ready
                reviewer = reviewer_for(record)
                key = record.get("idempotency_key")
                if key:
                    if (reviewer.id, key) in seen_keys:
                        raise ValidationError("the record has errors", {"idempotency_key": ["appears twice in this import"]})
                    stored = stored_keys.get((reviewer.id, key))
                    if stored is not None:
                        if stored.request_sha256 != digest:
                            raise ValidationError("the record has errors",
                                                  {"idempotency_key": ["already used for a different record"]})
                        report.skipped.append({**where, **json.loads(stored.response_body or "{}")})
                        continue
                    seen_keys.add((reviewer.id, key))
                if error is not None:
                    raise error
                check_targets(session, data["enterprise_id"], data.get("project_id"))
                pending.append((data, key, digest, reviewer, where))
                touched.add(data["enterprise_id"])
                report.accepted.append(where)
            except DomainError as exc:
                report.rejected.append({**where, "message": exc.message, "errors": exc.details.get("errors") or {}})
                continue
        flush_chunk()
        del held
    if atomic and report.rejected:
        session.rollback()
        report.committed = False
        return report
    if deferred:
        report.decisions += evaluate_many(session, actor, sorted(deferred), trigger="import").evaluated
    session.commit()
    return report
