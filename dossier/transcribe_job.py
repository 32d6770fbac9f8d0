"""The transcription job: new call recordings to transcripts and ``call`` interactions."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.orm import Session

from dossier.settings import Settings, get_settings
from storage import recordings as store
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import Recording

if TYPE_CHECKING:
    from transcription.transcribe import Transcriber

ENGLISH = "en"


@dataclass(slots=True)
class TranscribeReport:
    """What one transcription run did."""

    transcribed: int = 0
    quarantined: int = 0
    skipped: int = 0
    dropped_segments: int = 0  # repetition loops, hallucinations on silence, echoes of the other channel
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    model: str | None = None
    problems: list[str] = field(default_factory=list)  # one line per quarantined or skipped recording

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        speed = f", {self.audio_s / self.elapsed_s:.1f}x real time" if self.elapsed_s and self.audio_s else ""
        model = f" with {self.model}" if self.model else ""
        return (
            f"{self.transcribed} transcribed{model}, {self.quarantined} quarantined, {self.skipped} skipped, "
            f"{self.dropped_segments} segments dropped as loops, hallucinations or echoes "
            f"({self.audio_s:.0f} s of audio{speed})"
        )


class TranscribeProgress(NamedTuple):
    """Where a transcription run is: recordings done out of all, the one just done, the counts so far."""

    done: int
    total: int
    recording: str  # the audio file's name
    transcribed: int
    quarantined: int


def transcribe_recordings(
    *,
    database_url: str | None = None,
    recording_ids: list[int] | None = None,
    model: str | None = None,
    language: str | None = None,
    on_progress: Callable[[TranscribeProgress], None] | None = None,
) -> TranscribeReport:
    """Transcribe pending recordings (or ``recording_ids``: pending or quarantined ones) with one model load.

    Each recording is committed as soon as it is done, so a crash leaves the rest pending; bad audio is
    quarantined with its reason and the batch goes on. ``model`` and ``language`` override the settings
    and each recording's own language. ``on_progress`` hears after each recording.
    """
    started = time.perf_counter()
    settings = get_settings()
    report = TranscribeReport()
    with session_scope(database_url or settings.database_url) as session:
        todo = _select(session, recording_ids, report)
        if not todo:
            return report
        try:  # the audio extra, imported only when there is something to transcribe
            from transcription.batch import AudioJob, transcribe_batch
        except ImportError as error:
            raise DossierError(
                f"transcription needs the audio extra: pip install 'dossier[audio]' ({error})"
            ) from error
        report.model = model or _default_model(settings.transcribe_model, [language or r.language for r in todo])
        transcriber = _load_transcriber(report.model, settings)
        if not transcriber.multilingual:
            todo = _english_only(todo, language, report)
        by_id = {recording.id: recording for recording in todo}
        defaults = dict(enumerate(settings.transcribe_speakers))
        jobs = [AudioJob(r.id, Path(r.path), language or r.language, _speakers(r, defaults)) for r in todo]
        for done, result in enumerate(transcribe_batch(transcriber, jobs, workers=settings.transcribe_workers), 1):
            recording = by_id[result.job.key]
            if result.transcript is None:
                store.mark_quarantined(session, recording, result.error)
                report.quarantined += 1
                report.problems.append(f"recording {recording.id} ({Path(recording.path).name}): {result.error}")
            else:
                if store.store_transcript(session, recording, result.transcript, report.model) is not None:
                    report.transcribed += 1
                report.dropped_segments += sum(result.transcript.dropped.values())
                report.audio_s += result.transcript.duration_s
            session.commit()
            if on_progress:
                on_progress(
                    TranscribeProgress(
                        done, len(jobs), Path(recording.path).name, report.transcribed, report.quarantined
                    )
                )
    report.elapsed_s = time.perf_counter() - started
    return report


def _select(session: Session, recording_ids: list[int] | None, report: TranscribeReport) -> list[Recording]:
    if recording_ids is None:
        return store.pending_recordings(session)
    found = store.recordings_by_id(session, recording_ids)
    missing = sorted(set(recording_ids) - {r.id for r in found})
    if missing:
        raise DossierError(f"no recording with id {', '.join(map(str, missing))}")
    todo = [r for r in found if r.status != store.DONE]
    report.skipped += len(found) - len(todo)
    return todo


def _default_model(configured: str, languages: list[str | None]) -> str:
    """The configured model, or the multilingual one when it is English-only and a recording is not English."""
    from transcription.models import DEFAULT_MODEL, MULTILINGUAL_MODEL

    if configured == DEFAULT_MODEL and any(lang and lang != ENGLISH for lang in languages):
        return MULTILINGUAL_MODEL
    return configured


def _load_transcriber(name: str, settings: Settings) -> "Transcriber":
    from transcription.errors import ModelError
    from transcription.models import resolve_model
    from transcription.transcribe import LanguagePolicy, Transcriber, load_model

    policy = LanguagePolicy(
        fallback=settings.transcribe_fallback_language,
        threshold=settings.transcribe_language_threshold,
        allowed=frozenset(get_settings().languages),
    )
    try:
        return Transcriber(
            load_model(resolve_model(name, cache=settings.model_cache_dir()).path, workers=settings.transcribe_workers),
            policy,
        )
    except ModelError as error:
        raise DossierError(str(error)) from error


def _english_only(todo: list[Recording], language: str | None, report: TranscribeReport) -> list[Recording]:
    """The recordings an English-only model can transcribe; the others stay pending, reported as skipped."""
    kept = []
    for recording in todo:
        wanted = language or recording.language
        if wanted and wanted != ENGLISH:
            report.skipped += 1
            report.problems.append(
                f"recording {recording.id}: language {wanted} needs a multilingual model (--model base); left pending"
            )
        else:
            kept.append(recording)
    return kept


def _speakers(recording: Recording, defaults: dict[int, str]) -> dict[int, str]:
    mapping = recording.meta.get("channels") or {}
    return {**defaults, **{int(channel): speaker for channel, speaker in mapping.items()}}
