"""Calendar years are official or provisional, with their source version and who loaded them; every deadline
records whether it was counted over a provisional year

Revision ID: 5e1f0a7c9b24
Revises: 3c7d9e2a4b61
Create Date: 2026-12-06 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0a7c9b24'
down_revision = '3c7d9e2a4b61'
branch_labels = None
depends_on = None

FLAGS = {
    'cases': ('due_on_provisional', 'confirmation_deadline_provisional', 'follow_up_due_on_provisional'),
    'transfers': ('respond_by_provisional',),
    'legal_aid_applications': ('decide_by_provisional', 'assign_by_provisional'),
}


def upgrade():
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status', sa.Enum('official', 'provisional', name='calendar_year_status', native_enum=False,
                              create_constraint=True, length=40),
            nullable=False, server_default='official'))
        batch_op.add_column(sa.Column('source_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('loaded_by', sa.String(length=60), nullable=True))
    # A year loaded by hand before this revision is an administrator's correction: seed never overwrites it.
    op.execute("UPDATE calendar_years SET loaded_by = 'admin' WHERE source NOT LIKE 'chinesecalendar%'")
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
    for table, columns in FLAGS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    for table, columns in FLAGS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)
    with op.batch_alter_table('calendar_years', schema=None) as batch_op:
        batch_op.drop_constraint('calendar_year_status', type_='check')
        batch_op.drop_column('loaded_by')
        batch_op.drop_column('source_version')
        batch_op.drop_column('status')
