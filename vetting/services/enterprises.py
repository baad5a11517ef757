"""The enterprise registry: registering an enterprise, refusing a known identifier, and flagging
a near-identical name in the same country as a possible duplicate."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError as MarshmallowError, fields, validate
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from vetting.countries import InvalidCountry, normalize_country
from vetting.errors import Conflict, PermissionDenied, ValidationError
from vetting.identifiers import InvalidIdentifier, normalize_identifier
from vetting.models import SECTORS, Account, BrigcClass, EquatorCategory, Enterprise, EnterpriseAlias, Identifier, Project, Role
from vetting.rules.schema import flatten_errors
from vetting.services import audit
from vetting.services.actors import Actor

DUPLICATE_THRESHOLD = 92.0


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class IdentifierInput(_Strict):
    scheme = fields.String(required=True, metadata={"example": "uscc"})
    value = fields.String(required=True, metadata={"example": "91110000MA01ABCD2Q"})


class ProjectInput(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    host_country = fields.String(required=True, metadata={"example": "KE"})
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    equator_category = fields.String(load_default=None, validate=validate.OneOf(["A", "B", "C"]))
    brigc_class = fields.String(load_default=None, validate=validate.OneOf(["green", "yellow", "red"]))
    start_year = fields.Integer(load_default=None, validate=validate.Range(min=1950, max=2100))


class EnterpriseInput(_Strict):
    legal_name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    chinese_name = fields.String(load_default=None, validate=validate.Length(max=200))
    aliases = fields.List(fields.String(validate=validate.Length(min=1, max=300)), load_default=list)
    identifiers = fields.List(fields.Nested(IdentifierInput), load_default=list)
    country = fields.String(required=True, metadata={"example": "CN"})
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    contact_email = fields.Email(load_default=None)
    website = fields.Url(load_default=None)
    projects = fields.List(fields.Nested(ProjectInput), load_default=list)


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").casefold().split())


@dataclass
class Registered:
    enterprise: Enterprise
    possible_duplicates: list[dict[str, Any]] = field(default_factory=list)


def possible_duplicates(session: Session, country: str, names: list[str], exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Enterprises in ``country`` whose legal or Chinese name is near-identical to one of ``names``."""
    wanted = [_fold(n) for n in names if n]
    found = []
    rows = session.execute(
        select(Enterprise.id, Enterprise.legal_name, Enterprise.chinese_name)
        .where(Enterprise.country == country, Enterprise.merged_into_id.is_(None))
    ).all()
    for row in rows:
        if row.id == exclude_id:
            continue
        best = 0.0
        for stored in (row.legal_name, row.chinese_name):
            if not stored:
                continue
            for w in wanted:
                best = max(best, fuzz.token_sort_ratio(_fold(stored), w))
        if best >= DUPLICATE_THRESHOLD:
            found.append({"id": row.id, "legal_name": row.legal_name, "chinese_name": row.chinese_name, "similarity": round(best / 100, 3)})
    return sorted(found, key=lambda d: -d["similarity"])


def register(session: Session, actor: Actor, payload: Any) -> Registered:
    """Register an enterprise. A known identifier is a 409 naming the enterprise that holds it."""
    if isinstance(actor, Account) and actor.role not in (Role.REVIEWER, Role.ASSOCIATION_ADMIN, Role.REGISTRAR):
        raise PermissionDenied("this account cannot register enterprises")
    try:
        data = EnterpriseInput().load(payload or {})
    except MarshmallowError as exc:
        raise ValidationError("the enterprise has errors; see 'errors' for each field", flatten_errors(exc.messages)) from None
    errors: dict[str, list[str]] = {}
    try:
        country = normalize_country(data["country"])
    except InvalidCountry as exc:
        errors["country"] = [str(exc)]
        country = ""
    identifiers = []
    for i, ident in enumerate(data["identifiers"]):
        try:
            identifiers.append((ident["scheme"].strip().lower(), normalize_identifier(ident["scheme"], ident["value"])))
        except InvalidIdentifier as exc:
            errors[f"identifiers.{i}.{'scheme' if exc.problem == 'scheme' else 'value'}"] = [exc.message]
    for i, project in enumerate(data["projects"]):
        try:
            normalize_country(project["host_country"])
        except InvalidCountry as exc:
            errors[f"projects.{i}.host_country"] = [str(exc)]
    if len(set(identifiers)) != len(identifiers):
        errors["identifiers"] = ["the same identifier is given twice"]
    if errors:
        raise ValidationError("the enterprise has errors; see 'errors' for each field", errors)
    for scheme, value in identifiers:
        holder = session.scalar(select(Identifier.enterprise_id).where(Identifier.scheme == scheme, Identifier.value == value))
        if holder is not None:
            surviving = session.get(Enterprise, holder)
            while surviving.merged_into_id is not None:
                surviving = session.get(Enterprise, surviving.merged_into_id)
            raise Conflict(f"{scheme} {value} is already registered to enterprise {surviving.id}", conflicting_id=surviving.id)
    duplicates = possible_duplicates(session, country, [data["legal_name"], data.get("chinese_name")])
    enterprise = Enterprise(legal_name=data["legal_name"].strip(), chinese_name=(data.get("chinese_name") or None),
                            country=country, sector=data["sector"], contact_email=data.get("contact_email"),
                            website=data.get("website"))
    enterprise.aliases = [EnterpriseAlias(name=a.strip()) for a in dict.fromkeys(data["aliases"]) if a.strip()]
    enterprise.identifiers = [Identifier(scheme=s, value=v) for s, v in identifiers]
    enterprise.projects = [
        Project(**{**p, "equator_category": EquatorCategory(p["equator_category"]) if p["equator_category"] else None,
                   "brigc_class": BrigcClass(p["brigc_class"]) if p["brigc_class"] else None})
        for p in data["projects"]
    ]
    session.add(enterprise)
    session.flush()
    audit.record(session, actor, "enterprise.register", "enterprise", enterprise.id,
                 {"legal_name": enterprise.legal_name, "identifiers": [f"{s}:{v}" for s, v in identifiers],
                  "possible_duplicates": [d["id"] for d in duplicates]})
    from vetting.services.search import index_enterprises

    index_enterprises(session, [enterprise.id])
    session.commit()
    return Registered(enterprise, duplicates)


def resolve(session: Session, enterprise_id: int) -> tuple[Enterprise, bool]:
    """The enterprise an id stands for today, and whether the id was merged into it."""
    from vetting.errors import NotFound

    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    merged = False
    while enterprise.merged_into_id is not None:
        enterprise = session.get(Enterprise, enterprise.merged_into_id)
        merged = True
    return enterprise, merged


def merge(session: Session, actor: Actor, absorbed_id: int, surviving_id: int, reason: str) -> Enterprise:
    """Merge ``absorbed_id`` into ``surviving_id`` (registrars): identifiers, names, projects,
    memberships, assessments and listings follow; the absorbed id keeps answering with a
    redirect; the survivor is re-evaluated."""
    from vetting.errors import NotFound
    from vetting.models import Assessment, Listing
    from vetting.services.evaluation import evaluate_enterprise

    if not isinstance(actor, Account) or actor.role is not Role.REGISTRAR:
        if isinstance(actor, Account):
            raise PermissionDenied("only a registrar merges enterprises")
    if not (reason or "").strip():
        raise ValidationError("give a reason", {"reason": ["a reason is required"]})
    if absorbed_id == surviving_id:
        raise ValidationError("an enterprise cannot be merged into itself", {"into": ["must be another enterprise"]})
    absorbed = session.get(Enterprise, absorbed_id)
    survivor = session.get(Enterprise, surviving_id)
    if absorbed is None:
        raise NotFound(f"no enterprise {absorbed_id}")
    if survivor is None:
        raise ValidationError("the merge has errors", {"into": [f"no enterprise {surviving_id}"]})
    if absorbed.merged_into_id is not None:
        raise Conflict(f"enterprise {absorbed_id} was already merged into {absorbed.merged_into_id}", conflicting_id=absorbed.merged_into_id)
    if survivor.merged_into_id is not None:
        raise Conflict(f"enterprise {surviving_id} was itself merged into {survivor.merged_into_id}", conflicting_id=survivor.merged_into_id)
    active = session.scalars(select(Listing).where(Listing.enterprise_id.in_([absorbed.id, survivor.id]), Listing.status == "active")).all()
    if len(active) > 1:
        raise Conflict("both enterprises have an active listing; end one before merging", conflicting_id=active[0].id)
    names = {a.name for a in survivor.aliases} | {survivor.legal_name, survivor.chinese_name}
    for name in [absorbed.legal_name, absorbed.chinese_name, *[a.name for a in absorbed.aliases]]:
        if name and name not in names:
            survivor.aliases.append(EnterpriseAlias(name=name, kind="merged"))
            names.add(name)
    for ident in list(absorbed.identifiers):
        ident.enterprise_id = survivor.id
    for project in list(absorbed.projects):
        project.enterprise_id = survivor.id
    survivor_members = {m.association_id for m in survivor.memberships}
    for membership in list(absorbed.memberships):
        if membership.association_id in survivor_members:
            session.delete(membership)
        else:
            membership.enterprise_id = survivor.id
    session.flush()
    session.expire(absorbed)
    session.expire(survivor)
    for model in (Assessment, Listing):
        for row in session.scalars(select(model).where(model.enterprise_id == absorbed.id)):
            row.enterprise_id = survivor.id
    absorbed = session.get(Enterprise, absorbed_id)
    absorbed.merged_into_id = survivor.id
    session.flush()
    audit.record(session, actor, "enterprise.merge", "enterprise", absorbed.id, {"into": survivor.id, "reason": reason.strip()})
    from vetting.services.search import index_enterprises

    index_enterprises(session, [absorbed.id, survivor.id])
    evaluate_enterprise(session, actor, survivor.id, trigger=f"enterprise.merge:{absorbed.id}")
    session.commit()
    return survivor


def choices(session: Session, *, limit: int = 2000) -> list[tuple[int, str]]:
    """(id, display name) of registered enterprises for a picker, by name."""
    rows = session.execute(
        select(Enterprise.id, Enterprise.legal_name, Enterprise.chinese_name, Enterprise.country)
        .where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.legal_name).limit(limit)
    ).all()
    return [(r.id, f"{r.legal_name}{' · ' + r.chinese_name if r.chinese_name else ''} ({r.country})") for r in rows]
