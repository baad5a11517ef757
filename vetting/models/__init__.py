"""The domain model: one module per aggregate. No Flask imports here."""

from vetting.db import Base
from vetting.models.account import Account, ApiToken
from vetting.models.assessment import Assessment, CriterionScore, EvidenceReference, KnockoutFinding
from vetting.models.association import Association, Membership
from vetting.models.audit import AuditEvent
from vetting.models.auth_failure import AuthFailure
from vetting.models.decision import Decision
from vetting.models.idempotency import IdempotencyKey
from vetting.models.enterprise import SECTORS, Enterprise, EnterpriseAlias, Identifier, Project
from vetting.models.listing import Listing, ListingEvent
from vetting.models.listing_line import ListingLine, ListingLineMark
from vetting.models.notice import Notice
from vetting.models.search import NameForms, NameToken, TokenStat, TokenVariant
from vetting.models.objection import Objection
from vetting.models.release import Release
from vetting.models.repair import RepairRequest
from vetting.models.ruleset import Ruleset
from vetting.models.types import (
    AccountStatus,
    AssessmentStatus,
    AssociationStatus,
    BrigcClass,
    EquatorCategory,
    FindingStatus,
    ListingStatus,
    ListType,
    Outcome,
    ReleaseStatus,
    RequestStatus,
    Role,
    RulesetStatus,
)

__all__ = [
    "Account", "AccountStatus", "ApiToken", "Assessment", "AssessmentStatus", "Association",
    "AssociationStatus", "AuditEvent", "AuthFailure", "Base", "BrigcClass", "CriterionScore", "Decision",
    "Enterprise", "EnterpriseAlias", "NameForms", "NameToken", "TokenStat", "TokenVariant", "Notice", "EquatorCategory", "EvidenceReference", "FindingStatus",
    "IdempotencyKey", "Identifier", "KnockoutFinding", "ListType", "Listing", "ListingEvent", "ListingLine", "ListingLineMark",
    "ListingStatus",
    "Membership", "Objection", "Outcome", "Project", "Release", "ReleaseStatus", "RepairRequest",
    "RequestStatus", "Role", "Ruleset", "RulesetStatus", "SECTORS",
]
