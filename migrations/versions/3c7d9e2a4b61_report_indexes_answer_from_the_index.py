"""Report indexes that answer from the index alone: legal-aid counts by period and centre, open cases by due date
with their handler

Revision ID: 3c7d9e2a4b61
Revises: 1ad85178fadd
Create Date: 2026-11-25 23:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c7d9e2a4b61'
down_revision = '1ad85178fadd'
branch_labels = None
depends_on = None

OPEN = "status IN ('accepted', 'in_mediation')"


def upgrade():
    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_aid_applications_filed_on')
        batch_op.drop_index('ix_legal_aid_applications_decided_on')
        batch_op.create_index('ix_legal_aid_applications_filed_scope', ['filed_on', 'filed_centre_id'], unique=False)
        batch_op.create_index('ix_legal_aid_applications_decided_scope',
                              ['decided_on', 'centre_id', 'decide_by', 'granted'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_due_on', postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index('ix_cases_open_due_on', ['due_on', 'id'], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
                              postgresql_include=['organization_id'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_due_on', postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index('ix_cases_open_due_on', ['due_on', 'id'], unique=False,
                              postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))

    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_aid_applications_decided_scope')
        batch_op.drop_index('ix_legal_aid_applications_filed_scope')
        batch_op.create_index('ix_legal_aid_applications_decided_on', ['decided_on'], unique=False)
        batch_op.create_index('ix_legal_aid_applications_filed_on', ['filed_on'], unique=False)
