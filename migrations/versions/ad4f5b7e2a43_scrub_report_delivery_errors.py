"""Report deliveries recorded before the SSRF fix kept up to 200 characters of the receiver's answer, or the
connection error with its address and port, in last_error / error: replace them with a fixed message (the
status code stays in its own column); there is nothing to bring back on downgrade

Revision ID: ad4f5b7e2a43
Revises: 9c3e4a6d1f32
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ad4f5b7e2a43'
down_revision = '9c3e4a6d1f32'
branch_labels = None
depends_on = None

REMOVED = '投递失败，旧记录的详情已清除 (delivery failed; details of an earlier record removed)'


def upgrade():
    op.execute(sa.text("UPDATE report_deliveries SET last_error = :text WHERE last_error IS NOT NULL")
               .bindparams(text=REMOVED))
    op.execute(sa.text("UPDATE report_delivery_attempts SET error = :text WHERE error IS NOT NULL")
               .bindparams(text=REMOVED))


def downgrade():
    pass
