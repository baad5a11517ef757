"""Rulesets: reading documents, storing them immutably, and activating a version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from vetting import rules
from vetting.errors import Conflict, NotFound, SeedError
from vetting.models import Ruleset, RulesetStatus
from vetting.models.types import utcnow
from vetting.services import audit
from vetting.services.actors import Actor


@dataclass(frozen=True)
class RulesetSpec:
    """A validated ruleset document ready to be stored."""

    version: str
    title: str
    effective_date: date
    canonical: str
    content_hash: str
    criteria: tuple[str, ...]
    knockouts: frozenset[str]
    evidence_threshold: dict[str, int]

    def evidence_from(self, criterion: str) -> int:
        """Lowest score of ``criterion`` that needs evidence (5 when none does)."""
        return self.evidence_threshold.get(criterion, 5)


def spec_from_document(document: dict[str, Any]) -> RulesetSpec:
    """Validate ``document`` with the rules engine; raises rules.RulesetError."""
    compiled = rules.compile_ruleset(document)
    doc = json.loads(compiled.canonical)
    return RulesetSpec(
        version=str(doc["version"]),
        title=str(doc.get("title") or doc["version"]),
        effective_date=date.fromisoformat(str(doc["effective_date"])),
        canonical=compiled.canonical,
        content_hash=compiled.hash,
        criteria=tuple(c["code"] for c in doc["criteria"]),
        knockouts=frozenset(k["code"] for k in doc["knockouts"]),
        evidence_threshold={
            c["code"]: int(c["evidence_required_at_or_above"])
            for c in doc["criteria"]
            if c.get("evidence_required_at_or_above") is not None
        },
    )


def read_ruleset_file(path: Path, label: str | None = None) -> RulesetSpec:
    label = label or str(path)
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SeedError(label, "document", f"cannot be read: {exc}") from None
    try:
        return spec_from_document(document)
    except rules.RulesetError as exc:
        raise SeedError(label, "document", str(exc)) from None


def store_ruleset(session: Session, actor: Actor, spec: RulesetSpec, *, activate: bool = False) -> Ruleset:
    """Store a ruleset once; the same content again returns the stored row. Flushes only."""
    existing = session.scalar(select(Ruleset).where(Ruleset.content_hash == spec.content_hash))
    if existing is not None:
        return existing
    clash = session.scalar(select(Ruleset).where(Ruleset.version == spec.version))
    if clash is not None:
        raise Conflict(f"ruleset version {spec.version} already exists with other content", conflicting_id=clash.id)
    row = Ruleset(
        version=spec.version, title=spec.title, content_hash=spec.content_hash, document=spec.canonical,
        effective_date=spec.effective_date, status=RulesetStatus.DRAFT,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "ruleset.store", "ruleset", row.id, {"version": row.version, "hash": row.content_hash})
    if activate:
        _activate(session, actor, row)
    return row


def _activate(session: Session, actor: Actor, row: Ruleset) -> None:
    current = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE))
    if current is not None and current.id != row.id:
        current.status = RulesetStatus.RETIRED
        session.flush()
    row.status = RulesetStatus.ACTIVE
    row.activated_at = utcnow()
    session.flush()
    audit.record(session, actor, "ruleset.activate", "ruleset", row.id,
                 {"version": row.version, "previous": current.version if current is not None and current.id != row.id else None})


_documents: dict[str, dict[str, Any]] = {}


def document_of(ruleset: Ruleset) -> dict[str, Any]:
    """The parsed document of a stored ruleset, parsed once per content hash (a stored ruleset
    never changes). Shared between callers: read it, never change it."""
    document = _documents.get(ruleset.content_hash)
    if document is None:
        document = _documents[ruleset.content_hash] = json.loads(ruleset.document)
    return document


def active_ruleset(session: Session) -> Ruleset:
    # The document (kilobytes of JSON) is left unread: callers use document_of and compiled,
    # which keep it per content hash, so it is read from the database once per process at most.
    row = session.scalar(select(Ruleset).where(Ruleset.status == RulesetStatus.ACTIVE).options(defer(Ruleset.document)))
    if row is None:
        raise NotFound("no ruleset is active; run `vetting init`")
    return row


def _require_registrar(actor: Actor) -> None:
    from vetting.errors import PermissionDenied
    from vetting.models import Account, Role

    if isinstance(actor, Account) and actor.role is not Role.REGISTRAR:
        raise PermissionDenied("only a registrar can manage rulesets")


def create_ruleset(session: Session, actor: Actor, document: dict[str, Any]) -> Ruleset:
    """Validate and store a ruleset document as a draft."""
    from vetting.errors import ValidationError

    _require_registrar(actor)
    try:
        spec = spec_from_document(document)
    except rules.RulesetError as exc:
        raise ValidationError("the ruleset document is not valid", {"document": [str(exc)]}) from None
    row = store_ruleset(session, actor, spec)
    session.commit()
    return row


def activate_ruleset(session: Session, actor: Actor, ruleset_id: int, progress=None) -> Ruleset:  # noqa: ANN001
    """Activate a stored ruleset and re-evaluate every enterprise under it, in one transaction."""
    from vetting.models import Enterprise
    from vetting.services.evaluation import evaluate_many

    _require_registrar(actor)
    row = session.get(Ruleset, ruleset_id)
    if row is None:
        raise NotFound(f"no ruleset {ruleset_id}")
    if row.status is not RulesetStatus.ACTIVE:
        _activate(session, actor, row)
    ids = session.scalars(select(Enterprise.id).where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)).all()
    evaluate_many(session, actor, ids, trigger=f"ruleset.activate:{row.version}", ruleset=row, progress=progress)
    session.commit()
    return row
