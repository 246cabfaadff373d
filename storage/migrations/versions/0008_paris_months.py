"""statistics months in Paris time

The kept counts were keyed by the UTC month of each alert: an alert saved at 00:30 on
1 February in Paris (23:30 UTC on 31 January) counted in January. They are rebuilt from
the alerts with Paris months (`storage.paris`), as the console's filters now read days.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:30:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from storage.counts import rebuild_sql

    op.execute("DELETE FROM alert_counts")
    op.execute(rebuild_sql(op.get_bind().dialect.name))


def downgrade() -> None:
    # UTC months, as 0007 left them.
    from storage.counts import rebuild_sql

    dialect = op.get_bind().dialect.name
    utc = ("to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM')" if dialect == "postgresql"
           else "strftime('%Y-%m', a.created_at)")
    op.execute("DELETE FROM alert_counts")
    op.execute(rebuild_sql(dialect, month=utc))
