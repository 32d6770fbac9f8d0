"""Transcribe one decoded recording: choose its language, decode each channel, filter, merge in time order."""

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from transcription.audio import SAMPLE_RATE, Audio, Track
from transcription.errors import ModelError
from transcription.filters import drop_reason, similar
from transcription.results import UNKNOWN_SPEAKER, Segment, Transcript

#: The decoding settings, shared with the benchmark's bare faster-whisper run.
WHISPER_OPTIONS: dict[str, Any] = {
    "beam_size": 5,
    "vad_filter": True,
    "word_timestamps": True,
    "condition_on_previous_text": False,  # a bad segment must not seed the next one: fewer loops
    "hallucination_silence_threshold": 2.0,  # skip silent gaps around a suspected hallucination
}
#: Who speaks on which stereo channel unless a recording says otherwise.
DEFAULT_SPEAKERS: Mapping[int, str] = {0: "agent", 1: "client"}
ENGLISH = "en"
#: Segments on two channels overlapping this much (share of the shorter one) may be one utterance.
CROSSTALK_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class LanguagePolicy:
    """How to choose a recording's language when none is given.

    Detection is trusted when its probability reaches ``threshold`` and the language is in
    ``allowed`` (None: any); otherwise ``fallback`` is used.
    """

    fallback: str = ENGLISH
    threshold: float = 0.5
    allowed: frozenset[str] | None = None


def load_model(path: Path, *, workers: int = 1, cpu_threads: int = 0) -> WhisperModel:
    """Load a CTranslate2 Whisper model for CPU (int8); ``workers`` transcriptions may run at once."""
    threads = cpu_threads or max(1, (os.cpu_count() or 1) // workers)
    try:
        return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers)
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelError(f"cannot load the Whisper model at {path}: {error}") from error


class Transcriber:
    """A loaded model and the language policy; safe to call from ``workers`` threads at once."""

    def __init__(self, model: WhisperModel, policy: LanguagePolicy | None = None):
        self.model = model
        self.policy = policy or LanguagePolicy()

    @property
    def multilingual(self) -> bool:
        """False for an English-only model (such as tiny.en)."""
        return bool(self.model.model.is_multilingual)  # ctranslate2 has no type hints

    def choose_language(self, audio: Audio, given: str | None) -> tuple[str, float, str]:
        """(language, probability, how it was chosen: given, model, detected or fallback)."""
        if not self.multilingual:
            return ENGLISH, 1.0, "given" if given == ENGLISH else "model"
        if given:
            return given, 1.0, "given"
        language, probability, _ = self.model.detect_language(audio.mixdown(), vad_filter=True)
        allowed = self.policy.allowed is None or language in self.policy.allowed
        if probability >= self.policy.threshold and allowed:
            return language, probability, "detected"
        return self.policy.fallback, probability, "fallback"

    def transcribe(
        self, audio: Audio, *, language: str | None = None, speakers: Mapping[int, str] = DEFAULT_SPEAKERS
    ) -> Transcript:
        """The dialogue of ``audio``: each stereo channel decoded alone, labelled by ``speakers``."""
        chosen, probability, source = self.choose_language(audio, language)
        segments: list[Segment] = []
        dropped: Counter[str] = Counter()
        speech_s = 0.0
        for track in audio.tracks:
            speaker = (
                UNKNOWN_SPEAKER if track.channel is None else speakers.get(track.channel, f"channel {track.channel}")
            )
            kept, track_dropped, track_speech = self._track(track, chosen, speaker, audio.duration_s)
            segments += kept
            dropped += track_dropped
            speech_s += track_speech
        segments.sort(key=lambda s: (s.start, s.end, s.channel or 0))
        segments, echoes = drop_crosstalk(segments, audio)
        if echoes:
            dropped["crosstalk"] += echoes
        return Transcript(
            tuple(segments),
            chosen,
            probability,
            source,
            audio.duration_s,
            speech_s,
            audio.source.channels,
            audio.source.sample_rate,
            dropped,
        )

    def _track(
        self, track: Track, language: str, speaker: str, duration_s: float
    ) -> tuple[list[Segment], Counter[str], float]:
        decoded, info = self.model.transcribe(track.samples, language=language, **WHISPER_OPTIONS)
        kept: list[Segment] = []
        dropped: Counter[str] = Counter()
        for segment in decoded:
            reason = drop_reason(segment, kept[-1].text if kept else None)
            if reason:
                dropped[reason] += 1
                continue
            start = min(max(float(segment.start), 0.0), duration_s)
            kept.append(
                Segment(
                    start,
                    min(max(float(segment.end), start), duration_s),
                    segment.text.strip(),
                    speaker,
                    track.channel,
                    float(segment.avg_logprob),
                    float(segment.no_speech_prob),
                )
            )
        return kept, dropped, info.duration_after_vad


def drop_crosstalk(segments: list[Segment], audio: Audio) -> tuple[list[Segment], int]:
    """Segments (sorted by start) without echoes, and how many were dropped.

    A party's voice leaking into the other channel (line echo, sidetone) is transcribed twice; of two
    overlapping, similar segments on different channels, the one on the channel that is quieter
    during the overlap is the echo.
    """
    samples = {track.channel: track.samples for track in audio.tracks}
    echoes: set[int] = set()
    for i, first in enumerate(segments):
        for j in range(i + 1, len(segments)):
            second = segments[j]
            if second.start >= first.end:
                break
            if i in echoes or j in echoes or first.channel == second.channel or first.channel is None:
                continue
            start, end = max(first.start, second.start), min(first.end, second.end)
            shorter = min(first.end - first.start, second.end - second.start)
            if end - start < CROSSTALK_OVERLAP * shorter or not similar(first.text, second.text):
                continue
            louder_first = _level(samples[first.channel], start, end) >= _level(samples[second.channel], start, end)
            echoes.add(j if louder_first else i)
    return [segment for index, segment in enumerate(segments) if index not in echoes], len(echoes)


def _level(samples: np.ndarray, start: float, end: float) -> float:
    """Mean power of ``samples`` between two times."""
    span = samples[int(start * SAMPLE_RATE) : max(int(end * SAMPLE_RATE), int(start * SAMPLE_RATE) + 1)]
    return float((span * span).mean()) if len(span) else 0.0
