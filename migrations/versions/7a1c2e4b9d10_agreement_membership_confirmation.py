"""Agreements and their membership changes wait for every member region's confirmation (issue 12, item 2)

Revision ID: 7a1c2e4b9d10
Revises: 5e1f0a7c9b24
Create Date: 2026-12-06 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c2e4b9d10'
down_revision = '5e1f0a7c9b24'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreement_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_code', sa.String(length=40), nullable=False),
    sa.Column('action', sa.Enum('create', 'change', name='agreement_proposal_action', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('state', sa.Enum('pending', 'applied', 'declined', 'withdrawn', name='agreement_proposal_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by', sa.String(length=60), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=60), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL AND decided_by IS NULL)", name=op.f('ck_agreement_proposals_decided_has_who_and_when')),
    sa.CheckConstraint("(state = 'declined') = (reason IS NOT NULL)", name=op.f('ck_agreement_proposals_declined_has_reason')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_agreement_proposals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_agreement_proposals_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_proposals'))
    )
    with op.batch_alter_table('agreement_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_proposals_agreement_code'), ['agreement_code'], unique=False)
        batch_op.create_index('uq_agreement_proposals_one_pending', ['agreement_code'], unique=True, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.create_table('agreement_proposal_regions',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=60), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(confirmed_at IS NULL) = (confirmed_by IS NULL)', name=op.f('ck_agreement_proposal_regions_confirmed_has_who')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_agreement_proposal_regions_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['agreement_proposals.id'], name=op.f('fk_agreement_proposal_regions_proposal_id_agreement_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_agreement_proposal_regions_region_code_regions')),
    sa.PrimaryKeyConstraint('proposal_id', 'region_code', name=op.f('pk_agreement_proposal_regions'))
    )
    with op.batch_alter_table('agreement_proposal_regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_proposal_regions_region_code'), ['region_code'], unique=False)


def downgrade():
    with op.batch_alter_table('agreement_proposal_regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_proposal_regions_region_code'))
    op.drop_table('agreement_proposal_regions')
    with op.batch_alter_table('agreement_proposals', schema=None) as batch_op:
        batch_op.drop_index('uq_agreement_proposals_one_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_agreement_proposals_agreement_code'))
    op.drop_table('agreement_proposals')
