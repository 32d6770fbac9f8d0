"""Calendar periods are defined once (``storage.periods``): the tree's buckets, the charts' bins, the digest's ISO
week and the review's quarter agree on every day."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.delivery import charts
from dossier.delivery.digest import Period
from dossier.delivery.reports import parse_quarter, previous_quarter
from storage.errors import DossierError
from storage.periods import iso_week, iso_week_monday, month_key, month_start, next_month_start, quarter, week_start
from summarizer.tree import bucket_end, bucket_start

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(days)
def test_the_tree_charts_and_digest_share_one_week(day: date) -> None:
    moment = datetime.combine(day, time(13, 30), tzinfo=UTC)
    monday = week_start(day)
    assert monday.weekday() == 0 and 0 <= (day - monday).days < 7
    assert bucket_start("week", moment).date() == monday
    assert bucket_end("week", bucket_start("week", moment)).date() == monday + timedelta(days=7)
    assert charts.bins(day, day + timedelta(days=1), by_week=True) == [monday]
    assert Period.containing(day).end == monday == iso_week_monday(iso_week(day))


@given(days)
def test_the_tree_charts_and_tone_share_one_month(day: date) -> None:
    moment = datetime.combine(day, time(23, 59), tzinfo=UTC)
    first, after = month_start(day), next_month_start(day)
    assert first.day == 1 and after.day == 1 and first <= day < after and (after - first).days in (28, 29, 30, 31)
    assert bucket_start("month", moment).date() == first
    assert bucket_end("month", bucket_start("month", moment)).date() == after
    assert charts.bins(day, after, by_week=False) == [first]
    assert month_key(day) == f"{first.year}-{first.month:02d}"


@given(days)
def test_a_day_lies_in_its_quarter_and_after_the_previous_one(day: date) -> None:
    label, start, end = parse_quarter(quarter(day))
    assert label == quarter(day) and start <= day < end
    assert start.day == 1 and start.month in (1, 4, 7, 10)
    assert parse_quarter(previous_quarter(day))[2] == start


@given(days)
def test_iso_week_keys_round_trip(day: date) -> None:
    key = iso_week(day)
    assert Period.of(key).key == key
    assert iso_week(iso_week_monday(key) + timedelta(days=6)) == key


@pytest.mark.parametrize(
    ("day", "week", "quarter_key"),
    [
        (date(2026, 1, 1), "2026-W01", "2026Q1"),
        (date(2027, 1, 1), "2026-W53", "2027Q1"),  # the ISO year is not the calendar year
        (date(2025, 12, 29), "2026-W01", "2025Q4"),
        (date(2026, 11, 23), "2026-W48", "2026Q4"),
    ],
)
def test_named_periods(day: date, week: str, quarter_key: str) -> None:
    assert (iso_week(day), quarter(day)) == (week, quarter_key)


@pytest.mark.parametrize("key", ["2026-W54", "2025-W53", "2026-W00", "2026W05", "week 5"])
def test_a_week_that_does_not_exist_is_a_clear_error(key: str) -> None:
    with pytest.raises(DossierError, match="bad ISO week"):
        Period.of(key)


@pytest.mark.parametrize("key", ["2026Q5", "2026Q0", "Q1", "2026-Q1x"])
def test_a_bad_quarter_is_a_clear_error(key: str) -> None:
    with pytest.raises(DossierError, match="bad quarter"):
        parse_quarter(key)
