"""Dates as the regulator reads them, on any day: Paris days and months in the console,
the statistics, the open data and the retention cut-offs, for each of the twelve months,
across the daylight-saving changes of 2026 and New Year (tests/clock.py)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from multidict import MultiDict

from bot.console.review import _period, paris
from bot.console.stats import dashboard, groups_of, load_customer_base
from storage.exports import opendata_csv
from storage.retention import purge
from storage.review import ReviewRepository
from storage.staff import AlertFilter, StaffRepository
from tests.clock import DST, MONTH_STARTS, UTC, Moment, around, at, by_month
from tests.test_staff import make_alert


def _month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(month + "-01")
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@around(MONTH_STARTS + DST)
def test_the_console_writes_paris_time(moment: Moment) -> None:
    assert paris(moment.utc) == moment.console
    assert paris(moment.utc.replace(tzinfo=None)) == moment.console  # SQLite's naive UTC
    assert paris(moment.utc.isoformat()) == moment.console


@by_month()
def test_a_console_period_is_whole_paris_days(moment: Moment) -> None:
    first, last = _month_bounds(moment.month)
    start, end = _period(MultiDict(start=first.isoformat(), end=last.isoformat()))
    assert start <= moment.utc < end  # 00:30 on the 1st in Paris is inside its month
    before_start, before_end = _period(MultiDict(end=(first - timedelta(days=1)).isoformat()))
    assert before_start is None and moment.utc >= before_end
    # Whole days in Paris: 24 hours, but 23 and 25 on the days the clocks change.
    hours = (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1)
    assert hours == 24 * ((last - first).days + 1) + {"2026-03": -1, "2026-10": 1}.get(
        moment.month, 0
    )


@by_month()
async def test_an_alert_counts_in_its_paris_month_everywhere(bot, taxonomy, moment: Moment) -> None:
    """Saved at 00:30 on the 1st in Paris (the previous day in UTC): listed, counted,
    charted and published in its Paris month, never in the month before."""
    with at(moment):
        await make_alert(bot, "p", "Orange me facture deux fois ma box")
    repo, bases = StaffRepository(bot.db), load_customer_base()
    first, last = _month_bounds(moment.month)
    this_month = AlertFilter(start=first, end=last)
    month_before = AlertFilter(
        start=(first - timedelta(days=1)).replace(day=1), end=first - timedelta(days=1)
    )
    the_first = AlertFilter(start=first, end=first)  # cuts a month: read from the alerts

    assert (await repo.alerts(this_month, page_size=None))[1] == 1
    assert (await repo.alerts(month_before, page_size=None))[1] == 0
    assert (await repo.alerts(the_first, page_size=None))[1] == 1
    for flt in (this_month, the_first, AlertFilter()):  # kept counts, then the alerts
        groups = await repo.alert_groups(flt)
        assert [(group["month"], count) for group, count in groups] == [(moment.month, 1)]
        assert dashboard(groups, bases).total == 1
    assert await repo.alert_groups(month_before) == []

    alerts, _ = await repo.alerts(AlertFilter(), page_size=None)
    assert [group["month"] for group, _ in groups_of(alerts)] == [moment.month]  # one by one
    published = opendata_csv(alerts, taxonomy, threshold=1).decode("utf-8-sig")
    assert [line.split(";")[0] for line in published.splitlines()[1:]] == [moment.month]

    funnel = await ReviewRepository(bot.db).funnel(
        *_period(MultiDict(start=first.isoformat(), end=last.isoformat())), None
    )
    assert (funnel.started, funnel.alerts) == (1, 1)


@by_month()
async def test_retention_cut_offs_fall_on_time_in_every_month(sqlite_bot, moment: Moment) -> None:
    """Transcripts go 90 days after they were written, to the minute, whatever the clock
    changes in between; the alert's fields stay."""
    bot = sqlite_bot
    with at(moment):
        alert = await make_alert(bot, "p", "Orange me facture deux fois ma box")
    key = bot.service.user_key("cli", "p")
    root = bot.photos.root
    kept = await purge(
        bot.db,
        root,
        transcript_days=90,
        free_text_days=365,
        now=moment.utc + timedelta(days=90) - timedelta(minutes=1),
    )
    assert kept.messages == 0 and await bot.repository.transcript("cli", key)
    gone = await purge(
        bot.db,
        root,
        transcript_days=90,
        free_text_days=365,
        now=moment.utc + timedelta(days=90, minutes=5),
    )
    assert gone.messages > 0 and await bot.repository.transcript("cli", key) == []
    assert (await bot.repository.alert(alert["id"]))["description"]  # free text: a year
    late = await purge(
        bot.db,
        root,
        transcript_days=90,
        free_text_days=365,
        now=moment.utc + timedelta(days=365, minutes=5),
    )
    saved = await bot.repository.alert(alert["id"])
    assert late.descriptions == 1 and saved["description"] == ""
    assert (saved["category"], saved["operator"]) == ("billing", "orange")
