"""The ``dossier`` command line: init, import, clients, history, quarantine, demo."""

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import filesize
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from dossier.cli.common import require_schema
from dossier.cli.render import clients_table, import_progress, print_history, print_source, progress_bar
from dossier.settings import get_settings
from storage import repository
from storage.db import session_scope, upgrade_schema
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Client, Interaction

app = typer.Typer(
    help="Dossier: grounded, incremental customer history summaries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()


class Kind(StrEnum):
    email = "email"
    whatsapp = "whatsapp"
    telegram = "telegram"
    notes = "notes"
    deals = "deals"
    calls = "calls"


@app.command()
def init() -> None:
    """Create the database schema, or upgrade it to the newest version."""
    revision = upgrade_schema(get_settings().database_url)
    console.print(f"schema at revision {revision} on {_safe_url()}")


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    kind: Annotated[Kind | None, typer.Option(help="Source kind; detected per file when omitted.")] = None,
    client: Annotated[str | None, typer.Option(help="Assign everything to this client.")] = None,
) -> None:
    """Import e-mail (mbox, .eml, maildir), WhatsApp/Telegram exports, notes and deals CSVs."""
    from ingest.pipeline import import_paths

    require_schema()
    settings = get_settings()
    with import_progress() as on_progress:
        report = import_paths(
            paths,
            database_url=settings.database_url,
            options=settings.import_options(),
            kind=kind.value if kind else None,
            client=client,
            on_progress=on_progress,
        )
    console.print(report.summary())
    if report.quarantined:
        console.print("see the reasons with `dossier quarantine`")
    if not report.read_anything:
        raise typer.Exit(code=1)


@app.command()
def clients(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Counts per channel and every contact.")] = False,
) -> None:
    """Clients with interaction counts per channel and their last contact."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        overviews = repository.client_overviews(session)
    if as_json:
        _print_json(
            [
                {
                    "id": o.id,
                    "name": o.name,
                    "counts": o.counts,
                    "total": o.total,
                    "restricted": o.restricted,
                    "last_contact": o.last_contact,
                    "contacts": o.contacts,
                }
                for o in overviews
            ]
        )
        return
    console.print(clients_table(overviews, wide=wide))


@app.command()
def history(
    client: Annotated[str, typer.Argument(help="Client id, name, e-mail, domain or phone.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A client's normalized history, oldest first."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        found = repository.find_client(session, client)
        if found is None:
            raise DossierError(f"no client matches {client!r} (try `dossier clients`)")
        interactions = repository.client_history(session, found.id)
    if as_json:
        _print_json(
            {
                "client": {"id": found.id, "name": found.name},
                "interactions": [_interaction_json(i) for i in interactions],
            }
        )
        return
    print_history(console, found.name, interactions)


@app.command("show-source")
def show_source(
    interaction_id: Annotated[int, typer.Argument(help="The id a citation names: [#42] is 42.")],
    at: Annotated[str | None, typer.Option("--at", help="A moment in a call, mm:ss (as in [#42 @01:05]).")] = None,
) -> None:
    """One interaction in full, as a citation names it; for a call, every line with its moment."""
    from summarizer.sources import segment_starts

    require_schema()
    second = _moment(at) if at else None
    with session_scope(get_settings().database_url) as session:
        interaction = session.get(Interaction, interaction_id)
        if interaction is None:
            raise DossierError(f"no interaction #{interaction_id} (citations name them: [#42] is 42)")
        console.print(f"[bold]{escape(session.get_one(Client, interaction.client_id).name)}[/]", highlight=False)
        print_source(console, interaction, segment_starts(interaction), second)


def _moment(text: str) -> float:
    """Seconds of ``mm:ss`` or ``h:mm:ss``; a clear error otherwise."""
    parts = text.split(":")
    if not (2 <= len(parts) <= 3 and all(part.isdigit() for part in parts)):
        raise DossierError(f"--at {text!r}: expected mm:ss, e.g. 01:05")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return float(seconds)


class Format(StrEnum):
    brief = "brief"
    structured = "structured"
    timeline = "timeline"
    actions = "actions"


@app.command()
def summarize(
    clients: Annotated[list[str] | None, typer.Argument(help="Client ids, names, e-mails, domains or phones.")] = None,
    all_clients: Annotated[bool, typer.Option("--all", help="Every client with history.")] = False,
    dirty: Annotated[
        bool,
        typer.Option(
            "--dirty",
            help="Clients with new data, after the debounce, and the summaries readers of `dossier serve` asked for.",
        ),
    ] = False,
    engine: Annotated[str | None, typer.Option(help="grounded, llamacpp, openai or a plug-in.")] = None,
    lang: Annotated[list[str] | None, typer.Option(help="Output language(s); default from settings.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one per core).")] = 1,
) -> None:
    """Build or update summaries (only what changed is recomputed) and cache them; exit 1 if any client failed."""
    from dossier.engines import summarize as run_summarize
    from summarizer.service import require_language

    require_schema()
    if not (clients or all_clients or dirty):
        raise DossierError("name one or more clients, or use --all or --dirty")
    for language in lang or []:
        require_language(language)
    with progress_bar() as bar:
        task = bar.add_task("summarizing", total=None)
        report = run_summarize(
            clients,
            all_clients=all_clients,
            dirty=dirty,
            engine_name=engine,
            languages=lang,
            workers=workers,
            on_client=lambda result: bar.update(task, advance=1, description=f"{result.name[:30]:30}"),
        )
    console.print(report.summary())
    for failed in report.failed:
        console.print(f"[red]failed:[/] {failed.name}: {failed.error}", highlight=False)
    requests_failed = _build_requested(engine) if dirty else False
    if report.failed or requests_failed:
        raise typer.Exit(code=1)


def _build_requested(engine: str | None) -> bool:
    """Build the summaries readers asked for (queued by `dossier serve`) and print the outcome; whether any failed."""
    from dossier.jobs import build_requested

    result = build_requested(engine_name=engine)
    console.print(f"{len(result.built)} requested summaries built, {len(result.failed)} failed")
    for request, error in result.failed.items():
        console.print(
            f"[red]failed:[/] client {request.client_id} ({request.key}, {request.language}): {error}", highlight=False
        )
    return bool(result.failed)


@app.command()
def show(
    client: Annotated[str, typer.Argument(help="Client id, name, e-mail, domain or phone.")],
    format_: Annotated[Format, typer.Option("--format", help="Which summary.")] = Format.brief,
    lang: Annotated[
        str | None, typer.Option(help="Output language (en, ru, pl); default: the first configured.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a client's cached summary (flagged stale when newer data is waiting)."""
    from dossier.engines import read_summary

    require_schema()
    language = lang or get_settings().summary_languages[0]
    view = read_summary(client, format_.value, language)
    if view is None:
        raise DossierError(_no_summary_yet(client, format_.value, language))
    summary = view.summary
    if as_json:
        _print_json(
            {
                "client": {"id": view.client_id, "name": view.client_name},
                "format": view.format,
                "language": view.language,
                "stale": summary.stale,
                "generated_at": summary.generated_at,
                "engine": summary.engine,
                "root_hash": summary.root_hash,
                "content": summary.content,
            }
        )
        return
    console.print(Markdown(summary.markdown))
    note = " — [yellow]stale: newer data is waiting for a refresh[/]" if summary.stale else ""
    console.print(f"[dim]{summary.engine}, generated {summary.generated_at:%Y-%m-%d %H:%M} UTC[/]{note}")


def _no_summary_yet(client: str, format_name: str, language: str) -> str:
    """Why ``show`` has nothing to print, and how the summary gets built."""
    from dossier.engines import refresh_builds

    build_now = f"`dossier summarize {client!r} --lang {language}`"
    if refresh_builds((PUBLIC_SCOPE,), language):
        return (
            f"no {format_name} summary in {language} for {client!r} yet; a build for {language} is queued "
            f"(`dossier summarize --dirty` runs it; to build it now: {build_now})"
        )
    configured = ", ".join(get_settings().summary_languages)
    return (
        f"no {format_name} summary in {language} for {client!r} yet; refreshes build only {configured} "
        f"(DOSSIER_SUMMARY_LANGUAGES), so nothing is queued: build it with {build_now}"
    )


@app.command()
def quarantine(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Inputs that could not be imported, with the reason and the size of the bytes kept of them."""
    require_schema()
    with session_scope(get_settings().database_url) as session:
        items = repository.quarantine_items(session)
        sizes = repository.kept_sizes(session, [q.id for q in items])
    rows = [
        {
            "id": q.id,
            "source": q.source_path,
            "item": q.item_ref,
            "kind": q.source_kind,
            "reason": q.reason,
            "bytes": sizes.get(q.id),
            "at": q.created_at,
        }
        for q in items
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "source", "item", "kind", "reason", "kept")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["source"],
            row["item"] or "(whole file)",
            row["kind"] or "unknown",
            row["reason"],
            _size_text(row["bytes"]),
        )
    console.print(table)


def _size_text(size: int | None) -> str:
    """A byte count for people ("36 bytes", "17.8 MB"); "nothing kept" for None."""
    return "nothing kept" if size is None else filesize.decimal(size)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option(help="Where to write the sample files.")] = Path("dossier-demo"),
    engine: Annotated[str | None, typer.Option(help="grounded (default), llamacpp, openai or a plug-in.")] = None,
) -> None:
    """Generate a multi-channel sample (ru, pl, en), import it and show what a user would see; exit 1 on failures."""
    from dossier.cli.demo import run_demo

    if run_demo(directory, console, engine=engine):
        raise typer.Exit(code=1)


from dossier.cli.airflow import airflow_command  # noqa: E402
from dossier.cli.calendar_sources import meetings_app  # noqa: E402
from dossier.cli.feedback import feedback_app  # noqa: E402
from dossier.cli.reports import digest_command, report_app  # noqa: E402
from dossier.cli.sources import sources_app  # noqa: E402
from dossier.cli.suggestions import suggestions_app  # noqa: E402
from dossier.cli.transcribe import transcribe_command  # noqa: E402
from dossier.cli.web import serve, tokens_app, users_app  # noqa: E402

app.command("digest")(digest_command)
app.add_typer(report_app, name="report")
app.command("transcribe")(transcribe_command)
app.command()(serve)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(sources_app, name="sources")
app.add_typer(meetings_app, name="meetings")
app.add_typer(suggestions_app, name="suggestions")
app.command("airflow")(airflow_command)
app.add_typer(feedback_app, name="feedback")


def _interaction_json(i) -> dict:
    return {
        key: getattr(i, key)
        for key in (
            "id",
            "channel",
            "direction",
            "occurred_at",
            "author",
            "author_contact",
            "participants",
            "language",
            "subject",
            "body",
            "quoted_text",
            "signature",
            "attachments",
            "source_kind",
            "source_ref",
            "external_id",
            "thread_ref",
            "scope",
            "privileged",
            "meta",
        )
    }


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False, indent=2) + "\n")


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point: runs the app and turns known errors into one clear line."""
    try:
        app()
    except DossierError as error:
        Console(stderr=True).print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(1)
    except SQLAlchemyError as error:
        Console(stderr=True).print(f"[red]database error:[/] {escape(str(error).splitlines()[0])}", highlight=False)
        sys.exit(1)
