"""When the problem started

`alerts.started_on`: the day (in Paris) the problem started, as the person said it
(« depuis 3 semaines », « depuis le 12 novembre »), asked for outages, coverage, slow speed
and deliveries. Null when not said. Added nullable: the previous release, which does not
know it, keeps writing alerts (expand only).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('started_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('started_on')
