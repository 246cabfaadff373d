"""The operator left, for number portability

`alerts.previous_operator`: when someone moving from one operator to another cannot keep
their number, the alert's `operator` is the one at fault and this column the other one
(« je passe de SFR à Free et mon numéro n'a pas suivi »). Null for every other problem.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('previous_operator', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('previous_operator')
