"""Terminal views shared by the CLI commands and the demo."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from storage.models import Interaction
from storage.repository import ClientOverview

if TYPE_CHECKING:  # the importer and the transcription job load slowly: a command imports them when it runs
    from dossier.transcribe_job import TranscribeProgress
    from ingest.pipeline import ImportProgress

#: Moves a bar: (steps done, steps in all, what it says).
BarMover = Callable[[int, int, str], None]

CHANNEL_COLUMNS = ("email", "chat", "call", "note", "deal_event")


def clients_table(overviews: list[ClientOverview]) -> Table:
    """Clients with counts per channel, last contact and their first contacts."""
    table = Table("id", "client", "email", "chat", "call", "note", "deal", "last contact", "contacts")
    for o in overviews:
        counts = [str(o.counts.get(channel, 0)) for channel in CHANNEL_COLUMNS]
        last = o.last_contact.strftime("%Y-%m-%d") if o.last_contact else "-"
        table.add_row(str(o.id), o.name, *counts, last, ", ".join(o.contacts[:3]))
    return table


def print_history(
    console: Console, client_name: str, interactions: list[Interaction], *, body_lines: int | None = None
) -> None:
    """A client's interactions, one header line each and the (optionally shortened) new text."""
    console.print(f"[bold]{client_name}[/] — {len(interactions)} interactions")
    for i in interactions:
        head = f"{i.occurred_at:%Y-%m-%d %H:%M} {i.channel:<10} {i.direction:<8} {i.author or '?'}"
        subject = f"  [bold]{i.subject}[/]" if i.subject else ""
        console.print(f"[dim]{head}[/]{subject}", highlight=False)
        lines = i.body.strip().splitlines()[:body_lines] if body_lines else i.body.strip().splitlines()
        console.print("    " + "\n    ".join(lines), highlight=False, markup=False)


def progress_bar(console: Console | None = None) -> Progress:
    """The progress bar every long command shows (on stderr unless a console is given)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    )


@contextmanager
def import_progress(console: Console | None = None) -> Iterator[Callable[["ImportProgress"], None]]:
    """A bar over an import's sources, ending on the totals; yields the importer's ``on_progress``."""
    with _bar_on_first_step("importing", console) as move:
        yield lambda event: move(event.done, event.total, _import_text(event))


@contextmanager
def transcribe_progress(console: Console | None = None) -> Iterator[Callable[["TranscribeProgress"], None]]:
    """A bar over a transcription run's recordings; yields the job's ``on_progress``."""
    with _bar_on_first_step("transcribing", console) as move:
        yield lambda event: move(
            event.done,
            event.total,
            f"{event.recording[:30]:30} {event.transcribed} done, {event.quarantined} quarantined",
        )


def _import_text(event: "ImportProgress") -> str:
    label = "total" if event.source is None else event.source
    return f"{label[:30]:30} {event.imported} new, {event.duplicates} dup, {event.quarantined} quar."


@contextmanager
def _bar_on_first_step(title: str, console: Console | None) -> Iterator[BarMover]:
    """A progress bar shown from its first step on (a run with nothing to do shows none)."""
    bar = progress_bar(console)
    task: TaskID | None = None

    def move(done: int, total: int, description: str) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(title, total=total)
        bar.update(task, completed=done, total=total, description=description)

    try:
        yield move
    finally:
        if task is not None:
            bar.stop()
