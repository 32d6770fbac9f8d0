"""Meetings from calendars: an iCalendar (``.ics``) file or URL, or a CalDAV collection, read as occurrences.

A sync reads the events of a window (from now to a horizon ahead), expands recurring ones with
``recurring-ical-events`` (RRULE, RDATE, EXDATE and moved occurrences) and stores the source's occurrences
in place of those it had (``storage.meetings``). Times keep the zone their TZID names (``zoneinfo``) and
are stored in UTC; floating times (no zone) are read in ``default_timezone``. All-day and cancelled
events are no meetings and are left out. Attendees and the organiser are kept as lower-case e-mail
addresses: they tell which clients a meeting is with, and whom to brief.
"""

import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.error import URLError
from zoneinfo import ZoneInfo

from ingest.normalize import normalize_email
from storage import calendar_sources, meetings
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import Meeting, utcnow

if TYPE_CHECKING:  # the calendar extra: imported where it is used, so the rest of Dossier runs without it
    import icalendar
    from caldav.lib.error import DAVError

#: How far ahead a sync reads: the meetings it stores start before now + this.
HORIZON = timedelta(days=7)
TIMEOUT_SECONDS = 30.0
#: The largest calendar document read (a year of a busy calendar is a few MB).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAILTO = "mailto:"
CANCELLED = "CANCELLED"
MISSING_EXTRA = "calendar sources need the calendar extra: pip install 'dossier[calendar]'"
UTC_ZONE = ZoneInfo("UTC")


class CalendarKind(StrEnum):
    """Where a calendar is read from: an iCalendar document (file or URL), or a CalDAV collection."""

    ICS = "ics"
    CALDAV = "caldav"


class CalendarError(DossierError):
    """A calendar could not be read: unreachable, refused, not found, or not iCalendar."""


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """What a sync needs to read one calendar; the application reads the password from where its source says."""

    name: str
    kind: CalendarKind
    location: str  # an http(s) URL, or the path of an .ics file
    user: str | None = None
    password: str | None = None


class Occurrence(NamedTuple):
    """One occurrence of an event: a recurring event has one per repetition."""

    uid: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    timezone: str  # the zone its start is written in (IANA name)
    title: str
    organizer: str | None  # e-mail address, lower-case
    attendees: tuple[str, ...]  # e-mail addresses, lower-case, the organiser's left out


@dataclass(slots=True)
class CalendarSyncReport:
    """What one sync of a calendar did; ``error`` says why it failed (what was stored before stays)."""

    calendar: str
    events: int = 0  # distinct events (UIDs) in the window
    occurrences: int = 0
    window: tuple[datetime, datetime] | None = None
    error: str | None = None

    def summary(self) -> str:
        """The line the CLI prints for the calendar."""
        if self.error:
            return f"{self.calendar}: failed: {self.error}"
        days = f" in the next {(self.window[1] - self.window[0]).days} days" if self.window else ""
        return f"{self.calendar}: {self.occurrences} meetings{days} ({self.events} events)"


def sync_calendar(
    feed: CalendarFeed,
    *,
    source_id: int,
    database_url: str,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
    default_timezone: str = "UTC",
    timeout: float = TIMEOUT_SECONDS,
) -> CalendarSyncReport:
    """Read the calendar's meetings from ``now`` to ``now + horizon`` and store them in place of the source's.

    Never raises for a calendar that cannot be read: the report's ``error`` says why, and the meetings
    stored by the last good sync stay.
    """
    start = now or utcnow()
    end = start + horizon
    report = CalendarSyncReport(feed.name, window=(start, end))
    try:
        found = read_calendar(feed, start=start, end=end, default_timezone=default_timezone, timeout=timeout)
    except CalendarError as error:
        report.error = str(error)
    with session_scope(database_url) as session:
        if report.error is None:
            meetings.replace_meetings(session, source_id, [_meeting(source_id, occurrence) for occurrence in found])
            report.occurrences, report.events = len(found), len({occurrence.uid for occurrence in found})
        calendar_sources.record_sync(session, source_id, report.error)
    return report


def read_calendar(
    feed: CalendarFeed,
    *,
    start: datetime,
    end: datetime,
    default_timezone: str = "UTC",
    timeout: float = TIMEOUT_SECONDS,
) -> list[Occurrence]:
    """The occurrences of the calendar's meetings that overlap ``[start, end)``, by start."""
    documents: list[bytes | str]
    if feed.kind is CalendarKind.CALDAV:
        documents = [*fetch_caldav(feed, start=start, end=end, timeout=timeout)]
    else:
        documents = [fetch_ics(feed.location, timeout=timeout)]
    zone = ZoneInfo(default_timezone)
    found = {
        (occurrence.uid, occurrence.starts_at): occurrence
        for document in documents
        for occurrence in occurrences(document, start=start, end=end, default_timezone=zone)
    }
    return sorted(found.values(), key=lambda occurrence: (occurrence.starts_at, occurrence.uid))


def fetch_ics(location: str, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The iCalendar document at an http(s) URL or in a file."""
    if location.startswith(("http://", "https://")):
        request = urllib.request.Request(location, headers={"Accept": "text/calendar"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
        except (URLError, OSError) as error:
            raise CalendarError(f"cannot fetch {location}: {getattr(error, 'reason', error)}") from error
    else:
        try:
            data = Path(location).read_bytes()
        except OSError as error:
            raise CalendarError(f"cannot read {location}: {error.strerror or error}") from error
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CalendarError(f"{location} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB")
    return data


def fetch_caldav(feed: CalendarFeed, *, start: datetime, end: datetime, timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """The iCalendar data of the collection's events that overlap ``[start, end)`` (recurring ones unexpanded)."""
    try:
        from caldav.collection import Calendar
        from caldav.davclient import DAVClient
        from caldav.lib.error import DAVError
    except ImportError as error:
        raise CalendarError(MISSING_EXTRA) from error
    try:
        with DAVClient(url=feed.location, username=feed.user, password=feed.password, timeout=int(timeout)) as client:
            calendar = Calendar(client=client, url=feed.location)
            found: list[Any] = calendar.search(event=True, start=start, end=end, expand=False)
            return [str(item.data) for item in found]
    except DAVError as error:
        raise CalendarError(f"{feed.location}: {_dav_reason(error)}") from error
    except OSError as error:
        raise CalendarError(f"cannot connect to {feed.location}: {error}") from error


def occurrences(
    document: bytes | str, *, start: datetime, end: datetime, default_timezone: ZoneInfo = UTC_ZONE
) -> list[Occurrence]:
    """The meetings of an iCalendar document that overlap ``[start, end)``, recurring events expanded."""
    try:
        import icalendar
        import recurring_ical_events
    except ImportError as error:
        raise CalendarError(MISSING_EXTRA) from error
    try:
        calendar = icalendar.Calendar.from_ical(document)
        expanded = recurring_ical_events.of(calendar).between(start - timedelta(days=1), end + timedelta(days=1))
    except (ValueError, KeyError, recurring_ical_events.InvalidCalendar) as error:
        raise CalendarError(f"not a readable iCalendar document: {error}") from error
    found = []
    for event in expanded:
        occurrence = _occurrence(event, default_timezone)
        if occurrence is not None and occurrence.starts_at < end and occurrence.ends_at > start:
            found.append(occurrence)
    return found


def _occurrence(event: "icalendar.Event", zone: ZoneInfo) -> Occurrence | None:
    """The event as a meeting; None for an all-day or cancelled one, or one without a UID."""
    begins, ends = event.start, event.end
    uid = str(event.get("UID", "")).strip()
    if not uid or not isinstance(begins, datetime) or str(event.get("STATUS", "")).upper() == CANCELLED:
        return None
    begins = begins if begins.tzinfo else begins.replace(tzinfo=zone)
    ends = ends if isinstance(ends, datetime) else begins
    ends = ends if ends.tzinfo else ends.replace(tzinfo=zone)
    organizer = _address(event.get("ORGANIZER"))
    attendees = [_address(value) for value in _listed(event.get("ATTENDEE"))]
    return Occurrence(
        uid=uid,
        starts_at=begins.astimezone(UTC),
        ends_at=max(ends, begins).astimezone(UTC),
        timezone=getattr(begins.tzinfo, "key", None) or str(begins.tzinfo),
        title=str(event.get("SUMMARY", "")).strip(),
        organizer=organizer,
        attendees=tuple(dict.fromkeys(a for a in attendees if a and a != organizer)),
    )


def _listed(value: Any) -> Iterable[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _address(value: Any) -> str | None:
    """The e-mail address of a CAL-ADDRESS (``mailto:Name@Host``), lower-case; None when it is none."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower().startswith(MAILTO):
        text = text[len(MAILTO) :]
    address = normalize_email(text)
    return address if "@" in address else None


def _meeting(source_id: int, occurrence: Occurrence) -> Meeting:
    return Meeting(
        source_id=source_id,
        uid=occurrence.uid,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        timezone=occurrence.timezone,
        title=occurrence.title,
        organizer=occurrence.organizer,
        attendees=list(occurrence.attendees),
    )


def _dav_reason(error: "DAVError") -> str:
    reason = str(getattr(error, "reason", "") or error)
    if "401" in reason or "Unauthorized" in reason:
        return "login refused (check the user and password)"
    if "404" in reason or "Not Found" in reason:
        return "no calendar at this URL"
    return reason
