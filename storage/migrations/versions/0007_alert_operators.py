"""alerts about several operators: one row per operator, counted once in the totals

`alert_operators`: the operators of an alert about several (« aucun opérateur ne
capte »), one row each, in the order given; `alerts.operator` is then null. An alert
about one operator keeps it in `alerts.operator` alone (no row: nothing to backfill).
`alert_counts.alerts`: the alerts counted once (1 in the row of an alert's first
operator), beside `count`, the alerts naming that operator. Existing rows each hold
alerts about one operator at most, so `alerts` = `count` there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 20:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_operators',
    sa.Column('alert_id', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('alert_id', 'operator')
    )
    op.create_index(op.f('ix_alert_operators_operator'), 'alert_operators', ['operator'],
                    unique=False)
    with op.batch_alter_table('alert_counts') as batch:
        batch.add_column(sa.Column('alerts', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE alert_counts SET alerts = count")


def downgrade() -> None:
    with op.batch_alter_table('alert_counts') as batch:
        batch.drop_column('alerts')
    op.drop_index(op.f('ix_alert_operators_operator'), table_name='alert_operators')
    op.drop_table('alert_operators')
