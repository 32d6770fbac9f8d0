#!/usr/bin/env python
"""Transcription benchmark: Dossier's batch job against bare faster-whisper on the same files, same run.

    python bench/transcribe.py [--repeat 3] [--model tiny.en]

1. Builds a corpus under ``bench/.corpus/speech/``: the English clips of ``../shared/data/speech``
   (when present), the committed 8 kHz telephone call and the English sample calls (espeak-ng), each
   written ``--repeat`` times as 16 kHz WAV with a slightly different gain (distinct audio hashes),
   with a ``calls.csv`` manifest (client, language ``en``).
2. **bare**: one ``WhisperModel`` (cpu_threads=2), files one after another, ``decode_audio`` (split
   stereo for two-party calls) and ``model.transcribe(..., language="en", **WHISPER_OPTIONS)``:
   the settings Dossier uses. Model load is timed, as in the job.
3. **dossier 1 worker**: ``import_paths`` (not timed) then ``transcribe_recordings`` into a fresh
   SQLite file with one worker of 2 threads: the same work plus Dossier's checks, filters and storage.
4. **dossier 2 workers**: the same with the default two workers of one thread each.
5. Prints real-time factor (processing s / audio s), word error rate (per channel for calls) and
   throughput ratios to bare, CPU seconds and the load average (other processes on the cores make
   wall times noisy); writes ``bench/out/transcribe.json``. Each run is repeated ``--rounds`` times
   in alternating order and the fastest counts. Goals: dossier 1 worker / bare >= 0.9, and
   dossier 2 workers above bare.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# ``python bench/transcribe.py`` puts bench/ first on sys.path, where bench/ingest.py shadows the
# ``ingest`` package; look modules up from the repository root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
from faster_whisper import WhisperModel, decode_audio  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import select  # noqa: E402

from dossier.demo.calls import SAMPLE_CALLS, synthesize_calls  # noqa: E402
from dossier.settings import get_settings  # noqa: E402
from dossier.transcribe_job import transcribe_recordings  # noqa: E402
from ingest.pipeline import import_paths  # noqa: E402
from storage.db import get_engine, session_scope, upgrade_schema  # noqa: E402
from storage.models import Recording, TranscriptSegment  # noqa: E402
from tests.audio_files import (  # noqa: E402
    FIXTURE_CALL,
    FIXTURE_REFERENCE,
    SPEECH,
    normalize,
    write_wav,
)
from transcription.models import resolve_model  # noqa: E402
from transcription.transcribe import WHISPER_OPTIONS  # noqa: E402

CORPUS_DIR = BENCH_DIR / ".corpus" / "speech"
OUT_DIR = BENCH_DIR / "out"
SHARED_CLIPS = {  # file -> channel mapping of a two-party call, or None for one speaker
    "en_jfk.flac": None,
    "en_new_home_in_the_stars.wav": None,
    "en_one_two_three.wav": None,
    "en_stereo_two_speakers.wav": {"left": "agent", "right": "client"},
}
console = Console(width=max(Console().width, 120))


class Stopwatch:
    """Wall and CPU seconds (this process, all threads) between ``start`` and ``stop``."""

    def start(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), self._cpu_now()
        return self

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self._wall, self._cpu_now() - self._cpu

    @staticmethod
    def _cpu_now() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Clip:
    """A corpus file and what should be heard: {speaker: text} ("unknown" for one speaker)."""

    path: Path
    reference: dict[str, str]
    audio_s: float

    @property
    def two_party(self) -> bool:
        return "unknown" not in self.reference


@dataclass(slots=True)
class Result:
    name: str
    seconds: float
    audio_s: float
    wer: float
    cpu_s: float  # this process's CPU time (all threads) over the same span as ``seconds``
    load: float  # the 1-minute load average after the run: other work competing for the cores

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_s


def sources(scratch: Path) -> list[tuple[Path, dict[str, str]]]:
    """(audio file, reference per speaker) of every English source clip."""
    found = [(FIXTURE_CALL, FIXTURE_REFERENCE)]
    for call, path in zip(SAMPLE_CALLS, synthesize_calls(scratch, SAMPLE_CALLS), strict=True):
        if call.language == "en":
            found.append((path, {s: call.reference(s) for s in ("agent", "client")}))
    if (SPEECH / "references.jsonl").is_file():
        lines = (SPEECH / "references.jsonl").read_text(encoding="utf-8").splitlines()
        records = {Path(r["file"]).name: r for r in map(json.loads, lines)}
        for name, channels in SHARED_CLIPS.items():
            reference = records[name]["reference"]
            found.append(
                (
                    SPEECH / "audio" / name,
                    {channels[k]: v for k, v in reference.items()} if channels else {"unknown": reference},
                )
            )
    return found


def build_corpus(repeat: int) -> list[Clip]:
    """16 kHz WAV copies of every source, ``repeat`` times at slightly different gains, with a manifest."""
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    for old in CORPUS_DIR.iterdir():
        old.unlink()
    clips, rows = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for source, reference in sources(Path(scratch)):
            two_party = "unknown" not in reference
            channels = list(decode_audio(str(source), split_stereo=True)) if two_party else [decode_audio(str(source))]
            if source == FIXTURE_CALL:
                channels.reverse()  # its client is on the left; keep the agent left like the others
            for copy in range(repeat):
                path = write_wav(
                    CORPUS_DIR / f"{source.stem}_{copy}.wav", [(1 - 0.05 * copy) * c for c in channels], 16000
                )
                clips.append(Clip(path, reference, len(channels[0]) / 16000))
                rows.append({"file": path.name, "client": "Bench Client", "language": "en"})
    with (CORPUS_DIR / "calls.csv").open("w", newline="") as manifest:
        writer = csv.DictWriter(manifest, ["file", "client", "language"])
        writer.writeheader()
        writer.writerows(rows)
    return clips


def corpus_wer(clips: list[Clip], hypotheses: dict[Path, dict[str, str]]) -> float:
    """Word error rate over all clips and speakers together."""
    references, outputs = [], []
    for clip in clips:
        for speaker, text in clip.reference.items():
            references.append(normalize(text))
            outputs.append(normalize(hypotheses.get(clip.path, {}).get(speaker, "")))
    return jiwer.wer(references, outputs)


def bare(clips: list[Clip], model_path: Path) -> Result:
    """Plain faster-whisper, one file after another, the same decoding settings."""
    watch = Stopwatch().start()
    model = WhisperModel(str(model_path), device="cpu", compute_type="int8", cpu_threads=2)
    hypotheses = {}
    for clip in clips:
        audio = decode_audio(str(clip.path), split_stereo=clip.two_party)
        tracks = zip(("agent", "client"), audio, strict=True) if clip.two_party else [("unknown", audio)]
        hypotheses[clip.path] = {
            speaker: " ".join(s.text for s in model.transcribe(samples, language="en", **WHISPER_OPTIONS)[0])
            for speaker, samples in tracks
        }
    seconds, cpu_s = watch.stop()
    return Result(
        "bare faster-whisper, sequential",
        seconds,
        sum(c.audio_s for c in clips),
        corpus_wer(clips, hypotheses),
        cpu_s,
        os.getloadavg()[0],
    )


def dossier(clips: list[Clip], model: str, workers: int) -> Result:
    """``transcribe_recordings`` over the corpus, imported into a fresh SQLite database first."""
    os.environ["DOSSIER_TRANSCRIBE_WORKERS"] = str(workers)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/bench.db"
        upgrade_schema(url)
        assert import_paths([CORPUS_DIR], database_url=url).imported == len(clips)
        watch = Stopwatch().start()
        report = transcribe_recordings(database_url=url, model=model)
        seconds, cpu_s = watch.stop()
        assert report.transcribed == len(clips), report
        hypotheses: dict[Path, dict[str, str]] = {}
        with session_scope(url) as session:
            for path, speaker, text in session.execute(
                select(Recording.path, TranscriptSegment.speaker, TranscriptSegment.text)
                .join(TranscriptSegment, TranscriptSegment.recording_id == Recording.id)
                .order_by(Recording.id, TranscriptSegment.start_s)
            ):
                spoken = hypotheses.setdefault(Path(path), {})
                spoken[speaker] = f"{spoken.get(speaker, '')} {text}".strip()
        get_engine(url).dispose()
    label = f"dossier transcribe, {workers} worker{'s' if workers > 1 else ''} x {max(1, 2 // workers)} threads"
    return Result(
        label, seconds, sum(c.audio_s for c in clips), corpus_wer(clips, hypotheses), cpu_s, os.getloadavg()[0]
    )


def render(results: list[Result], baseline: Result) -> Table:
    table = Table(
        "run",
        "audio s",
        "seconds",
        "RTF",
        "WER",
        "throughput / bare",
        "CPU s",
        "CPU s / bare",
        "load",
        title="transcription",
    )
    for result in results:
        table.add_row(
            result.name,
            f"{result.audio_s:.0f}",
            f"{result.seconds:.1f}",
            f"{result.rtf:.3f}",
            f"{result.wer:.1%}",
            f"{baseline.seconds / result.seconds:.2f}",
            f"{result.cpu_s:.1f}",
            f"{result.cpu_s / baseline.cpu_s:.2f}",
            f"{result.load:.1f}",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="copies of each clip (default 3)")
    parser.add_argument("--model", default="tiny.en", help="model name or directory (default tiny.en)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="times each run is repeated, in alternating order; the fastest counts (default 2)",
    )
    args = parser.parse_args(argv)
    clips = build_corpus(args.repeat)
    console.print(
        f"{len(clips)} files, {sum(c.audio_s for c in clips):.0f} s of audio, model {args.model}, "
        f"{os.cpu_count()} cores, {args.rounds} rounds"
    )
    model_path = resolve_model(args.model, cache=get_settings().model_cache_dir()).path
    bare(clips[:1], model_path)  # warm-up: file cache, VAD model, first-call allocations
    runs: list[Callable[[], Result]] = [
        lambda: bare(clips, model_path),
        lambda: dossier(clips, args.model, workers=1),
        lambda: dossier(clips, args.model, workers=2),
    ]
    best: dict[int, Result] = {}
    for round_number in range(args.rounds):
        order = range(len(runs)) if round_number % 2 == 0 else reversed(range(len(runs)))
        for index in order:
            result = runs[index]()
            if index not in best or result.seconds < best[index].seconds:
                best[index] = result
    results = [best[index] for index in range(len(runs))]
    baseline = results[0]
    console.print(render(results, baseline))
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "transcribe.json").write_text(
        json.dumps(
            {
                "model": args.model,
                "files": len(clips),
                "cores": os.cpu_count(),
                "results": [{**asdict(r), "rtf": r.rtf, "ratio": baseline.seconds / r.seconds} for r in results],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
