"""Calendar sources: the iCalendar files and URLs and the CalDAV collections that meetings are read from."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import imap_sources
from storage.errors import DossierError
from storage.models import CalendarSource, utcnow


def add_source(session: Session, source: CalendarSource) -> CalendarSource:
    """Store a new calendar source; a clear error when its name is taken (by any kind of source)."""
    if find_source(session, source.name) is not None or imap_sources.find_source(session, source.name) is not None:
        raise DossierError(f"a source named {source.name!r} exists already (see `dossier sources list`)")
    session.add(source)
    session.flush()
    return source


def find_source(session: Session, name: str) -> CalendarSource | None:
    """The calendar source of this name, if any."""
    return session.scalars(select(CalendarSource).where(CalendarSource.name == name)).one_or_none()


def source_names(session: Session) -> list[str]:
    """Names of every calendar source, sorted."""
    return list(session.scalars(select(CalendarSource.name).order_by(CalendarSource.name)))


def sources(session: Session) -> list[CalendarSource]:
    """Every calendar source, by name."""
    return list(session.scalars(select(CalendarSource).order_by(CalendarSource.name)))


def record_sync(session: Session, source_id: int, error: str | None) -> None:
    """Record a finished sync of a source: when, and its error (None when it succeeded)."""
    source = session.get_one(CalendarSource, source_id)
    source.last_synced_at, source.last_error = utcnow(), error
