"""review markers on messages: the step a turn ended on, and flags (no text)

`step`: on a bot reply, the question the turn ended on (a field's id, "summary",
"cancel" or "rating"); on a person's message, the question it answered.
`marks`: bit flags of the turn (1: the NLU was unsure, 2: the person corrected the
bot, 4: the same question was asked again). Ids and flags only, never text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('step', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('marks', sa.Integer(), nullable=True))
    op.create_index('ix_messages_step', 'messages', ['step', 'sender', 'conversation_id'])
    op.create_index('ix_messages_marks', 'messages', ['marks', 'conversation_id'])


def downgrade() -> None:
    op.drop_index('ix_messages_marks', table_name='messages')
    op.drop_index('ix_messages_step', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('marks')
        batch.drop_column('step')
