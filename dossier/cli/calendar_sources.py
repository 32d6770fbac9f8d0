"""`dossier sources add ics|caldav`, and the calendar sources' part of `dossier sources list` and `sync`."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from dossier.calendar_sync import NewCalendarSource, add_calendar_source
from dossier.cli.common import PasswordEnvOption, PasswordFileOption, note_unset_password, require_schema
from ingest.calendars import CalendarKind
from storage import calendar_sources, meetings
from storage.errors import DossierError
from storage.models import CalendarSource

console = Console()


def add_ics(
    name: Annotated[str, typer.Argument(help="A name for the calendar, e.g. team.")],
    url: Annotated[str | None, typer.Option(help="The calendar's http(s) address (an .ics feed).")] = None,
    file: Annotated[Path | None, typer.Option(help="Or an .ics file (read again at each sync).")] = None,
) -> None:
    """Add an iCalendar (.ics) calendar, by URL or file: its meetings get pre-meeting briefs."""
    require_schema()
    source = add_calendar_source(NewCalendarSource(name=name, kind=CalendarKind.ICS, url=url, file=file))
    console.print(f"added {source.name}: {source.location}", highlight=False)


def add_caldav(
    name: Annotated[str, typer.Argument(help="A name for the calendar, e.g. sales.")],
    url: Annotated[str, typer.Option(help="The CalDAV collection's URL.")],
    user: Annotated[str, typer.Option(help="The login.")],
    password_env: PasswordEnvOption = None,
    password_file: PasswordFileOption = None,
) -> None:
    """Add a CalDAV calendar collection; its password is never stored, only where to read it."""
    require_schema()
    source = add_calendar_source(
        NewCalendarSource(
            name=name,
            kind=CalendarKind.CALDAV,
            url=url,
            user=user,
            password_env=password_env,
            password_file=password_file,
        )
    )
    console.print(f"added {source.name}: {source.username} at {source.location}", highlight=False)
    note_unset_password(console, password_env)


def sync_targets(session: Session, name: str | None) -> tuple[list[str] | None, list[str]]:
    """What `dossier sources sync [NAME]` syncs: (IMAP source names, None for every one; calendar source names)."""
    if name is None:
        return None, calendar_sources.source_names(session)
    return ([], [name]) if calendar_sources.find_source(session, name) else ([name], [])


def calendar_listing(session: Session) -> list[dict[str, Any]]:
    """The calendar sources as `dossier sources list --json` shows them."""
    counts = meetings.source_meeting_counts(session)
    return [
        {
            "name": source.name,
            "kind": source.kind,
            "location": source.location,
            "user": source.username,
            "password_env": source.password_env,
            "password_file": source.password_file,
            "last_synced_at": source.last_synced_at,
            "last_error": source.last_error,
            "meetings": counts.get(source.id, 0),
        }
        for source in calendar_sources.sources(session)
    ]


def calendar_rows(session: Session) -> list[tuple[CalendarSource, str, str]]:
    """Each calendar source with where its password is read from and what its last sync holds, for the table."""
    counts = meetings.source_meeting_counts(session)
    return [
        (source, _password_from(source), f"{counts.get(source.id, 0)} meetings ahead")
        for source in calendar_sources.sources(session)
    ]


def _password_from(source: CalendarSource) -> str:
    if source.password_env:
        return f"${source.password_env}"
    return f"file {source.password_file}" if source.password_file else "-"


meetings_app = typer.Typer(help="Pre-meeting briefs (what the dossier_meeting_briefs DAG runs).", no_args_is_help=True)


@meetings_app.command("send")
def send_briefs(
    sync: Annotated[bool, typer.Option("--sync/--no-sync", help="Sync every calendar first.")] = True,
) -> None:
    """Mail the brief of each meeting starting within DOSSIER_MEETING_LEAD_MINUTES to its organiser, once per
    occurrence (run it every few minutes from cron when Airflow is not used); exit 1 when a calendar failed."""
    from dossier import jobs

    require_schema()
    failed = []
    if sync:
        for name in jobs.calendar_names():
            try:
                console.print(f"{name}: {jobs.sync_calendar(name)} meetings", highlight=False)
            except DossierError as error:
                failed.append(name)
                console.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
    console.print(jobs.send_meeting_briefs().summary(), highlight=False)
    if failed:
        raise typer.Exit(code=1)
