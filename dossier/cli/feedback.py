"""`dossier feedback report`: what readers said back, per ISO week, and what they corrected most."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dossier.cli.common import require_schema
from dossier.feedback_report import feedback_report
from dossier.settings import get_settings
from storage.db import session_scope

feedback_app = typer.Typer(help="Readers' feedback and corrections.", no_args_is_help=True)
console = Console()


@feedback_app.command("report")
def report(
    since: Annotated[
        datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="Only what was said from this day on.")
    ] = None,
) -> None:
    """Feedback and corrections per ISO week, the most corrected claim kinds and the engines corrected."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        found = feedback_report(session, since=since.replace(tzinfo=UTC) if since else None)
    if not found.weeks:
        console.print("No feedback or corrections yet.")
        return
    weeks = Table(title="Feedback and corrections per ISO week")
    for column in ("week", "useful", "missing something", "corrections"):
        weeks.add_column(column, justify="left" if column == "week" else "right")
    for row in found.weeks:
        weeks.add_row(row.week, str(row.useful), str(row.missing), str(row.corrections))
    console.print(weeks)
    for title, column, counts in (
        ("Most corrected claim kinds", "claim kind", found.kinds),
        ("Engines whose summaries were corrected", "engine", found.engines),
    ):
        if counts:
            table = Table(title=title)
            table.add_column(column)
            table.add_column("corrections", justify="right")
            for name, count in counts:
                table.add_row(escape(name), str(count))
            console.print(table)
