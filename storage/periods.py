"""Calendar periods, defined once: the day / week (Monday first) / month / year buckets of the summary tree and
its charts, ISO weeks as digests name them ("2026-W05"), quarters as reviews name them ("2026Q1") and months
as tone trends key them ("2026-03"). Every function takes a ``date`` or a ``datetime`` and keeps its type."""

import re
from datetime import date, timedelta
from typing import TypeVar

from storage.errors import DossierError

Day = TypeVar("Day", bound=date)  # a date or a datetime

ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")
QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def week_start(day: Day) -> Day:
    """The Monday of ``day``'s week (same time of day for a datetime)."""
    return day - timedelta(days=day.weekday())


def month_start(day: Day) -> Day:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month_start(day: Day) -> Day:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def year_start(day: Day) -> Day:
    """The first day of ``day``'s year."""
    return day.replace(month=1, day=1)


def month_key(day: date) -> str:
    """``day``'s month as tone trends key it: ``"2026-03"``."""
    return f"{day:%Y-%m}"


def iso_week(day: date) -> str:
    """``day``'s ISO week: ``"2026-W05"`` (the ISO year, which near New Year may differ from ``day.year``)."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week_monday(key: str) -> date:
    """The Monday of an ISO week key (``"2026-W05"``); DossierError when malformed."""
    match = ISO_WEEK.fullmatch(key.strip())
    try:
        if match:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        pass
    raise DossierError(f"bad ISO week {key!r}: expected e.g. 2026-W47")


def quarter(day: date) -> str:
    """``day``'s quarter: ``"2026Q1"``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> tuple[str, date, date]:
    """``"2025Q4"`` (or ``"2025-q4"``) -> (``"2025Q4"``, its first day, the first day after); DossierError when
    malformed."""
    match = QUARTER.fullmatch(text.strip())
    if not match:
        raise DossierError(f"bad quarter {text!r}: expected YEARQn, e.g. 2025Q4")
    year, number = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * number - 2, 1)
    return f"{year}Q{number}", start, next_month_start(start.replace(month=start.month + 2))


def previous_quarter(day: date) -> str:
    """The last quarter that ended before ``day``."""
    return quarter(parse_quarter(quarter(day))[1] - timedelta(days=1))
