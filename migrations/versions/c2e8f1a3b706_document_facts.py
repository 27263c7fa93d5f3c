"""The facts the documents need that the hub did not record: a party's 性别, 民族, 职业, 住址 and an
organisation's 法定代表人; a session's place, attendees and recorder; whether an agreement is written or oral;
how a follow-up was made and by whom. All optional.

Revision ID: c2e8f1a3b706
Revises: c1d4e7a2b905
Create Date: 2026-12-07 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2e8f1a3b706'
down_revision = 'c1d4e7a2b905'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('ethnicity', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('occupation', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('representative', sa.String(length=60), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_parties_gender_known'),
                                         "gender IS NULL OR gender IN ('male', 'female')")
        batch_op.create_check_constraint(batch_op.f('ck_parties_gender_only_for_person'),
                                         "gender IS NULL OR kind = 'person'")
        batch_op.create_check_constraint(batch_op.f('ck_parties_representative_only_for_organization'),
                                         "representative IS NULL OR kind = 'organization'")

    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('attendees', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('recorder', sa.String(length=60), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_form', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_cases_agreement_form_needs_agreement'),
                                         "agreement_form IS NULL OR outcome = 'agreement'")
        batch_op.create_check_constraint(batch_op.f('ck_cases_agreement_form_known'),
                                         "agreement_form IS NULL OR agreement_form IN ('written', 'oral')")

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('visitor', sa.String(length=60), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_follow_ups_method_known'),
                                         "method IS NULL OR method IN ('visit', 'phone', 'other')")


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_method_known'), type_='check')
        batch_op.drop_column('visitor')
        batch_op.drop_column('method')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_agreement_form_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cases_agreement_form_needs_agreement'), type_='check')
        batch_op.drop_column('agreement_form')

    with op.batch_alter_table('mediation_sessions', schema=None) as batch_op:
        batch_op.drop_column('recorder')
        batch_op.drop_column('attendees')
        batch_op.drop_column('place')

    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_parties_representative_only_for_organization'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_parties_gender_only_for_person'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_parties_gender_known'), type_='check')
        batch_op.drop_column('representative')
        batch_op.drop_column('address')
        batch_op.drop_column('occupation')
        batch_op.drop_column('ethnicity')
        batch_op.drop_column('gender')
