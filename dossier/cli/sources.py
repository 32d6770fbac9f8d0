"""`dossier sources`: mailboxes synced over IMAP and calendars read for meetings (add, list, sync)."""

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from dossier.calendar_sync import sync_calendar_sources
from dossier.cli.calendar_sources import add_caldav, add_ics, calendar_listing, calendar_rows, sync_targets
from dossier.cli.common import PasswordEnvOption, PasswordFileOption, note_unset_password, require_schema
from dossier.cli.render import progress_bar
from dossier.imap_sync import NewImapSource, add_imap_source, sync_sources
from dossier.settings import get_settings
from ingest.calendars import CalendarSyncReport
from ingest.imap import Security, SyncProgress, SyncReport
from storage import imap_sources
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import ImapSource

sources_app = typer.Typer(
    help="Live sources: IMAP mailboxes synced incrementally, calendars (.ics, CalDAV) for pre-meeting briefs.",
    no_args_is_help=True,
)
add_app = typer.Typer(help="Add a source.", no_args_is_help=True)
sources_app.add_typer(add_app, name="add")
console = Console()
add_app.command("ics")(add_ics)
add_app.command("caldav")(add_caldav)


@add_app.command("imap")
def add_imap(
    name: Annotated[str, typer.Argument(help="A name for the mailbox, e.g. sales.")],
    host: Annotated[str, typer.Option(help="The IMAP server.")],
    user: Annotated[str, typer.Option(help="The login.")],
    port: Annotated[int | None, typer.Option(help="Default: 993 with --tls, else 143.")] = None,
    password_env: PasswordEnvOption = None,
    password_file: PasswordFileOption = None,
    folders: Annotated[
        str | None, typer.Option(help="Comma-separated folders, e.g. INBOX,Sent (default: INBOX and the Sent folders).")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Our e-mail address in this mailbox (default: --user when it is one).")
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help="TLS from the start (the default).")] = False,
    starttls: Annotated[bool, typer.Option("--starttls", help="STARTTLS on the plain port.")] = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="No encryption: the password crosses the network in clear.")
    ] = False,
) -> None:
    """Add an IMAP mailbox; its password is never stored, only where to read it."""
    require_schema()
    source = add_imap_source(
        NewImapSource(
            name=name,
            host=host,
            user=user,
            security=_security(tls, starttls, plain),
            port=port,
            folders=tuple(folder.strip() for folder in (folders or "").split(",") if folder.strip()),
            address=address,
            password_env=password_env,
            password_file=password_file,
        )
    )
    console.print(f"added {source.name}: {_where(source)}, {_folders_text(source)}", highlight=False)
    note_unset_password(console, password_env)


@sources_app.command("list")
def list_sources(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The sources with their folders, how far each is synced and the last sync's outcome."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        rows = [(source, imap_sources.folders(session, source.id)) for source in imap_sources.sources(session)]
        calendars, calendar_json = calendar_rows(session), calendar_listing(session)
    if as_json:
        listing = [
            {
                "name": source.name,
                "kind": "imap",
                "host": source.host,
                "port": source.port,
                "user": source.username,
                "security": source.security,
                "address": source.address,
                "folders": source.folders,
                "password_env": source.password_env,
                "password_file": source.password_file,
                "last_synced_at": source.last_synced_at,
                "last_error": source.last_error,
                "synced_folders": [
                    {"name": f.name, "uidvalidity": f.uidvalidity, "last_uid": f.last_uid} for f in folder_states
                ],
            }
            for source, folder_states in rows
        ] + calendar_json
        sys.stdout.write(json.dumps(listing, default=str, indent=2) + "\n")
        return
    if not rows and not calendars:
        console.print("no sources yet: `dossier sources add imap NAME --host H --user U --password-env VAR`")
        return
    table = Table("name", "server", "password from", "folders", "last sync")
    for source, folder_states in rows:
        synced = ", ".join(f"{f.name} to UID {f.last_uid}" for f in folder_states) or _folders_text(source)
        table.add_row(
            escape(source.name), escape(_where(source)), escape(_password_from(source)), escape(synced), _last(source)
        )
    for calendar, password_from, held in calendars:
        where = f"{calendar.kind}: {calendar.location}"
        table.add_row(escape(calendar.name), escape(where), escape(password_from), escape(held), _last(calendar))
    console.print(table)


@sources_app.command("sync")
def sync(name: Annotated[str | None, typer.Argument(help="One source (default: every one).")] = None) -> None:
    """Fetch the new mail of each mailbox (only messages not fetched before) and the coming meetings of each
    calendar; exit 1 if any source failed."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        mailboxes, calendars = sync_targets(session, name)
    bar = progress_bar()
    tasks: dict[tuple[str, str], TaskID] = {}

    def show(event: SyncProgress) -> None:
        key = (event.mailbox, event.folder)
        if not tasks:
            bar.start()
        if key not in tasks:
            tasks[key] = bar.add_task(f"{event.mailbox}/{event.folder}"[:40], total=event.total)
        bar.update(tasks[key], completed=event.done, total=event.total)

    try:
        reports: list[SyncReport | CalendarSyncReport] = (
            [*sync_sources(mailboxes, on_progress=show)] if mailboxes != [] else []
        )
    finally:
        bar.stop()
    reports += sync_calendar_sources(calendars)
    if not reports:
        console.print("no sources yet: `dossier sources add imap NAME --host H --user U --password-env VAR`")
    for report in reports:
        style = "red" if report.error else "default"
        console.print(f"[{style}]{escape(report.summary())}[/]", highlight=False)
    if any(report.error for report in reports):
        raise typer.Exit(code=1)


def _security(tls: bool, starttls: bool, plain: bool) -> Security:
    chosen = [security for security, flag in zip(Security, (tls, starttls, plain), strict=True) if flag]
    if len(chosen) > 1:
        raise DossierError("choose one of --tls, --starttls and --plain")
    return chosen[0] if chosen else Security.TLS


def _where(source: ImapSource) -> str:
    return f"{source.username}@{source.host}:{source.port} ({source.security})"


def _folders_text(source: ImapSource) -> str:
    return ", ".join(source.folders) if source.folders else "INBOX and the Sent folders"


def _password_from(source: ImapSource) -> str:
    return f"${source.password_env}" if source.password_env else f"file {source.password_file}"


def _last(source: ImapSource) -> str:
    if source.last_synced_at is None:
        return "never"
    outcome = f"failed: {source.last_error}" if source.last_error else "ok"
    return escape(f"{source.last_synced_at:%Y-%m-%d %H:%M} UTC, {outcome}")
