"""Large exports run as background jobs with progress and a download (issue 12, item 5)

Revision ID: 9c3e4a6d1f32
Revises: 8b2d3f5c0e21
Create Date: 2026-12-06 12:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '9c3e4a6d1f32'
down_revision = '8b2d3f5c0e21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('case_list', name='export_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('format', sa.Enum('csv', 'xlsx', name='export_format', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='export_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('filters_sealed', sa.Text(), nullable=False),
    sa.Column('audit_filters', sa.JSON(), nullable=False),
    sa.Column('rows_expected', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('file_path', sa.String(length=500), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'done') = (file_path IS NOT NULL)", name=op.f('ck_export_jobs_file_only_when_done')),
    sa.CheckConstraint("(status IN ('done', 'failed')) = (finished_at IS NOT NULL)", name=op.f('ck_export_jobs_finished_has_time')),
    sa.CheckConstraint("status != 'done' OR (file_size IS NOT NULL AND expires_at IS NOT NULL)", name=op.f('ck_export_jobs_done_has_size_and_expiry')),
    sa.CheckConstraint("status != 'failed' OR message IS NOT NULL", name=op.f('ck_export_jobs_failed_has_message')),
    sa.CheckConstraint("status = 'queued' OR started_at IS NOT NULL", name=op.f('ck_export_jobs_started_has_time')),
    sa.CheckConstraint('rows_expected >= 0 AND rows_written >= 0', name=op.f('ck_export_jobs_rows_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_export_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_export_jobs_status_heartbeat', ['status', 'heartbeat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_export_jobs_status_heartbeat')
        batch_op.drop_index(batch_op.f('ix_export_jobs_created_by_id'))

    op.drop_table('export_jobs')
