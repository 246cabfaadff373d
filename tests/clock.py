"""Time under the test's control.

Code that needs the date reads the system clock (`datetime.now`, `time.time`); a test that
renders or computes with it moves that clock with time-machine (`at`), so that it passes
on any day. `MONTH_STARTS` is one moment per month, half an hour into its first day in
Paris: the UTC date is still the previous day (the previous year for January), every
French month name is written once (« février », « août », « décembre »), and both sides of
each daylight-saving change of 2026 are there. `DST` holds the minutes around the changes
themselves.

The expected texts are written out by hand here, never computed with the code under test.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, NamedTuple
from zoneinfo import ZoneInfo

import pytest
import time_machine

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


class Moment(NamedTuple):
    utc: datetime
    fr: str  # as the summary page writes it
    en: str
    console: str  # as the staff console writes it (Paris time)
    month: str  # the Paris month it counts in


def _m(utc: str, fr: str, en: str, console: str, month: str) -> Moment:
    return Moment(datetime.fromisoformat(utc).replace(tzinfo=UTC), fr, en, console, month)


MONTH_STARTS = [
    _m(
        "2026-12-31T23:30",
        "1er janvier 2027 à 00:30",
        "January 1, 2027 at 00:30",
        "01/01/2027 00:30",
        "2027-01",
    ),
    _m(
        "2026-01-31T23:30",
        "1er février 2026 à 00:30",
        "February 1, 2026 at 00:30",
        "01/02/2026 00:30",
        "2026-02",
    ),
    _m(
        "2026-02-28T23:30",
        "1er mars 2026 à 00:30",
        "March 1, 2026 at 00:30",
        "01/03/2026 00:30",
        "2026-03",
    ),
    # Summer time from 29 March 2026: Paris is UTC+2 until 25 October.
    _m(
        "2026-03-31T22:30",
        "1er avril 2026 à 00:30",
        "April 1, 2026 at 00:30",
        "01/04/2026 00:30",
        "2026-04",
    ),
    _m(
        "2026-04-30T22:30",
        "1er mai 2026 à 00:30",
        "May 1, 2026 at 00:30",
        "01/05/2026 00:30",
        "2026-05",
    ),
    _m(
        "2026-05-31T22:30",
        "1er juin 2026 à 00:30",
        "June 1, 2026 at 00:30",
        "01/06/2026 00:30",
        "2026-06",
    ),
    _m(
        "2026-06-30T22:30",
        "1er juillet 2026 à 00:30",
        "July 1, 2026 at 00:30",
        "01/07/2026 00:30",
        "2026-07",
    ),
    _m(
        "2026-07-31T22:30",
        "1er août 2026 à 00:30",
        "August 1, 2026 at 00:30",
        "01/08/2026 00:30",
        "2026-08",
    ),
    _m(
        "2026-08-31T22:30",
        "1er septembre 2026 à 00:30",
        "September 1, 2026 at 00:30",
        "01/09/2026 00:30",
        "2026-09",
    ),
    _m(
        "2026-09-30T22:30",
        "1er octobre 2026 à 00:30",
        "October 1, 2026 at 00:30",
        "01/10/2026 00:30",
        "2026-10",
    ),
    # Back to UTC+1 on 25 October 2026.
    _m(
        "2026-10-31T23:30",
        "1er novembre 2026 à 00:30",
        "November 1, 2026 at 00:30",
        "01/11/2026 00:30",
        "2026-11",
    ),
    _m(
        "2026-11-30T23:30",
        "1er décembre 2026 à 00:30",
        "December 1, 2026 at 00:30",
        "01/12/2026 00:30",
        "2026-12",
    ),
]

DST = [
    # 29 March 2026: 02:00 Paris does not exist, the clock jumps to 03:00.
    _m(
        "2026-03-29T00:59",
        "29 mars 2026 à 01:59",
        "March 29, 2026 at 01:59",
        "29/03/2026 01:59",
        "2026-03",
    ),
    _m(
        "2026-03-29T01:00",
        "29 mars 2026 à 03:00",
        "March 29, 2026 at 03:00",
        "29/03/2026 03:00",
        "2026-03",
    ),
    # 25 October 2026: 02:00–03:00 Paris happens twice.
    _m(
        "2026-10-25T00:30",
        "25 octobre 2026 à 02:30",
        "October 25, 2026 at 02:30",
        "25/10/2026 02:30",
        "2026-10",
    ),
    _m(
        "2026-10-25T01:30",
        "25 octobre 2026 à 02:30",
        "October 25, 2026 at 02:30",
        "25/10/2026 02:30",
        "2026-10",
    ),
    _m(
        "2026-10-25T02:00",
        "25 octobre 2026 à 03:00",
        "October 25, 2026 at 03:00",
        "25/10/2026 03:00",
        "2026-10",
    ),
    # New Year's Eve in Paris, still 2026 in UTC.
    _m(
        "2026-12-31T22:59",
        "31 décembre 2026 à 23:59",
        "December 31, 2026 at 23:59",
        "31/12/2026 23:59",
        "2026-12",
    ),
    _m(
        "2026-12-31T23:00",
        "1er janvier 2027 à 00:00",
        "January 1, 2027 at 00:00",
        "01/01/2027 00:00",
        "2027-01",
    ),
]


def by_month(moments: list[Moment] = MONTH_STARTS):
    """`moments` as pytest parameters, named by their Paris month."""
    return pytest.mark.parametrize("moment", moments, ids=[m.month for m in moments])


def around(moments: list[Moment] = DST):
    return pytest.mark.parametrize(
        "moment", moments, ids=[m.utc.strftime("%Y-%m-%dT%H%M") for m in moments]
    )


@contextmanager
def at(moment: datetime | Moment, tick: bool = True) -> Iterator[time_machine.Coordinates]:
    """The process's clock set to `moment` (ticking on from there unless `tick=False`).
    The monotonic clock, which asyncio and timeouts use, is left alone."""
    when = moment.utc if isinstance(moment, Moment) else moment
    with time_machine.travel(when, tick=tick) as traveller:
        yield traveller
