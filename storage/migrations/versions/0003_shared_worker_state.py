"""state every worker shares: pending uploads, counters, Telegram updates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('photo', sa.JSON(), nullable=True),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_pending_uploads_created_at'), 'pending_uploads', ['created_at'],
                    unique=False)
    op.create_table('counters',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window')
    )
    op.create_table('telegram_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    op.create_index(op.f('ix_telegram_updates_handled_at'), 'telegram_updates',
                    ['handled_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_telegram_updates_handled_at'), table_name='telegram_updates')
    op.drop_table('telegram_updates')
    op.drop_table('counters')
    op.drop_index(op.f('ix_pending_uploads_created_at'), table_name='pending_uploads')
    op.drop_table('pending_uploads')
