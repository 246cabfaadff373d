"""staff sessions known to the server (revocable)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:08:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_staff_sessions_user_name'), 'staff_sessions', ['user_name'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_sessions_user_name'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
