"""Decode a recording into 16 kHz mono tracks (one per stereo channel), or say why it cannot be used."""

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from faster_whisper import decode_audio

from transcription.errors import AudioError

SAMPLE_RATE = 16_000
#: A channel whose loudest 50 ms stays below this level holds no speech.
SILENCE_DBFS = -50.0
FRAME_S = 0.05
#: Channels this correlated carry the same signal: a mono call stored as stereo. Two parties on
#: their own channels (even with some echo of each other) are far below it.
SAME_SIGNAL_CORRELATION = 0.98


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the file declares: codec, sample rate and channel count."""

    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class Track:
    """One channel's samples at 16 kHz; ``channel`` is None for mono."""

    channel: int | None
    samples: np.ndarray


@dataclass(frozen=True, slots=True)
class Audio:
    """A decoded recording: the tracks that carry sound, and the source's properties."""

    tracks: tuple[Track, ...]
    source: SourceInfo
    duration_s: float

    def mixdown(self) -> np.ndarray:
        """All tracks averaged into one (for language detection)."""
        return np.asarray(np.mean([track.samples for track in self.tracks], axis=0, dtype=np.float32))


def probe(path: Path) -> SourceInfo:
    """The codec, sample rate and channels of ``path``'s first audio stream; raises ``AudioError``."""
    if path.stat().st_size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("no audio stream in the file")
            context = container.streams.audio[0].codec_context
            if context is None:
                raise AudioError("unsupported audio codec: no decoder for this stream")
            return SourceInfo(context.name, context.sample_rate, context.layout.nb_channels)
    except av.error.FFmpegError as error:
        raise AudioError(f"not a readable audio file: {_ffmpeg_reason(error)}") from error


def load_audio(path: Path) -> Audio:
    """Decode ``path``; stereo becomes one track per channel (silent channels left out).

    Raises ``AudioError`` for an empty, corrupt or undecodable file, and for one with no sound at all.
    """
    source = probe(path)
    stereo = source.channels >= 2
    try:
        decoded = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=stereo)
    except av.error.FFmpegError as error:
        raise AudioError(f"cannot decode {source.codec} audio: {_ffmpeg_reason(error)}") from error
    channels = list(decoded) if stereo else [decoded]
    duration_s = len(channels[0]) / SAMPLE_RATE
    if len(channels[0]) == 0:
        raise AudioError(f"no decodable {source.codec} audio: the file is truncated or corrupt")
    if stereo and same_signal(channels[0], channels[1]):
        channels, stereo = [np.mean(channels, axis=0, dtype=np.float32)], False
    tracks = tuple(
        Track(index if stereo else None, samples)
        for index, samples in enumerate(channels)
        if peak_dbfs(samples) >= SILENCE_DBFS
    )
    if not tracks:
        raise AudioError(f"silence: no sound above {SILENCE_DBFS:.0f} dBFS in {duration_s:.0f} s")
    return Audio(tracks, source, duration_s)


def same_signal(first: np.ndarray, second: np.ndarray) -> bool:
    """True when two channels carry one signal (identical, or correlated above ``SAME_SIGNAL_CORRELATION``)."""
    if np.array_equal(first, second):
        return True
    if not first.std() or not second.std():
        return False
    return float(np.corrcoef(first, second)[0, 1]) >= SAME_SIGNAL_CORRELATION


def peak_dbfs(samples: np.ndarray) -> float:
    """The level of the loudest 50 ms frame, in dB relative to full scale."""
    frame = int(SAMPLE_RATE * FRAME_S)
    usable = len(samples) - len(samples) % frame or len(samples)
    frames = samples[:usable].reshape(-1, min(frame, usable))
    loudest = float(np.sqrt(np.mean(frames * frames, axis=1)).max())
    return float(20 * np.log10(max(loudest, 1e-10)))


def _ffmpeg_reason(error: av.error.FFmpegError) -> str:
    return error.strerror or str(error)
