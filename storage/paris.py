"""The regulator's calendar: days and months are those of Paris.

Instants are stored in UTC (SQLite gives them back naive, and naive means UTC). A day or
a month that a person chooses or reads — a console filter, a statistics month, an open
data row — is a day or a month in Paris, summer time included: an alert saved at 00:30
on 1 February in Paris (23:30 UTC on 31 January) counts in February.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import func

from domain.dates import PARIS, PARIS_TZ, in_paris
from sqlalchemy.sql.elements import ColumnElement


SQLITE_MONTH = "paris_month"  # the SQL functions SQLite connections get (`register_sqlite`)
SQLITE_DAYS_SINCE = "paris_days_since"


def month_of(moment: datetime) -> str:
    """« 2026-02 »: the Paris month of an instant."""
    return in_paris(moment).strftime("%Y-%m")


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Paris, as an instant in UTC (SQLite compares
    the stored UTC text with a bound's own wall-clock time)."""
    return datetime.combine(day, time.min, PARIS).astimezone(timezone.utc)


def _sqlite_month(stored: Any) -> str | None:
    """`month_of` for SQLite's stored text (« 2026-01-31 23:30:00.000000 », UTC)."""
    if stored is None:
        return None
    try:
        return month_of(datetime.fromisoformat(str(stored)))
    except ValueError:
        return None


def _sqlite_days_since(day: Any, stored: Any) -> int | None:
    """`days_since_sql` for SQLite's stored text: days from `day` to the Paris day of the
    instant `stored`."""
    if day is None or stored is None:
        return None
    try:
        moment = in_paris(datetime.fromisoformat(str(stored)))
        return (moment.date() - date.fromisoformat(str(day)[:10])).days
    except ValueError:
        return None


def register_sqlite(dbapi_connection: Any) -> None:
    """Gives a SQLite connection `paris_month(created_at)` and `paris_days_since(day,
    created_at)` (SQLite knows no time zones)."""
    dbapi_connection.create_function(SQLITE_MONTH, 1, _sqlite_month, deterministic=True)
    dbapi_connection.create_function(SQLITE_DAYS_SINCE, 2, _sqlite_days_since, deterministic=True)


def days_since_sql(dialect: str, day: Any, column: Any) -> ColumnElement[int]:
    """The days from `day` (a date) to the Paris day of the stored instant `column`."""
    if dialect == "postgresql":
        return func.date(func.timezone(PARIS_TZ, column)) - day
    return getattr(func, SQLITE_DAYS_SINCE)(day, column)


def month_sql(dialect: str, column: Any) -> ColumnElement[str]:
    """The Paris month of a stored instant, in SQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(PARIS_TZ, column), "YYYY-MM")
    return getattr(func, SQLITE_MONTH)(column)


def month_sql_text(dialect: str, column: str) -> str:
    """`month_sql` as text, for statements written as text (migrations, rebuilds)."""
    if dialect == "postgresql":
        return f"to_char({column} AT TIME ZONE '{PARIS_TZ}', 'YYYY-MM')"
    return f"{SQLITE_MONTH}({column})"
