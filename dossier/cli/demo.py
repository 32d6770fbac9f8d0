"""`dossier demo`: generate a multi-channel sample, import it, summarize it, show what a rep sees."""

from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from dossier.cli.render import clients_table, import_progress, transcribe_progress
from dossier.demo import register_team
from dossier.demo.calls import synthesize_calls
from dossier.demo.sample import generate_sample
from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from dossier.transcribe_job import TranscribeReport, transcribe_recordings
from ingest.pipeline import ImportReport, import_paths
from storage import repository
from storage.db import session_scope, upgrade_schema
from summarizer.service import SummarizeReport

SHOWN_CLIENTS = 2


def demo_problems(imported: ImportReport, transcribed: TranscribeReport, summarized: SummarizeReport) -> list[str]:
    """What failed in a demo run, one line each; empty when everything worked (the exit status is 0)."""
    problems = [] if imported.read_anything else ["the import read no interaction"]
    if transcribed.quarantined:
        problems.append(
            f"{transcribed.quarantined} call recordings could not be transcribed (see `dossier quarantine`)"
        )
    problems += [f"summarizing {result.name} failed: {result.error}" for result in summarized.failed]
    return problems


def run_demo(directory: Path, console: Console, *, engine: str | None = None) -> list[str]:
    """The main job end to end on the embedded default; safe to run again (nothing duplicates).

    ``engine`` summarizes (default ``DOSSIER_ENGINE``). Returns what failed (see :func:`demo_problems`), after
    printing it.
    """
    console.rule("[bold]Dossier demo")
    settings = get_settings()
    upgrade_schema(settings.database_url)
    sample = generate_sample(directory)
    console.print(
        f"sample written to {directory}/: {len(sample.files)} files, {len(sample.clients)} clients, "
        f"Russian, Polish, English and German, e-mail + chat + notes + deals + client directory"
    )
    calls = synthesize_calls(directory / "calls")
    console.print(f"{len(calls)} call recordings synthesized with espeak-ng (agent left, client right)")
    register_team(sample)
    with import_progress(console) as on_progress:
        report = import_paths(
            [directory], database_url=settings.database_url, options=settings.import_options(), on_progress=on_progress
        )
    console.print(f"import: {report.summary()}")
    with transcribe_progress(console) as on_progress:
        transcribed = transcribe_recordings(on_progress=on_progress)
    console.print(f"transcription: {transcribed.summary()}")
    with session_scope(settings.database_url) as session:
        overviews = repository.client_overviews(session)
    console.print(clients_table(overviews))
    result = summarize(all_clients=True, engine_name=engine)
    console.print(f"summaries: {result.summary()}")
    language = get_settings().summary_languages[0]
    for overview in overviews[:SHOWN_CLIENTS]:
        for format_name, title in (("brief", "pre-call brief"), ("actions", "action items")):
            view = read_summary(str(overview.id), format_name, language)
            if view is not None:
                console.print(Panel(Markdown(view.summary.markdown), title=f"{overview.name} — {title}"))
    console.print(
        "next: [bold]dossier history CLIENT[/], [bold]dossier show CLIENT --format structured[/], "
        "[bold]dossier show CLIENT --format timeline[/], [bold]dossier quarantine[/]"
    )
    problems = demo_problems(report, transcribed, result)
    for problem in problems:
        console.print(f"[red]failed:[/] {problem}", highlight=False)
    return problems
