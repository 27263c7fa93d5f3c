"""The occurred basis (属地) and the flows that reconcile the rates: place aggregates rolled up the region tree to
town and village, transfers in and out and the on-time counts against the original limit in the case aggregates,
the original due date of an extended case, and the basis of a report subscription (issue 17).

The new aggregate columns and tables are filled by `mediation-hub reports rebuild-aggregates` (run it once after
this upgrade on a database with cases; `make run` and a new database need nothing).

Revision ID: e5a7c3d1f610
Revises: d4f1a6c2e509
Create Date: 2026-12-07 10:00:00

"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5a7c3d1f610'
down_revision = 'd4f1a6c2e509'
branch_labels = None
depends_on = None

CASE_TABLES = ('case_daily_stats', 'case_monthly_stats', 'case_region_daily_stats', 'case_region_monthly_stats')
NEW_COUNTS = ('concluded_on_time_original', 'concluded_extended', 'transferred_in', 'transferred_out')
STAT_FIELDS = (
    'received', 'accepted', 'declined', 'concluded', 'agreement', 'no_agreement', 'withdrawn', 'referred',
    'concluded_on_time', 'concluded_on_time_original', 'concluded_extended', 'completed',
)


def _counts():
    return [sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in STAT_FIELDS]


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_due_on', sa.Date(), nullable=True))
    for table in CASE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in NEW_COUNTS:
                batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    for table, column in (('case_place_daily_stats', 'day'), ('case_place_monthly_stats', 'month')):
        op.create_table(
            table,
            sa.Column(column, sa.Date(), nullable=False),
            sa.Column('region_code', sa.String(length=12), nullable=False),
            sa.Column('category_code', sa.String(length=40), nullable=False),
            *_counts(),
            sa.PrimaryKeyConstraint('region_code', column, 'category_code', name=f'pk_{table}'),
        )
    op.create_table(
        'case_place_cohorts',
        sa.Column('completed_on', sa.Date(), nullable=False),
        sa.Column('registered_on', sa.Date(), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('category_code', sa.String(length=40), nullable=False),
        sa.Column('cases', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint(
            'completed_on', 'registered_on', 'region_code', 'category_code', name='pk_case_place_cohorts'
        ),
    )
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=10), server_default='handled', nullable=False))
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_report_subscriptions_basis_known'), "basis IN ('handled', 'occurred')")
    _backfill_original_due_dates()


def _backfill_original_due_dates():
    """An extended case's original due date: the due date its first extension started from."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT case_id, data FROM case_events WHERE code = 'time_limit_extended' ORDER BY case_id, id"
        )
    ).all()
    first: dict[int, date] = {}
    for case_id, data in rows:
        values = json.loads(data) if isinstance(data, str) else data
        previous = (values or {}).get('previous_due_on')
        if case_id not in first and previous:
            first[case_id] = date.fromisoformat(previous)
    update = sa.text('UPDATE cases SET original_due_on = :due WHERE id = :case_id')
    for case_id, due in first.items():
        bind.execute(update, {'due': due, 'case_id': case_id})


def downgrade():
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_report_subscriptions_basis_known'), type_='check')
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('basis')
    op.drop_table('case_place_cohorts')
    op.drop_table('case_place_monthly_stats')
    op.drop_table('case_place_daily_stats')
    for table in CASE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(NEW_COUNTS):
                batch_op.drop_column(name)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('original_due_on')
