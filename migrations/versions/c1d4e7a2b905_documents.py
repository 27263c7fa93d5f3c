"""Documents: numbers per organisation, year and series; documents, their versions and the exact bytes handed
out; the organisation's 文书代字

Revision ID: c1d4e7a2b905
Revises: ad4f5b7e2a43
Create Date: 2026-12-07 02:30:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c1d4e7a2b905'
down_revision = 'ad4f5b7e2a43'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_code', sa.String(length=12), nullable=True))

    op.create_table(
        'document_number_counters',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series', sa.String(length=12), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.CheckConstraint('last_number >= 0', name=op.f('ck_document_number_counters_doc_last_number_not_negative')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_document_number_counters_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'year', 'series', name=op.f('pk_document_number_counters')),
    )
    op.create_table(
        'document_numbers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_type', sa.String(length=20), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=12), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_document_numbers_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_numbers')),
        sa.UniqueConstraint('organization_id', 'year', 'series', 'sequence', name='uq_document_numbers_sequence'),
        sa.UniqueConstraint('owner_type', 'owner_id', 'series', name='uq_document_numbers_owner_series'),
    )
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_type', sa.String(length=20), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('owner_type', 'owner_id', 'kind', 'item_id', name='uq_documents_owner_kind_item'),
    )
    op.create_table(
        'document_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_versions_created_by_id_users')),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_document_versions_document_id_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_versions')),
        sa.UniqueConstraint('document_id', 'source_sha256', name='uq_document_versions_source'),
        sa.UniqueConstraint('document_id', 'version', name='uq_document_versions_version'),
    )
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_versions_document_id'), ['document_id'], unique=False)
    op.create_table(
        'document_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('full_numbers', sa.Boolean(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_files_created_by_id_users')),
        sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'],
                                name=op.f('fk_document_files_version_id_document_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_files')),
        sa.UniqueConstraint('version_id', 'format', 'full_numbers', name='uq_document_files_rendition'),
    )
    with op.batch_alter_table('document_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_files_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_files_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('document_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_files_version_id'))
        batch_op.drop_index(batch_op.f('ix_document_files_digest'))
    op.drop_table('document_files')
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_versions_document_id'))
    op.drop_table('document_versions')
    op.drop_table('documents')
    op.drop_table('document_numbers')
    op.drop_table('document_number_counters')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('document_code')
