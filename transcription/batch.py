"""Transcribe many recordings with one loaded model, several at a time within the machine's cores."""

import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from transcription.audio import load_audio
from transcription.errors import AudioError
from transcription.results import Transcript
from transcription.transcribe import DEFAULT_SPEAKERS, Transcriber


@dataclass(frozen=True, slots=True)
class AudioJob:
    """One recording to transcribe; ``key`` is the caller's id for it."""

    key: int
    path: Path
    language: str | None = None
    speakers: Mapping[int, str] = field(default_factory=lambda: DEFAULT_SPEAKERS)


class JobResult(NamedTuple):
    """A transcript, or the reason the recording cannot be transcribed; and the seconds it took."""

    job: AudioJob
    transcript: Transcript | None
    error: str | None
    seconds: float


def run_job(transcriber: Transcriber, job: AudioJob) -> JobResult:
    """Decode and transcribe one recording; bad audio (or any failure) becomes ``error``, never an exception."""
    started = time.perf_counter()
    try:
        audio = load_audio(job.path)
        transcript = transcriber.transcribe(audio, language=job.language, speakers=job.speakers)
    except AudioError as error:
        return JobResult(job, None, str(error), time.perf_counter() - started)
    except OSError as error:
        return JobResult(job, None, f"cannot read file: {error.strerror or error}", time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - one recording's failure must not end the batch
        return JobResult(
            job, None, f"transcription failed: {type(error).__name__}: {error}", time.perf_counter() - started
        )
    if not transcript.segments:
        reason = "no speech found" + (f" ({_dropped_text(transcript)} dropped)" if transcript.dropped else "")
        return JobResult(job, None, reason, time.perf_counter() - started)
    return JobResult(job, transcript, None, time.perf_counter() - started)


def transcribe_batch(transcriber: Transcriber, jobs: Iterable[AudioJob], workers: int = 1) -> Iterator[JobResult]:
    """Results as they finish; ``workers`` recordings run at once (the model needs as many workers).

    Stopping the iteration (or an interrupt) cancels the recordings not yet started.
    """
    if workers <= 1:
        for job in jobs:
            yield run_job(transcriber, job)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="transcribe")
    try:
        futures = [pool.submit(run_job, transcriber, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dropped_text(transcript: Transcript) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in sorted(transcript.dropped.items()))
