"""`dossier demo`: generate a multi-channel sample, import it, summarize it, show what a rep sees."""

from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel

from dossier.cli.render import clients_table
from dossier.demo.calls import synthesize_calls
from dossier.demo.sample import Sample, generate_sample
from dossier.settings import get_settings
from dossier.transcribe_job import TranscribeReport, transcribe_recordings
from ingest.normalize import normalize_phone
from ingest.pipeline import ImportReport, import_paths
from storage import repository
from storage.db import session_scope, upgrade_schema
from summarizer.service import SummarizeReport, read_summary, summarize

SHOWN_CLIENTS = 2


def register_team(sample: Sample) -> None:
    """Our own users from the sample: their addresses, phones and names mark our side."""
    region = get_settings().default_phone_region
    with session_scope() as session:
        for user in sample.users:
            repository.upsert_user(session, login=user.login, name=user.name, email=user.email,
                                   phone=normalize_phone(user.phone, region), role=user.role, team=user.team,
                                   language=user.language)


def demo_problems(imported: ImportReport, transcribed: TranscribeReport, summarized: SummarizeReport) -> list[str]:
    """What failed in a demo run, one line each; empty when everything worked (the exit status is 0)."""
    problems = [] if imported.read_anything else ["the import read no interaction"]
    if transcribed.quarantined:
        problems.append(f"{transcribed.quarantined} call recordings could not be transcribed "
                        "(see `dossier quarantine`)")
    problems += [f"summarizing {result.name} failed: {result.error}" for result in summarized.failed]
    return problems


def run_demo(directory: Path, console: Console) -> list[str]:
    """The main job end to end on the embedded default; safe to run again (nothing duplicates).

    Returns what failed (see :func:`demo_problems`), after printing it.
    """
    console.rule("[bold]Dossier demo")
    upgrade_schema()
    sample = generate_sample(directory)
    console.print(f"sample written to {directory}/: {len(sample.files)} files, {len(sample.clients)} clients, "
                  f"Russian, Polish, English and German, e-mail + chat + notes + deals + client directory")
    calls = synthesize_calls(directory / "calls")
    console.print(f"{len(calls)} call recordings synthesized with espeak-ng (agent left, client right)")
    register_team(sample)
    report = import_paths([directory], progress=True, console=console)
    console.print(f"import: {report.summary()}")
    transcribed = transcribe_recordings(progress=True, console=console)
    console.print(f"transcription: {transcribed.summary()}")
    with session_scope() as session:
        overviews = repository.client_overviews(session)
    console.print(clients_table(overviews))
    result = summarize(all_clients=True)
    console.print(f"summaries: {result.summary()}")
    language = get_settings().summary_languages[0]
    for overview in overviews[:SHOWN_CLIENTS]:
        for format_name, title in (("brief", "pre-call brief"), ("actions", "action items")):
            view = read_summary(str(overview.id), format_name, language)
            if view is not None:
                console.print(Panel(Markdown(view.summary.markdown), title=f"{overview.name} — {title}"))
    console.print("next: [bold]dossier history CLIENT[/], [bold]dossier show CLIENT --format structured[/], "
                  "[bold]dossier show CLIENT --format timeline[/], [bold]dossier quarantine[/]")
    problems = demo_problems(report, transcribed, result)
    for problem in problems:
        console.print(f"[red]failed:[/] {problem}", highlight=False)
    return problems
