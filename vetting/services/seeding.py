"""Seed files: the default ruleset and the demo data, read and checked before anything is written.

:func:`read_seeds` parses and validates every file into plain records and raises
:class:`~vetting.errors.SeedError` naming the file, the record and the problem. Only a bundle that
passed is handed to :func:`apply_seeds`, which inserts it in the caller's transaction; so a bad
seed file never leaves a half-loaded database.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import yaml
from sqlalchemy.orm import Session

from vetting import clock
from vetting.countries import InvalidCountry, normalize_country
from vetting.errors import SeedError
from vetting.identifiers import InvalidIdentifier, normalize_identifier
from vetting.models import (
    Account,
    Assessment,
    AssessmentStatus,
    Association,
    CriterionScore,
    Enterprise,
    EnterpriseAlias,
    EvidenceReference,
    FindingStatus,
    Identifier,
    KnockoutFinding,
    Membership,
    Project,
    Role,
    SECTORS,
)
from vetting.services import audit
from vetting.services.accounts import hash_password, issue_token
from vetting.services.actors import Actor
from vetting.services.memberships import fix_standing
from vetting.services.rulesets import RulesetSpec, read_ruleset_file, store_ruleset

EVIDENCE_KINDS = ("document", "url", "site_visit", "interview", "audit_report", "registry_extract")
_CODE = re.compile(r"^[A-Z0-9]{2,16}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class SeedBundle:
    root: Path
    rulesets: list[RulesetSpec] = field(default_factory=list)
    associations: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    enterprises: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)


class _Reader:
    """Reads one seed file and reports problems with the file and record they belong to."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name
        self.label = f"{root.name}/{name}"

    def load(self, top: str) -> list[dict[str, Any]]:
        if not self.path.exists():
            raise SeedError(self.label, "file", "the file is missing")
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SeedError(self.label, "file", f"not valid YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get(top), list):
            raise SeedError(self.label, "file", f"expected a mapping with a '{top}' list")
        records = data[top]
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                raise SeedError(self.label, f"record {i + 1}", "expected a mapping")
        return records

    def fail(self, index: int, rec: dict[str, Any], problem: str) -> SeedError:
        name = rec.get("key") or rec.get("code") or rec.get("email") or rec.get("enterprise")
        where = f"record {index + 1}" + (f" ({name})" if name else "")
        return SeedError(self.label, where, problem)


def _required(reader: _Reader, i: int, rec: dict[str, Any], *names: str) -> None:
    for name in names:
        if rec.get(name) in (None, ""):
            raise reader.fail(i, rec, f"'{name}' is required")


def _country(reader: _Reader, i: int, rec: dict[str, Any], field_name: str, value: Any) -> str:
    try:
        return normalize_country(value)
    except InvalidCountry as exc:
        raise reader.fail(i, rec, f"{field_name}: {exc}") from None


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def read_seeds(root: Path, *, demo: bool) -> SeedBundle:
    """Parse and validate the seed folder; raises SeedError on the first problem found."""
    root = Path(root)
    bundle = SeedBundle(root=root)
    ruleset_dir = root / "rulesets"
    files = sorted(p for p in ruleset_dir.glob("*.yaml") if not p.name.endswith(".cases.yaml"))
    if not files:
        raise SeedError(f"{root.name}/rulesets", "folder", "no ruleset document (*.yaml) found")
    for path in files:
        bundle.rulesets.append(read_ruleset_file(path, label=f"{root.name}/rulesets/{path.name}"))
    if not demo:
        return bundle
    active = max(bundle.rulesets, key=lambda r: (r.effective_date, r.version))
    _read_associations(root, bundle)
    _read_accounts(root, bundle)
    _read_enterprises(root, bundle)
    _read_assessments(root, bundle, active)
    return bundle


def _read_associations(root: Path, bundle: SeedBundle) -> None:
    reader = _Reader(root, "associations.yaml")
    seen: set[str] = set()
    for i, rec in enumerate(reader.load("associations")):
        _required(reader, i, rec, "code", "name", "country")
        code = str(rec["code"])
        if not _CODE.match(code):
            raise reader.fail(i, rec, f"code '{code}' must be 2–16 upper-case letters or digits")
        if code in seen:
            raise reader.fail(i, rec, f"code '{code}' appears twice")
        seen.add(code)
        bundle.associations.append(
            {"code": code, "name": rec["name"], "name_zh": rec.get("name_zh"),
             "country": _country(reader, i, rec, "country", rec["country"])}
        )


def _read_accounts(root: Path, bundle: SeedBundle) -> None:
    reader = _Reader(root, "accounts.yaml")
    codes = {a["code"] for a in bundle.associations}
    seen: set[str] = set()
    for i, rec in enumerate(reader.load("accounts")):
        _required(reader, i, rec, "email", "role")
        email = str(rec["email"]).strip().lower()
        if email in seen:
            raise reader.fail(i, rec, f"e-mail {email} appears twice")
        seen.add(email)
        try:
            role = Role(rec["role"])
        except ValueError:
            raise reader.fail(i, rec, f"role '{rec['role']}' is not one of reviewer, association_admin, registrar") from None
        assoc = rec.get("association")
        if role is Role.REGISTRAR and assoc:
            raise reader.fail(i, rec, "a registrar does not belong to an association")
        if role is not Role.REGISTRAR and assoc not in codes:
            raise reader.fail(i, rec, f"association '{assoc}' is not in associations.yaml")
        bundle.accounts.append(
            {"email": email, "display_name": rec.get("display_name") or email, "role": role, "association": assoc}
        )


def _read_enterprises(root: Path, bundle: SeedBundle) -> None:
    reader = _Reader(root, "enterprises.yaml")
    codes = {a["code"] for a in bundle.associations}
    keys: set[str] = set()
    project_keys: set[str] = set()
    identifiers: dict[tuple[str, str], str] = {}
    for i, rec in enumerate(reader.load("enterprises")):
        _required(reader, i, rec, "key", "legal_name", "country", "sector")
        key = str(rec["key"])
        if not _KEY.match(key) or key in keys:
            raise reader.fail(i, rec, f"key '{key}' must be a unique lower-case slug")
        keys.add(key)
        country = _country(reader, i, rec, "country", rec["country"])
        if rec["sector"] not in SECTORS:
            raise reader.fail(i, rec, f"sector '{rec['sector']}' is not one of {', '.join(SECTORS)}")
        idents = []
        for j, ident in enumerate(rec.get("identifiers") or []):
            try:
                value = normalize_identifier(str(ident.get("scheme", "")), str(ident.get("value", "")))
            except InvalidIdentifier as exc:
                raise reader.fail(i, rec, f"identifiers[{j}]: {exc.message}") from None
            pair = (str(ident["scheme"]).lower(), value)
            if pair in identifiers:
                raise reader.fail(i, rec, f"identifiers[{j}]: {pair[0]} {value} is already used by '{identifiers[pair]}'")
            identifiers[pair] = key
            idents.append(pair)
        for code in rec.get("memberships") or []:
            if code not in codes:
                raise reader.fail(i, rec, f"memberships: association '{code}' is not in associations.yaml")
        projects = []
        for j, proj in enumerate(rec.get("projects") or []):
            for name in ("key", "name", "host_country", "sector"):
                if not proj.get(name):
                    raise reader.fail(i, rec, f"projects[{j}]: '{name}' is required")
            if proj["key"] in project_keys:
                raise reader.fail(i, rec, f"projects[{j}]: key '{proj['key']}' appears twice")
            project_keys.add(proj["key"])
            if proj["sector"] not in SECTORS:
                raise reader.fail(i, rec, f"projects[{j}]: sector '{proj['sector']}' is not known")
            if proj.get("equator_category") not in (None, "A", "B", "C"):
                raise reader.fail(i, rec, f"projects[{j}]: equator_category must be A, B or C")
            if proj.get("brigc_class") not in (None, "green", "yellow", "red"):
                raise reader.fail(i, rec, f"projects[{j}]: brigc_class must be green, yellow or red")
            projects.append({**proj, "host_country": _country(reader, i, rec, f"projects[{j}].host_country", proj["host_country"])})
        bundle.enterprises.append(
            {
                "key": key,
                "legal_name": rec["legal_name"],
                "chinese_name": rec.get("chinese_name"),
                "aliases": [str(a) for a in rec.get("aliases") or []],
                "identifiers": idents,
                "country": country,
                "sector": rec["sector"],
                "contact_email": rec.get("contact_email"),
                "memberships": list(rec.get("memberships") or []),
                "projects": projects,
            }
        )


def _read_assessments(root: Path, bundle: SeedBundle, ruleset: RulesetSpec) -> None:
    reader = _Reader(root, "assessments.yaml")
    enterprises = {e["key"]: e for e in bundle.enterprises}
    accounts = {a["email"]: a for a in bundle.accounts}
    for i, rec in enumerate(reader.load("assessments")):
        _required(reader, i, rec, "enterprise", "association", "reviewer", "scores", "conflict")
        ent = enterprises.get(rec["enterprise"])
        if ent is None:
            raise reader.fail(i, rec, f"enterprise '{rec['enterprise']}' is not in enterprises.yaml")
        reviewer = accounts.get(str(rec["reviewer"]).lower())
        if reviewer is None or reviewer["role"] is not Role.REVIEWER:
            raise reader.fail(i, rec, f"reviewer '{rec['reviewer']}' is not a reviewer in accounts.yaml")
        if reviewer["association"] != rec["association"]:
            raise reader.fail(i, rec, f"reviewer '{rec['reviewer']}' does not belong to association '{rec['association']}'")
        if rec.get("project") and rec["project"] not in {p["key"] for p in ent["projects"]}:
            raise reader.fail(i, rec, f"project '{rec['project']}' is not a project of '{ent['key']}'")
        conflict = rec["conflict"]
        if not isinstance(conflict, dict) or not isinstance(conflict.get("declared"), bool):
            raise reader.fail(i, rec, "conflict: a declaration {declared: true|false} is required")
        try:
            submitted_on = _as_date(rec.get("submitted_on"))
        except ValueError:
            raise reader.fail(i, rec, f"submitted_on '{rec.get('submitted_on')}' is not an ISO date") from None
        scores = rec["scores"]
        if not isinstance(scores, dict):
            raise reader.fail(i, rec, "scores must map criterion codes to scores")
        unknown = sorted(set(scores) - set(ruleset.criteria))
        if unknown:
            raise reader.fail(i, rec, f"scores: unknown criterion {', '.join(unknown)}")
        missing = [c for c in ruleset.criteria if c not in scores]
        if missing:
            raise reader.fail(i, rec, f"scores: missing criterion {', '.join(missing)}")
        parsed_scores = []
        for code in ruleset.criteria:
            entry = scores[code]
            entry = entry if isinstance(entry, dict) else {"score": entry}
            raw = entry.get("score")
            evidence = _evidence(reader, i, rec, f"scores.{code}", entry.get("evidence"))
            if raw == "n/a":
                if not entry.get("justification"):
                    raise reader.fail(i, rec, f"scores.{code}: n/a needs a justification")
                value = None
            elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 4:
                value = raw
                if value >= ruleset.evidence_from(code) and not evidence:
                    raise reader.fail(i, rec, f"scores.{code}: a score of {value} needs evidence")
            else:
                raise reader.fail(i, rec, f"scores.{code}: score must be 0–4 or n/a, got {raw!r}")
            parsed_scores.append({"criterion": code, "score": value, "justification": entry.get("justification"), "evidence": evidence})
        findings = []
        for j, ko in enumerate(rec.get("knockouts") or []):
            if ko.get("code") not in ruleset.knockouts:
                raise reader.fail(i, rec, f"knockouts[{j}]: unknown knock-out '{ko.get('code')}'")
            if ko.get("status") not in ("confirmed", "alleged"):
                raise reader.fail(i, rec, f"knockouts[{j}]: status must be confirmed or alleged")
            evidence = _evidence(reader, i, rec, f"knockouts[{j}]", ko.get("evidence"))
            if ko["status"] == "confirmed" and not evidence:
                raise reader.fail(i, rec, f"knockouts[{j}]: a confirmed knock-out needs evidence")
            findings.append({"code": ko["code"], "status": ko["status"], "description": ko.get("description") or "", "evidence": evidence})
        bundle.assessments.append(
            {
                "enterprise": ent["key"],
                "association": rec["association"],
                "reviewer": reviewer["email"],
                "project": rec.get("project"),
                "submitted_on": submitted_on,
                "conflict_declared": conflict["declared"],
                "conflict_note": conflict.get("note"),
                "summary": rec.get("summary"),
                "scores": parsed_scores,
                "findings": findings,
            }
        )


def _evidence(reader: _Reader, i: int, rec: dict[str, Any], where: str, items: Any) -> list[dict[str, Any]]:
    out = []
    for k, item in enumerate(items or []):
        if not isinstance(item, dict) or not item.get("reference"):
            raise reader.fail(i, rec, f"{where}.evidence[{k}]: a reference is required")
        if item.get("kind") not in EVIDENCE_KINDS:
            raise reader.fail(i, rec, f"{where}.evidence[{k}]: kind must be one of {', '.join(EVIDENCE_KINDS)}")
        out.append({"kind": item["kind"], "reference": str(item["reference"]), "description": item.get("description")})
    return out


@dataclass
class SeedReport:
    rulesets: int = 0
    associations: int = 0
    accounts: int = 0
    enterprises: int = 0
    assessments: int = 0
    decisions: int = 0
    listings: int = 0
    credentials: list[tuple[str, str, str, str]] = field(default_factory=list)


def apply_rulesets(session: Session, actor: Actor, bundle: SeedBundle, report: SeedReport) -> None:
    active = max(bundle.rulesets, key=lambda r: (r.effective_date, r.version))
    for spec in bundle.rulesets:
        store_ruleset(session, actor, spec, activate=spec is active)
        report.rulesets += 1


DEMO_LAG_DAYS = 5


def apply_demo(session: Session, actor: Actor, bundle: SeedBundle, report: SeedReport,
               progress: Callable[[str], None] | None = None) -> None:
    """Insert the demo records (the caller owns the transaction)."""
    from vetting.services.rulesets import active_ruleset

    ruleset = active_ruleset(session)
    associations: dict[str, Association] = {}
    for rec in bundle.associations:
        assoc = Association(code=rec["code"], name=rec["name"], name_zh=rec["name_zh"], country=rec["country"])
        session.add(assoc)
        session.flush()
        audit.record(session, actor, "association.accredit", "association", assoc.id, {"code": assoc.code})
        associations[assoc.code] = assoc
        report.associations += 1
    accounts: dict[str, Account] = {}
    for rec in bundle.accounts:
        password = secrets.token_urlsafe(12)
        account = Account(
            email=rec["email"], display_name=rec["display_name"], role=rec["role"],
            association=associations.get(rec["association"]) if rec["association"] else None,
            password_hash=hash_password(password),
        )
        session.add(account)
        session.flush()
        audit.record(session, actor, "account.create", "account", account.id, {"email": account.email, "role": account.role.value})
        token = issue_token(session, actor, account, name="demo")
        report.credentials.append((account.email, account.role.value, password, token))
        accounts[account.email] = account
        report.accounts += 1
    if progress:
        progress(f"{report.associations} associations, {report.accounts} accounts")
    enterprises: dict[str, Enterprise] = {}
    projects: dict[str, Project] = {}
    for rec in bundle.enterprises:
        ent = Enterprise(
            legal_name=rec["legal_name"], chinese_name=rec["chinese_name"], country=rec["country"],
            sector=rec["sector"], contact_email=rec["contact_email"],
        )
        ent.aliases = [EnterpriseAlias(name=a) for a in dict.fromkeys(rec["aliases"])]
        ent.identifiers = [Identifier(scheme=s, value=v) for s, v in rec["identifiers"]]
        for p in rec["projects"]:
            project = Project(
                name=p["name"], host_country=p["host_country"], sector=p["sector"],
                equator_category=p.get("equator_category"), brigc_class=p.get("brigc_class"),
                start_year=p.get("start_year"),
            )
            ent.projects.append(project)
            projects[p["key"]] = project
        for code in rec["memberships"]:
            ent.memberships.append(Membership(association=associations[code]))
        session.add(ent)
        session.flush()
        audit.record(session, actor, "enterprise.register", "enterprise", ent.id, {"legal_name": ent.legal_name})
        enterprises[rec["key"]] = ent
        report.enterprises += 1
    if progress:
        progress(f"{report.enterprises} enterprises")
    # The demo's dates are moved as a block so that its last assessment came in DEMO_LAG_DAYS
    # ago: the demo then always has a past (confirmed listings) and a present (open proposals).
    today = clock.today(session)
    dated = [rec["submitted_on"] for rec in bundle.assessments if rec["submitted_on"]]
    shift = (today - timedelta(days=DEMO_LAG_DAYS)) - max(dated) if dated else timedelta(0)
    for rec in bundle.assessments:
        submitted = rec["submitted_on"] + shift if rec["submitted_on"] else today
        submitted_at = datetime.combine(submitted, time(9, 0), tzinfo=timezone.utc)
        assessment = Assessment(
            enterprise=enterprises[rec["enterprise"]],
            project=projects.get(rec["project"]) if rec["project"] else None,
            association=associations[rec["association"]],
            reviewer=accounts[rec["reviewer"]],
            ruleset_id=ruleset.id,
            status=AssessmentStatus.SUBMITTED,
            conflict_declared=rec["conflict_declared"],
            conflict_note=rec["conflict_note"],
            summary=rec["summary"],
            created_at=submitted_at,
            submitted_at=submitted_at,
        )
        for s in rec["scores"]:
            assessment.scores.append(CriterionScore(criterion=s["criterion"], score=s["score"], justification=s["justification"]))
            for ev in s["evidence"]:
                assessment.evidence.append(EvidenceReference(criterion=s["criterion"], kind=ev["kind"], reference=ev["reference"], description=ev["description"]))
        for f in rec["findings"]:
            finding = KnockoutFinding(code=f["code"], status=FindingStatus(f["status"]), description=f["description"])
            assessment.findings.append(finding)
            for ev in f["evidence"]:
                assessment.evidence.append(EvidenceReference(finding=finding, kind=ev["kind"], reference=ev["reference"], description=ev["description"]))
        session.add(assessment)
        session.flush()
        fix_standing(session, assessment)
        audit.record(session, actor, "assessment.submit", "assessment", assessment.id,
                     {"enterprise_id": assessment.enterprise_id, "association": rec["association"]})
        report.assessments += 1
    if progress:
        progress(f"{report.assessments} assessments")
