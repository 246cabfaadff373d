"""Telegram updates stored masked, with their sender's key

`telegram_updates.person`: the key of the person who sent the update
(`ConversationService.user_key`), so that « Oubliez-moi » also drops the updates of
theirs stored but never handled; emptied with the payload once handled. Payloads of
updates not handled yet, stored whole by earlier versions (a phone number or an e-mail
address typed in a message), are cut down to what handling needs, masked
(`storage.shared.kept_update`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from storage.shared import kept_update

    with op.batch_alter_table('telegram_updates') as batch:
        batch.add_column(sa.Column('person', sa.String(length=64), nullable=True))
    updates = sa.table('telegram_updates', sa.column('update_id', sa.BigInteger),
                       sa.column('payload', sa.JSON), sa.column('handled_at'))
    bind = op.get_bind()
    waiting = bind.execute(sa.select(updates.c.update_id, updates.c.payload)
                           .where(updates.c.handled_at.is_(None))).all()
    for update_id, payload in waiting:
        if isinstance(payload, dict):
            bind.execute(updates.update().where(updates.c.update_id == update_id)
                         .values(payload=kept_update(payload)))


def downgrade() -> None:
    with op.batch_alter_table('telegram_updates') as batch:
        batch.drop_column('person')
