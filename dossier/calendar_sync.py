"""Calendar sources of the application: adding one (its password stays where it is), syncing its meetings.

An iCalendar source is a file or an http(s) URL; a CalDAV source is a collection's URL with a login, whose
password the database never holds: each sync reads it from the environment variable or file named.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dossier.imap_sync import read_password
from dossier.settings import get_settings
from ingest.calendars import HORIZON, CalendarFeed, CalendarKind, CalendarSyncReport, sync_calendar
from storage import calendar_sources
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import CalendarSource


@dataclass(frozen=True, slots=True)
class NewCalendarSource:
    """What `dossier sources add ics` and `dossier sources add caldav` ask for."""

    name: str
    kind: CalendarKind
    url: str | None = None
    file: Path | None = None  # ics only
    user: str | None = None  # caldav only
    password_env: str | None = None
    password_file: Path | None = None


def add_calendar_source(new: NewCalendarSource, database_url: str | None = None) -> CalendarSource:
    """Store a new calendar source after checking it; return it."""
    if not new.name.strip():
        raise DossierError("a source needs a name")
    if (new.url is None) == (new.file is None):
        raise DossierError("say where the calendar is: --url URL or --file PATH (one of them)")
    if new.url is not None and not new.url.startswith(("http://", "https://")):
        raise DossierError(f"--url {new.url!r} is no http(s) URL")
    if new.kind is CalendarKind.CALDAV:
        if new.url is None or not new.user:
            raise DossierError("a CalDAV calendar needs --url (the collection) and --user")
        if (new.password_env is None) == (new.password_file is None):
            raise DossierError(
                "say where the password is: --password-env VARIABLE or --password-file PATH (one of them)"
            )
    location = new.url or str(Path(new.file or "").expanduser().resolve())
    source = CalendarSource(
        name=new.name.strip(),
        kind=new.kind.value,
        location=location,
        username=new.user,
        password_env=new.password_env,
        password_file=str(new.password_file.expanduser().resolve()) if new.password_file else None,
    )
    with session_scope(database_url or get_settings().database_url) as session:
        return calendar_sources.add_source(session, source)


def feed_of(source: CalendarSource) -> CalendarFeed:
    """What the sync needs to read the source, its password (if it has one) read now."""
    has_password = bool(source.password_env or source.password_file)
    return CalendarFeed(
        name=source.name,
        kind=CalendarKind(source.kind),
        location=source.location,
        user=source.username,
        password=read_password(source) if has_password else None,
    )


def sync_calendar_source(
    name: str, *, now: datetime | None = None, horizon: timedelta = HORIZON, database_url: str | None = None
) -> CalendarSyncReport:
    """Sync one calendar source by name; a failure (also a missing password) is in the report's ``error``."""
    settings = get_settings()
    url = database_url or settings.database_url
    with session_scope(url) as session:
        source = calendar_sources.find_source(session, name)
        if source is None:
            raise DossierError(f"no calendar source named {name!r}")
        try:
            feed = feed_of(source)
        except DossierError as error:
            calendar_sources.record_sync(session, source.id, str(error))
            return CalendarSyncReport(source.name, error=str(error))
    return sync_calendar(
        feed, source_id=source.id, database_url=url, now=now, horizon=horizon, default_timezone=settings.source_timezone
    )


def sync_calendar_sources(
    names: list[str] | None = None, *, now: datetime | None = None, database_url: str | None = None
) -> list[CalendarSyncReport]:
    """Sync these calendar sources (default: every one), each on its own: one failing never stops the others."""
    if names is None:
        with session_scope(database_url or get_settings().database_url) as session:
            names = calendar_sources.source_names(session)
    return [sync_calendar_source(name, now=now, database_url=database_url) for name in names]
