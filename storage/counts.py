"""Keeping `alert_counts` (storage.models.AlertCount) in step with the alerts.

Alerts are never deleted and their counted fields never change once saved (forgetting
and retention clear only free text), so one increment per saved alert keeps the counts
exact; `rebuild` recomputes them from the alerts (migration, bulk seeding).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import FREE_TEXT_OPERATOR, AlertCount


def count_key(alert: dict[str, Any], created: datetime) -> dict[str, str]:
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    operator = alert.get("operator") or (FREE_TEXT_OPERATOR if alert.get("operator_text")
                                         else "")
    return {"month": created.astimezone(timezone.utc).strftime("%Y-%m"), "operator": operator,
            "category": alert.get("category") or "", "sector": alert.get("sector") or "",
            "user_type": alert.get("user_type") or "", "channel": alert.get("channel") or ""}


async def count_alert(session: AsyncSession, alert: dict[str, Any], created: datetime) -> None:
    """+1 for a newly saved alert, in the transaction that saves it."""
    insert = upsert_insert(session.bind.dialect.name, AlertCount).values(
        **count_key(alert, created), count=1)
    await session.execute(insert.on_conflict_do_update(
        index_elements=["month", "operator", "category", "sector", "user_type", "channel"],
        set_={"count": AlertCount.count + 1}))


def rebuild_sql(dialect: str) -> str:
    month = ("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')" if dialect == "postgresql"
             else "strftime('%Y-%m', created_at)")
    return f"""
        INSERT INTO alert_counts (month, operator, category, sector, user_type, channel, count)
        SELECT {month},
               COALESCE(operator, CASE WHEN operator_text IS NOT NULL AND operator_text <> ''
                                       THEN '{FREE_TEXT_OPERATOR}' ELSE '' END),
               COALESCE(category, ''), COALESCE(sector, ''), COALESCE(user_type, ''),
               COALESCE(channel, ''), count(*)
        FROM alerts GROUP BY 1, 2, 3, 4, 5, 6"""


async def rebuild(session: AsyncSession) -> None:
    await session.execute(delete(AlertCount))
    await session.execute(text(rebuild_sql(session.bind.dialect.name)))
