"""Legal aid: the applicant's particulars the papers print (gender, ethnicity, address, occupation) and the one
request for further materials (补充材料: items, requested / reply-by / received dates), with the constraints tying
them together

Revision ID: c3a5b9d2e408
Revises: c2e8f1a3b706
Create Date: 2026-12-07 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a5b9d2e408'
down_revision = 'c2e8f1a3b706'
branch_labels = None
depends_on = None

COLUMNS = (
    ('applicant_gender', sa.String(length=8)),
    ('applicant_ethnicity', sa.String(length=20)),
    ('applicant_address', sa.String(length=200)),
    ('applicant_occupation', sa.String(length=60)),
    ('supplement_items', sa.Text()),
    ('supplement_requested_on', sa.Date()),
    ('supplement_due_on', sa.Date()),
    ('supplement_received_on', sa.Date()),
)
CHECKS = (
    ('ck_legal_aid_applications_applicant_gender_known',
     "applicant_gender IS NULL OR applicant_gender IN ('male', 'female')"),
    ('ck_legal_aid_applications_supplement_request_has_items',
     '(supplement_requested_on IS NULL) = (supplement_items IS NULL)'),
    ('ck_legal_aid_applications_supplement_due_after_request',
     'supplement_due_on IS NULL OR (supplement_requested_on IS NOT NULL '
     'AND supplement_due_on >= supplement_requested_on)'),
    ('ck_legal_aid_applications_supplement_received_after_request',
     'supplement_received_on IS NULL OR (supplement_requested_on IS NOT NULL '
     'AND supplement_received_on >= supplement_requested_on)'),
)


def upgrade():
    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        for name, condition in CHECKS:
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        for name, _condition in reversed(CHECKS):
            batch_op.drop_constraint(op.f(name), type_='check')
    with op.batch_alter_table('legal_aid_applications', schema=None) as batch_op:
        for name, _type in reversed(COLUMNS):
            batch_op.drop_column(name)
