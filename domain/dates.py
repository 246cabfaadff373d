"""The regulator's calendar: days are those of Paris, summer time included.

Instants are UTC everywhere they are stored; a day a person means (« hier », a filter,
a statistics month) is a day in Paris. Tests control the clock (time-machine, faketime):
nothing here caches the date.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS_TZ = "Europe/Paris"
PARIS = ZoneInfo(PARIS_TZ)


def paris_today() -> date:
    """Today's date in France."""
    return datetime.now(PARIS).date()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC instant; a naive one is UTC already (SQLite gives them back so)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def in_paris(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(PARIS)


def as_json(value: object) -> object:
    """A stored value as JSON and the exports carry it: a day (not an instant) as
    « 2026-11-16 », anything else as it is."""
    return (
        value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value
    )
