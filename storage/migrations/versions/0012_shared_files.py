"""What a second host needs, in the database: photo bytes, models in service, retrain jobs

Expand only (issue 21): three new tables, nothing renamed or dropped, so that the previous
release keeps working on this schema during a rolling deploy (it writes photos to its
disk and ignores these tables).

- `photo_blobs`: the cleaned bytes of a photo, by SHA-256, when the database is shared
  (PostgreSQL). Written at upload, before any alert refers to it, hence no foreign key;
  erasure and redaction delete the bytes in the transaction that deletes the rows.
- `nlu_models`: every model put in service, with its version, its bytes and the figures
  that promoted it; the newest version is the one every host serves.
- `retrain_jobs`: the console's retrain runs (who, when, on which host, how it ended).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'photo_blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table(
        'nlu_models',
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=True),
        sa.Column('promoted_by', sa.String(length=120), nullable=False),
        sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('version'),
    )
    op.create_table(
        'retrain_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('started_by', sa.String(length=120), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('returncode', sa.Integer(), nullable=True),
        sa.Column('log', sa.Text(), nullable=False, server_default=''),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('retrain_jobs')
    op.drop_table('nlu_models')
    op.drop_table('photo_blobs')
