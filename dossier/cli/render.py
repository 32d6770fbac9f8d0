"""Terminal views shared by the CLI commands and the demo."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from storage.models import Interaction
from storage.repository import ClientOverview

CHANNEL_COLUMNS = ("email", "chat", "call", "note", "deal_event")


def clients_table(overviews: list[ClientOverview]) -> Table:
    """Clients with counts per channel, last contact and their first contacts."""
    table = Table("id", "client", "email", "chat", "call", "note", "deal", "last contact", "contacts")
    for o in overviews:
        counts = [str(o.counts.get(channel, 0)) for channel in CHANNEL_COLUMNS]
        last = o.last_contact.strftime("%Y-%m-%d") if o.last_contact else "-"
        table.add_row(str(o.id), o.name, *counts, last, ", ".join(o.contacts[:3]))
    return table


def print_history(console: Console, client_name: str, interactions: list[Interaction],
                  *, body_lines: int | None = None) -> None:
    """A client's interactions, one header line each and the (optionally shortened) new text."""
    console.print(f"[bold]{client_name}[/] — {len(interactions)} interactions")
    for i in interactions:
        head = f"{i.occurred_at:%Y-%m-%d %H:%M} {i.channel:<10} {i.direction:<8} {i.author or '?'}"
        subject = f"  [bold]{i.subject}[/]" if i.subject else ""
        console.print(f"[dim]{head}[/]{subject}", highlight=False)
        lines = i.body.strip().splitlines()[:body_lines] if body_lines else i.body.strip().splitlines()
        console.print("    " + "\n    ".join(lines), highlight=False, markup=False)


def progress_bar(console: Console | None = None, *, enabled: bool = True) -> Progress:
    """The progress bar every long command shows (on stderr unless a console is given)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console or Console(stderr=True), disable=not enabled)
