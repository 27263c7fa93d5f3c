"""Month aggregates of transfers (with a histogram of working days to answer) and of legal-aid applications, for
the dashboard at ten years (reporting/flow_aggregates.py), per organisation and rolled up the region tree; filled by `mediation-hub reports rebuild-aggregates`

Revision ID: d4f1a6c2e509
Revises: c3a5b9d2e408
Create Date: 2026-12-14 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4f1a6c2e509'
down_revision = 'c3a5b9d2e408'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'transfer_monthly_stats',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('from_organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('to_organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('working_days', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('transfers', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint(
            'month', 'from_organization_id', 'to_organization_id', 'mode', 'status', 'working_days',
            name='pk_transfer_monthly_stats',
        ),
    )
    with op.batch_alter_table('transfer_monthly_stats', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_monthly_stats_from_month', ['from_organization_id', 'month'], unique=False)
        batch_op.create_index('ix_transfer_monthly_stats_to_month', ['to_organization_id', 'month'], unique=False)

    op.create_table(
        'legal_aid_monthly_stats',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('centre_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('filed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('decided', sa.Integer(), server_default='0', nullable=False),
        sa.Column('decided_in_time', sa.Integer(), server_default='0', nullable=False),
        sa.Column('granted', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('month', 'centre_id', name='pk_legal_aid_monthly_stats'),
    )
    with op.batch_alter_table('legal_aid_monthly_stats', schema=None) as batch_op:
        batch_op.create_index('ix_legal_aid_monthly_stats_centre_month', ['centre_id', 'month'], unique=False)

    op.create_table(
        'transfer_region_monthly_stats',
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('side', sa.String(length=8), nullable=False),
        sa.Column('from_province', sa.String(length=12), nullable=False),
        sa.Column('to_province', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('working_days', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('transfers', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint(
            'region_code', 'month', 'side', 'from_province', 'to_province', 'status', 'working_days',
            name='pk_transfer_region_monthly_stats',
        ),
    )
    op.create_table(
        'legal_aid_region_monthly_stats',
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('filed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('decided', sa.Integer(), server_default='0', nullable=False),
        sa.Column('decided_in_time', sa.Integer(), server_default='0', nullable=False),
        sa.Column('granted', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('region_code', 'month', name='pk_legal_aid_region_monthly_stats'),
    )


def downgrade():
    op.drop_table('legal_aid_region_monthly_stats')
    op.drop_table('transfer_region_monthly_stats')
    with op.batch_alter_table('legal_aid_monthly_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_aid_monthly_stats_centre_month')
    op.drop_table('legal_aid_monthly_stats')
    with op.batch_alter_table('transfer_monthly_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_monthly_stats_to_month')
        batch_op.drop_index('ix_transfer_monthly_stats_from_month')
    op.drop_table('transfer_monthly_stats')
