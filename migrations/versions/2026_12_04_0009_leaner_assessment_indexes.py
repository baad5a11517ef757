"""Fewer index entries per stored assessment

Every assessment stores a score row per criterion and usually an evidence row per score; each
of those rows wrote entries into indexes that nothing needs:

- ``assessment_scores`` and ``knockout_findings`` had an index on ``assessment_id`` beside their
  unique index on (``assessment_id``, criterion or code), which already serves every lookup by
  assessment, the cascade from ``assessments`` included;
- ``evidence_references.finding_id`` is NULL for every reference that backs a score, yet each
  got an entry; the index now holds only references to a finding, which is all the cascade from
  ``knockout_findings`` looks up.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL = sa.text('finding_id IS NOT NULL')


def upgrade() -> None:
    op.drop_index('ix_assessment_scores_assessment_id', table_name='assessment_scores')
    op.drop_index('ix_knockout_findings_assessment_id', table_name='knockout_findings')
    op.drop_index('ix_evidence_references_finding_id', table_name='evidence_references')
    op.create_index('ix_evidence_references_finding_id', 'evidence_references', ['finding_id'],
                    postgresql_where=_NOT_NULL, sqlite_where=_NOT_NULL)


def downgrade() -> None:
    op.drop_index('ix_evidence_references_finding_id', table_name='evidence_references')
    op.create_index('ix_evidence_references_finding_id', 'evidence_references', ['finding_id'])
    op.create_index('ix_knockout_findings_assessment_id', 'knockout_findings', ['assessment_id'])
    op.create_index('ix_assessment_scores_assessment_id', 'assessment_scores', ['assessment_id'])
