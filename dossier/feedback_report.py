"""What readers said back, for improving the prompts and engines: feedback and corrections per ISO week, the claim
kinds corrected most, and the engines whose summaries were corrected."""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CorrectionMark, Feedback
from storage.periods import iso_week

#: The kind a correction of the summary as a whole (no claim named) is counted under.
WHOLE_SUMMARY = "whole summary"


class WeekCounts(NamedTuple):
    """One ISO week: summaries found useful, summaries missing something, corrections made."""

    week: str
    useful: int
    missing: int
    corrections: int


class FeedbackReport(NamedTuple):
    """Weeks oldest first; corrected claim kinds and corrected engines, most corrected first."""

    weeks: list[WeekCounts]
    kinds: list[tuple[str, int]]
    engines: list[tuple[str, int]]


def feedback_report(session: Session, *, since: datetime | None = None) -> FeedbackReport:
    """Feedback and corrections stored since ``since`` (all of them when None), counted."""
    feedback = select(Feedback.at, Feedback.verdict)
    marks = select(CorrectionMark.created_at, CorrectionMark.claim_kind, CorrectionMark.engine)
    if since is not None:
        feedback = feedback.where(Feedback.at >= since)
        marks = marks.where(CorrectionMark.created_at >= since)
    verdicts: Counter[tuple[str, str]] = Counter(
        (iso_week(at.date()), verdict) for at, verdict in session.execute(feedback)
    )
    corrections = session.execute(marks).all()
    per_week = Counter(iso_week(at.date()) for at, _kind, _engine in corrections)
    weeks = sorted({week for week, _verdict in verdicts} | set(per_week))
    return FeedbackReport(
        weeks=[
            WeekCounts(week, verdicts[(week, "useful")], verdicts[(week, "missing")], per_week[week]) for week in weeks
        ],
        kinds=_ranked(kind or WHOLE_SUMMARY for _at, kind, _engine in corrections),
        engines=_ranked(engine or "unknown" for _at, _kind, engine in corrections),
    )


def _ranked(values: Iterable[str]) -> list[tuple[str, int]]:
    """Counts of ``values``, the most frequent first, then by name."""
    return sorted(Counter(values).items(), key=lambda pair: (-pair[1], pair[0]))
