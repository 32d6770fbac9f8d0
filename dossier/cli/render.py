"""Terminal views shared by the CLI commands and the demo."""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from storage.models import PUBLIC_SCOPE, Interaction
from storage.repository import ClientOverview
from summarizer.plurals import counted

if TYPE_CHECKING:  # the importer and the transcription job load slowly: a command imports them when it runs
    from dossier.transcribe_job import TranscribeProgress
    from ingest.pipeline import ImportProgress

#: Moves a bar: (steps done, steps in all, what it says).
BarMover = Callable[[int, int, str], None]

INTERACTIONS = {"one": "{count} interaction", "other": "{count} interactions"}
CHANNEL_COLUMNS = ("email", "chat", "call", "note", "deal_event")


CONTACT_PREFERENCE = ("email", "phone", "telegram", "whatsapp")  # which contact a narrow table shows first


def clients_table(overviews: list[ClientOverview], *, wide: bool = False) -> Table:
    """Clients with their interaction count, last contact and most useful contact (and how many more); ``wide``
    adds the counts per channel and lists every contact."""
    channels = CHANNEL_COLUMNS if wide else ()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("id")
    table.add_column("client", min_width=12, max_width=16)
    for channel in channels:
        table.add_column(channel.removesuffix("_event"))
    table.add_column("items", justify="right")
    table.add_column("last")
    table.add_column("contacts", overflow="fold", min_width=20)
    for o in overviews:
        counts = [str(o.counts.get(channel, 0)) for channel in channels]
        last = o.last_contact.strftime("%Y-%m-%d") if o.last_contact else "-"
        contacts = "\n".join(o.contacts) if wide else best_contact(o.contacts)
        items = f"{o.total}\n{o.restricted} hidden" if o.restricted else str(o.total)
        table.add_row(str(o.id), o.name, *counts, items, last, contacts)
    if any(o.restricted for o in overviews):
        table.caption = "hidden: in a restricted scope or privileged, not in briefs for all readers"
        table.caption_justify = "left"
    return table


def best_contact(contacts: list[str]) -> str:
    """The contact a rep would use (a person's e-mail, then a phone, a messenger, a domain) and ``+N more``."""
    if not contacts:
        return "-"

    def rank(contact: str) -> int:
        kind = contact.partition(":")[0]
        return CONTACT_PREFERENCE.index(kind) if kind in CONTACT_PREFERENCE else len(CONTACT_PREFERENCE)

    best = min(contacts, key=rank)
    value = best.partition(":")[2] or best
    return f"{value}\n+{len(contacts) - 1} more" if len(contacts) > 1 else value


def interaction_count(interactions: list[Interaction]) -> str:
    """``30 interactions, 1 not visible to all readers (scope management)``: how many there are, and how many of
    them a brief for every reader leaves out (another scope, or privileged) and why."""
    text = counted("en", len(interactions), INTERACTIONS)
    reasons = Counter(
        "privileged" if i.privileged else f"scope {i.scope}"
        for i in interactions
        if i.privileged or i.scope != PUBLIC_SCOPE
    )
    if not reasons:
        return text
    why = ", ".join(reason if len(reasons) == 1 else f"{reason}: {n}" for reason, n in sorted(reasons.items()))
    return f"{text}, {sum(reasons.values())} not visible to all readers ({why})"


def print_history(
    console: Console, client_name: str, interactions: list[Interaction], *, body_lines: int | None = None
) -> None:
    """A client's interactions, one header line each and the (optionally shortened) new text."""
    console.print(f"[bold]{escape(client_name)}[/] — {interaction_count(interactions)}", highlight=False)
    for i in interactions:
        print_interaction_head(console, i)
        lines = i.body.strip().splitlines()[:body_lines] if body_lines else i.body.strip().splitlines()
        console.print("    " + "\n    ".join(lines), highlight=False, markup=False)


def print_interaction_head(console: Console, i: Interaction) -> None:
    """``[#42] 2026-05-04 10:12 email inbound Author  Subject``: the id is what citations name."""
    head = f"[#{i.id}] {i.occurred_at:%Y-%m-%d %H:%M} {i.channel:<10} {i.direction:<8} {i.author or '?'}"
    console.print(head, style="dim", highlight=False, markup=False, end="")
    console.print(f"  [bold]{escape(i.subject)}[/]" if i.subject else "", highlight=False)


def print_source(console: Console, i: Interaction, segment_starts: list[float], at: float | None) -> None:
    """One interaction in full; for a call, the line at second ``at`` marked with ``>``."""
    print_interaction_head(console, i)
    # citations print whole seconds: the line an ``@mm:ss`` names is the last one starting in that second or before
    current = max((n for n, start in enumerate(segment_starts) if at is not None and int(start) <= at), default=None)
    for number, line in enumerate(i.body.strip().splitlines()):
        console.print(f"  {'>' if number == current else ' '} {line}", highlight=False, markup=False)


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
