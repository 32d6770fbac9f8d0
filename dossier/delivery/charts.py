"""Charts of reports as PNG data URIs (matplotlib, no display): activity by channel, and the tone trend.

Text uses matplotlib's bundled DejaVu Sans, which covers Cyrillic and Polish channel names.
"""

import base64
import io
from collections import Counter
from datetime import date, datetime, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the Agg backend is chosen before pyplot loads
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from storage.periods import month_start, next_month_start, week_start

CHANNEL_COLORS = {"email": "#2680c2", "chat": "#3ebd93", "call": "#f0b429", "note": "#9446ed", "deal_event": "#e12d39"}
CHANNEL_ORDER = list(CHANNEL_COLORS)


def bins(start: date, end: date, by_week: bool) -> list[date]:
    """The first day of each week (Mondays) or month from ``start`` up to ``end`` (exclusive)."""
    first = _bin_of(start, by_week)
    found = []
    while first < end:
        found.append(first)
        first = first + timedelta(days=7) if by_week else next_month_start(first)
    return found


def _bin_of(day: date, by_week: bool) -> date:
    return week_start(day) if by_week else month_start(day)


def activity_chart(
    events: list[tuple[datetime, str]], start: date, end: date, *, by_week: bool, channel_names: dict[str, str]
) -> str:
    """Stacked bars: interactions per week or month and channel, from ``start`` to ``end``."""
    slots = bins(start, end, by_week)
    counts = Counter((_bin_of(at.date(), by_week), channel) for at, channel in events)
    channels = sorted(
        {channel for _at, channel in events},
        key=lambda c: (CHANNEL_ORDER.index(c) if c in CHANNEL_ORDER else len(CHANNEL_ORDER), c),
    )
    figure, axes = _figure()
    bottom = [0] * len(slots)
    labels = [slot.strftime("%d.%m" if by_week else "%Y-%m") for slot in slots]
    for channel in channels:
        heights = [counts[(slot, channel)] for slot in slots]
        axes.bar(
            labels,
            heights,
            bottom=bottom,
            label=channel_names.get(channel, channel),
            color=CHANNEL_COLORS.get(channel, "#829ab1"),
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="x", labelrotation=45 if len(slots) > 8 else 0, labelsize=8)
    if channels:
        axes.legend(fontsize=8, frameon=False)
    return _png(figure)


def tone_chart(points: list[tuple[str, float]]) -> str:
    """A line of the client's mean tone per month (``"2026-03"``), -1..1, on a time axis, with the neutral line."""
    figure, axes = _figure()
    months = [datetime.strptime(month, "%Y-%m") for month, _value in points]
    axes.axhline(0, color="#bcccdc", linewidth=1)
    axes.plot(months, [value for _month, value in points], marker="o", color="#2680c2")
    axes.set_ylim(-1.05, 1.05)
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m"))
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    return _png(figure)


def _figure() -> tuple[Figure, plt.Axes]:
    figure, axes = plt.subplots(figsize=(7.5, 2.6), dpi=110)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
