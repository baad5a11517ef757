"""Initial domain model

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 01:50:07.891059
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('associations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('status', sa.Enum('accredited', 'suspended', name='association_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('accredited_at', sa.DateTime(), nullable=False),
    sa.Column('suspended_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('length(code) between 2 and 16', name=op.f('ck_associations_code_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_associations')),
    sa.UniqueConstraint('code', name=op.f('uq_associations_code'))
    )
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=300), nullable=False),
    sa.Column('chinese_name', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['enterprises.id'], name=op.f('fk_enterprises_merged_into_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_sector'), ['sector'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('reviewer', 'association_admin', 'registrar', name='account_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('active', 'disabled', name='account_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(role = 'registrar' AND association_id IS NULL) OR (role <> 'registrar' AND association_id IS NOT NULL)", name=op.f('ck_accounts_role_association')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_accounts_association_id_associations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_association_id'), ['association_id'], unique=False)

    op.create_table('enterprise_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_aliases_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_aliases')),
    sa.UniqueConstraint('enterprise_id', 'name', name=op.f('uq_enterprise_aliases_enterprise_id_name'))
    )
    with op.batch_alter_table('enterprise_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_aliases_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_identifiers_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifiers')),
    sa.UniqueConstraint('scheme', 'value', name=op.f('uq_identifiers_scheme_value'))
    )
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identifiers_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_memberships_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_memberships_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('association_id', 'enterprise_id', name=op.f('uq_memberships_association_id_enterprise_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('host_country', sa.String(length=2), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('equator_category', sa.Enum('A', 'B', 'C', name='equator_category', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('brigc_class', sa.Enum('green', 'yellow', 'red', name='brigc_class', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('start_year', sa.SmallInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_projects_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_host_country'), ['host_country'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_tokens_prefix')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_account_id'), ['account_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_audit_events_actor_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_events_prev_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('published', 'failed', name='release_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('previous_number', sa.Integer(), nullable=True),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.Column('storage_path', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_releases_created_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('number', name=op.f('uq_releases_number'))
    )
    op.create_table('rulesets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'retired', name='ruleset_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activated_by_id'], ['accounts.id'], name=op.f('fk_rulesets_activated_by_id_accounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_rulesets_created_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rulesets')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_rulesets_content_hash')),
    sa.UniqueConstraint('version', name=op.f('uq_rulesets_version'))
    )
    with op.batch_alter_table('rulesets', schema=None) as batch_op:
        batch_op.create_index('uq_rulesets_one_active', ['status'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'withdrawn', 'superseded', name='assessment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('conflict_declared', sa.Boolean(), nullable=True),
    sa.Column('conflict_note', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_assessments_association_id_associations')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_assessments_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assessments_project_id_projects')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['accounts.id'], name=op.f('fk_assessments_reviewer_id_accounts')),
    sa.ForeignKeyConstraint(['ruleset_id'], ['rulesets.id'], name=op.f('fk_assessments_ruleset_id_rulesets')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['assessments.id'], name=op.f('fk_assessments_supersedes_id_assessments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_assessments_supersedes_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_ruleset_id'), ['ruleset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_status'), ['status'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('RED', 'BLACK', 'NONE', name='decision_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason_codes', sa.JSON(), nullable=False),
    sa.Column('total_score', sa.Float(), nullable=True),
    sa.Column('pillar_scores', sa.JSON(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('inputs', sa.Text(), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('engine_version', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=False),
    sa.Column('triggered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_decisions_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['ruleset_id'], ['rulesets.id'], name=op.f('fk_decisions_ruleset_id_rulesets')),
    sa.ForeignKeyConstraint(['triggered_by_id'], ['accounts.id'], name=op.f('fk_decisions_triggered_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_enterprise_created', ['enterprise_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_ruleset_id'), ['ruleset_id'], unique=False)

    op.create_table('assessment_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=16), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.CheckConstraint('score IS NOT NULL OR justification IS NOT NULL', name=op.f('ck_assessment_scores_na_justified')),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 4)', name=op.f('ck_assessment_scores_score_range')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_scores_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scores')),
    sa.UniqueConstraint('assessment_id', 'criterion', name=op.f('uq_assessment_scores_assessment_id_criterion'))
    )
    with op.batch_alter_table('assessment_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_scores_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('knockout_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'alleged', name='finding_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_knockout_findings_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knockout_findings')),
    sa.UniqueConstraint('assessment_id', 'code', name=op.f('uq_knockout_findings_assessment_id_code'))
    )
    with op.batch_alter_table('knockout_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knockout_findings_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('list_type', sa.Enum('red', 'black', name='list_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'withdrawn', 'expired', 'removed', 'revoked', name='listing_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('reason_codes', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('triggered_by_id', sa.Integer(), nullable=True),
    sa.Column('objection_deadline', sa.Date(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['accounts.id'], name=op.f('fk_listings_confirmed_by_id_accounts')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_listings_decision_id_decisions')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['accounts.id'], name=op.f('fk_listings_ended_by_id_accounts')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_listings_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['triggered_by_id'], ['accounts.id'], name=op.f('fk_listings_triggered_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listings_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_listings_status_list', ['status', 'list_type'], unique=False)
        batch_op.create_index('uq_listings_one_active_per_enterprise', ['enterprise_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('evidence_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=16), nullable=True),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=1000), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint('NOT (criterion IS NOT NULL AND finding_id IS NOT NULL)', name=op.f('ck_evidence_references_one_target')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_evidence_references_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['finding_id'], ['knockout_findings.id'], name=op.f('fk_evidence_references_finding_id_knockout_findings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_references'))
    )
    with op.batch_alter_table('evidence_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_references_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_references_finding_id'), ['finding_id'], unique=False)

    op.create_table('listing_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('from_status', sa.Enum('proposed', 'active', 'withdrawn', 'expired', 'removed', 'revoked', name='listing_event_from', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('to_status', sa.Enum('proposed', 'active', 'withdrawn', 'expired', 'removed', 'revoked', name='listing_event_to', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_listing_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_events_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_events'))
    )
    with op.batch_alter_table('listing_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_events_listing_id'), ['listing_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'upheld', 'rejected', 'granted', 'refused', name='objection_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['accounts.id'], name=op.f('fk_objections_decided_by_id_accounts')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_objections_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections')),
    sa.UniqueConstraint('reference', name=op.f('uq_objections_reference'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_listing_id'), ['listing_id'], unique=False)

    op.create_table('repair_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('remediation', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'upheld', 'rejected', 'granted', 'refused', name='repair_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['accounts.id'], name=op.f('fk_repair_requests_decided_by_id_accounts')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_repair_requests_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repair_requests')),
    sa.UniqueConstraint('reference', name=op.f('uq_repair_requests_reference'))
    )
    with op.batch_alter_table('repair_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repair_requests_listing_id'), ['listing_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('repair_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repair_requests_listing_id'))

    op.drop_table('repair_requests')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_listing_id'))

    op.drop_table('objections')
    with op.batch_alter_table('listing_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_events_listing_id'))

    op.drop_table('listing_events')
    with op.batch_alter_table('evidence_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_references_finding_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_references_assessment_id'))

    op.drop_table('evidence_references')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('uq_listings_one_active_per_enterprise', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_listings_status_list')
        batch_op.drop_index(batch_op.f('ix_listings_enterprise_id'))

    op.drop_table('listings')
    with op.batch_alter_table('knockout_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knockout_findings_assessment_id'))

    op.drop_table('knockout_findings')
    with op.batch_alter_table('assessment_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_scores_assessment_id'))

    op.drop_table('assessment_scores')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_ruleset_id'))
        batch_op.drop_index('ix_decisions_enterprise_created')

    op.drop_table('decisions')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_status'))
        batch_op.drop_index(batch_op.f('ix_assessments_ruleset_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_project_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_assessments_association_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('rulesets', schema=None) as batch_op:
        batch_op.drop_index('uq_rulesets_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.drop_table('rulesets')
    op.drop_table('releases')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_account_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_host_country'))
        batch_op.drop_index(batch_op.f('ix_projects_enterprise_id'))

    op.drop_table('projects')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_association_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identifiers_enterprise_id'))

    op.drop_table('identifiers')
    with op.batch_alter_table('enterprise_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_aliases_enterprise_id'))

    op.drop_table('enterprise_aliases')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_association_id'))

    op.drop_table('accounts')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_sector'))
        batch_op.drop_index(batch_op.f('ix_enterprises_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_enterprises_country'))

    op.drop_table('enterprises')
    op.drop_table('associations')
