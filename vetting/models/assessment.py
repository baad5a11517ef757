"""Assessments: one reviewer's scored review of an enterprise (optionally of one project).

An assessment holds one score per criterion of the ruleset it is filed under, the knock-out
findings the reviewer reports, the evidence behind both, and the reviewer's conflict-of-interest
declaration. Amending creates a new assessment that ``supersedes`` the old one; the old one
stays readable with status ``superseded``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vetting.db import Base
from vetting.models.types import AssessmentStatus, FindingStatus, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from vetting.models.account import Account
    from vetting.models.association import Association
    from vetting.models.enterprise import Enterprise, Project
    from vetting.models.ruleset import Ruleset


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    ruleset_id: Mapped[int] = mapped_column(ForeignKey("rulesets.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        str_enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.DRAFT, index=True
    )
    #: The assessment this one amends; the amended one becomes ``superseded``.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), unique=True)
    #: None until the reviewer declares; submission requires a declaration either way.
    conflict_declared: Mapped[bool | None] = mapped_column(Boolean)
    conflict_note: Mapped[str | None] = mapped_column(Text)
    #: fixed on submission from the memberships valid that day: "member", "independent", or
    #: "conflicted" (a declared conflict of interest); never recomputed afterwards
    standing: Mapped[str | None] = mapped_column(String(12))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Enterprise] = relationship()
    project: Mapped[Project | None] = relationship()
    association: Mapped[Association] = relationship()
    reviewer: Mapped[Account] = relationship()
    ruleset: Mapped[Ruleset] = relationship()
    scores: Mapped[list[CriterionScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="CriterionScore.criterion"
    )
    findings: Mapped[list[KnockoutFinding]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="KnockoutFinding.id"
    )
    evidence: Mapped[list[EvidenceReference]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="EvidenceReference.id"
    )

    __mapper_args__ = {"version_id_col": version}


class CriterionScore(Base):
    """A score 0–4 for one criterion, or n/a (``score`` NULL) with a justification."""

    __tablename__ = "assessment_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "criterion"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 4)", name="score_range"),
        CheckConstraint("score IS NOT NULL OR justification IS NOT NULL", name="na_justified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (assessment_id, criterion) index serves lookups by assessment
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    justification: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[Assessment] = relationship(back_populates="scores")


class KnockoutFinding(Base):
    """A knock-out the reviewer reports: ``confirmed`` (with evidence) or ``alleged``."""

    __tablename__ = "knockout_findings"
    __table_args__ = (UniqueConstraint("assessment_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (assessment_id, code) index serves lookups by assessment
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    status: Mapped[FindingStatus] = mapped_column(str_enum(FindingStatus, "finding_status"))
    description: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[Assessment] = relationship(back_populates="findings")


class EvidenceReference(Base):
    """A reference to evidence behind a criterion score or a knock-out finding."""

    __tablename__ = "evidence_references"
    __table_args__ = (
        CheckConstraint("NOT (criterion IS NOT NULL AND finding_id IS NOT NULL)", name="one_target"),
        # Most references back a criterion score and have no finding: the index holds only
        # those that do, so storing a score's evidence does not write an index entry for NULL.
        Index("ix_evidence_references_finding_id", "finding_id",
              postgresql_where=text("finding_id IS NOT NULL"), sqlite_where=text("finding_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str | None] = mapped_column(String(16))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("knockout_findings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))

    assessment: Mapped[Assessment] = relationship(back_populates="evidence")
    finding: Mapped[KnockoutFinding | None] = relationship()
