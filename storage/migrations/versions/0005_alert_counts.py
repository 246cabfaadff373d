"""alert counts per month and field (the dashboard at a million alerts)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 18:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_counts',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('operator', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('sector', sa.String(length=16), nullable=False),
    sa.Column('user_type', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'operator', 'category', 'sector', 'user_type', 'channel')
    )
    # The alerts saved so far.
    from storage.counts import rebuild_sql

    op.execute(rebuild_sql(op.get_bind().dialect.name, several=False))


def downgrade() -> None:
    op.drop_table('alert_counts')
