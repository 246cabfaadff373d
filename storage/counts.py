"""Keeping `alert_counts` (storage.models.AlertCount) in step with the alerts.

Alerts are never deleted and their counted fields never change once saved (forgetting
and retention clear only free text), so one increment per saved alert (`count_keys`, in
the transaction that saves it: storage.repository.TurnRecord.save_alert) keeps the counts
exact; `rebuild` recomputes them from the alerts (migration, bulk seeding).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FREE_TEXT_OPERATOR, AlertCount
from storage.paris import month_of, month_sql_text


def count_operators(alert: dict[str, Any]) -> list[str]:
    """The operator keys an alert counts under: each of its operators, else the free-text
    mark (an operator typed by hand is never an operator), else "" (none)."""
    operators = list(alert.get("operators") or ())
    if not operators and alert.get("operator"):
        operators = [alert["operator"]]
    return operators or [FREE_TEXT_OPERATOR if alert.get("operator_text") else ""]


def count_keys(alert: dict[str, Any], created: datetime) -> list[dict[str, str]]:
    """One key per operator of the alert (the first one is where it counts once)."""
    fields = {
        "month": month_of(created),
        "category": alert.get("category") or "",
        "sector": alert.get("sector") or "",
        "user_type": alert.get("user_type") or "",
        "channel": alert.get("channel") or "",
    }
    return [{**fields, "operator": operator} for operator in count_operators(alert)]


def rebuild_sql(dialect: str, several: bool = True, month: str | None = None) -> str:
    """The counts from the alerts, as a saved alert adds to them (TurnRecord.save_alert): an alert about several
    operators (rows in alert_operators) in one row per operator, once in all (`alerts`)
    in the row of its first one. `several=False`: the schema before 0007 (no
    alert_operators, no `alerts` column), for migration 0005."""
    month = month or month_sql_text(dialect, "a.created_at")
    if several:
        return f"""
        INSERT INTO alert_counts (month, operator, category, sector, user_type, channel, count,
                                  alerts)
        SELECT {month},
               COALESCE(o.operator, a.operator,
                        CASE WHEN a.operator_text IS NOT NULL AND a.operator_text <> ''
                             THEN '{FREE_TEXT_OPERATOR}' ELSE '' END),
               COALESCE(a.category, ''), COALESCE(a.sector, ''), COALESCE(a.user_type, ''),
               COALESCE(a.channel, ''), count(*),
               SUM(CASE WHEN o.position IS NULL OR o.position = 0 THEN 1 ELSE 0 END)
        FROM alerts a LEFT JOIN alert_operators o ON o.alert_id = a.id
        GROUP BY 1, 2, 3, 4, 5, 6"""
    month = month.replace("a.created_at", "created_at")
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
