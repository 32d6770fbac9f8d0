"""Generated reports (quarterly reviews, handover reports): what was written where, once per report.

A report is identified by its :class:`ReportKey`: the same key is the same report whoever asks for it (the
``dossier report`` commands or a batch job), so :func:`save_report`, the one writer of ``Report`` rows, keeps
one row per key. Also who gets a quarterly review (:func:`key_accounts`).
"""

from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Client, Deal, Interaction, RenderedSummary, Report
from storage.vocabulary import WON_STAGE_SPELLINGS


class ReportKey(NamedTuple):
    """What makes two report requests the same report: one ``Report`` row per key."""

    client_id: int
    kind: str  # quarterly, handover
    period: str  # a quarterly review's quarter (2025Q4), a handover report's day (2026-11-21)
    reader: str | None  # login of the user it is prepared for; None: nobody in particular
    language: str


def find_report(session: Session, key: ReportKey) -> Report | None:
    """The report recorded for ``key``, or None."""
    rows = session.scalars(
        select(Report)
        .where(Report.client_id == key.client_id, Report.kind == key.kind, Report.period == key.period)
        .order_by(Report.id)
    )
    return next((row for row in rows if _reader_and_language(row.params) == (key.reader, key.language)), None)


def _reader_and_language(params: dict[str, Any]) -> tuple[str | None, str | None]:
    return params.get("to"), params.get("language")


def history_mark(session: Session, client_id: int) -> str:
    """When what a report reads of the client last changed (history imported, deals, summaries rendered):
    a recorded report whose mark differs is out of date."""
    moments = [
        session.scalar(select(func.max(Interaction.imported_at)).where(Interaction.client_id == client_id)),
        session.scalar(select(func.max(Deal.updated_at)).where(Deal.client_id == client_id)),
        session.scalar(select(func.max(RenderedSummary.generated_at)).where(RenderedSummary.client_id == client_id)),
    ]
    return "|".join(moment.isoformat() if moment else "" for moment in moments)


def is_current(session: Session, report: Report) -> bool:
    """Whether nothing the report reads has changed since it was written."""
    return report.params.get("history") == history_mark(session, report.client_id)


def save_report(session: Session, key: ReportKey, *, as_of: date, html_path: Path, pdf_path: Path | None) -> Report:
    """Record the files just written for ``key`` (the PDF may be left out): the row of ``key`` is updated,
    or added when there is none."""
    row = find_report(session, key) or Report(client_id=key.client_id, kind=key.kind, period=key.period)
    row.params = {
        "to": key.reader,
        "language": key.language,
        "as_of": as_of.isoformat(),
        "history": history_mark(session, key.client_id),
    }
    row.html_path = str(html_path.resolve())
    row.pdf_path = str(pdf_path.resolve()) if pdf_path is not None else None
    session.add(row)
    session.flush()
    return row


def key_accounts(session: Session, *, limit: int) -> list[int]:
    """Up to ``limit`` active clients with history: the most won deal value first, then the most history."""
    won = (
        select(Deal.client_id, func.sum(Deal.amount).label("value"))
        .where(func.lower(Deal.stage).in_(sorted(WON_STAGE_SPELLINGS)))
        .group_by(Deal.client_id)
        .subquery()
    )
    history = select(Interaction.client_id, func.count().label("n")).group_by(Interaction.client_id).subquery()
    return list(
        session.scalars(
            select(Client.id)
            .join(history, history.c.client_id == Client.id)
            .outerjoin(won, won.c.client_id == Client.id)
            .where(Client.is_active.is_(True))
            .order_by(func.coalesce(won.c.value, 0).desc(), history.c.n.desc(), Client.id)
            .limit(limit)
        )
    )
