"""`dossier transcribe`: the transcription job on chosen or all pending recordings."""

from typing import Annotated

import typer
from rich.console import Console

from dossier.cli.common import require_schema
from dossier.cli.render import transcribe_progress
from dossier.transcribe_job import transcribe_recordings
from storage.errors import DossierError


def transcribe_command(
    recordings: Annotated[
        list[int] | None,
        typer.Argument(help="Recording ids: pending ones, or quarantined ones to retry.", show_default=False),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every pending recording.")] = False,
    model: Annotated[str | None, typer.Option(help="tiny.en, base, or a CTranslate2 model directory.")] = None,
    language: Annotated[str | None, typer.Option(help="Language of every recording (e.g. en, ru, pl).")] = None,
) -> None:
    """Transcribe call recordings registered by `dossier import --kind calls`."""
    if bool(recordings) == all_:
        raise DossierError("give recording ids or --all (not both)")
    require_schema()
    console = Console()
    with transcribe_progress(console) as on_progress:
        report = transcribe_recordings(
            recording_ids=recordings or None, model=model, language=language, on_progress=on_progress
        )
    for line in report.problems:
        console.print(f"  {line}", highlight=False)
    console.print(report.summary())
