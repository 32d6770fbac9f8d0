"""Transcription results; plain data with no heavy imports, so storage can use them."""

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

#: The speaker of a mono recording: one channel cannot tell the agent from the client.
UNKNOWN_SPEAKER = "unknown"


class Segment(NamedTuple):
    """A stretch of speech on one channel, times in seconds from the start of the recording."""

    start: float
    end: float
    text: str
    speaker: str  # agent, client, or UNKNOWN_SPEAKER
    channel: int | None  # None: mono (or both channels carried the same signal)
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """One recording's dialogue in time order, and how it was made."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    language_source: str  # given, detected, fallback, model (an English-only model)
    duration_s: float
    speech_s: float  # audio left after voice-activity filtering, summed over channels
    channels: int  # of the source file
    sample_rate: int  # of the source file
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> segments dropped

    @property
    def text(self) -> str:
        """All segments' text, space separated."""
        return " ".join(segment.text for segment in self.segments)
