"""Audio inputs for the call tests: WAV writing, broken files, and the committed telephone call fixture."""

import json
import random
import re
import shutil
import struct
import wave
from pathlib import Path

import av
import jiwer
import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
FIXTURE_CALL = FIXTURES / "telephone_call_8k.flac"
FIXTURE_REFERENCE = {
    "client": "Hi, I would like to order twenty more laptops for our new office.",
    "agent": "Sure, I will send you the updated price list tomorrow morning.",
}
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
NUMBER_WORDS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
)


def normalize(text: str) -> str:
    """Lower case, no punctuation, small numbers as words: what WER compares."""
    text = re.sub(r"\b(\d+)\b", lambda m: NUMBER_WORDS.get(int(m.group(1)), m.group(1)), text.lower())
    return " ".join(re.sub(r"[^\w\s']", " ", text.replace("%", " percent")).split())


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after ``normalize``."""
    return jiwer.wer(normalize(reference), normalize(hypothesis))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after ``normalize``: fairer than WER on poorly synthesized speech."""
    return jiwer.cer(normalize(reference), normalize(hypothesis))


def write_wav(path: Path, channels: list[np.ndarray], rate: int) -> Path:
    """Write float samples in [-1, 1] (one array per channel) as 16-bit PCM."""
    frames = np.stack([np.clip(c, -1, 1) for c in channels], axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((frames * 32767).astype("<i2").tobytes())
    return path


def write_silence(path: Path, seconds: float, rate: int = 8000) -> Path:
    return write_wav(path, [np.zeros(int(seconds * rate), dtype=np.float32)], rate)


def write_noise(path: Path, seconds: float, level: float = 0.05, rate: int = 16000) -> Path:
    noise = np.random.default_rng(7).normal(0, level, int(seconds * rate)).astype(np.float32)
    return write_wav(path, [noise], rate)


def write_corrupt(path: Path) -> Path:
    path.write_bytes(random.Random(7).randbytes(20_000))
    return path


def write_unsupported_codec(path: Path) -> Path:
    """A WAV whose format tag (0x7777) no decoder knows."""
    data = b"\x01\x02" * 8000
    fmt = struct.pack("<HHIIHH", 0x7777, 1, 8000, 16000, 2, 16)
    path.write_bytes(
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    return path


def transcode(source: Path, target: Path, codec: str, rate: int = 16000) -> Path:
    """``source`` re-encoded as stereo ``codec`` (libmp3lame, aac, libopus…) into ``target``."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="stereo", rate=rate)
        for frame in [*inp.decode(audio=0), None]:
            for chunk in resampler.resample(frame):
                out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return target


def copy_fixture_call(directory: Path, stem: str = "telephone_call_8k") -> Path:
    """The committed call and its sidecar, copied into ``directory`` as ``<stem>.flac``."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{stem}.flac"
    shutil.copyfile(FIXTURE_CALL, target)
    shutil.copyfile(FIXTURE_CALL.with_suffix(".json"), target.with_suffix(".json"))
    return target


def write_sidecar(audio: Path, **fields: object) -> None:
    audio.with_suffix(".json").write_text(json.dumps(fields), encoding="utf-8")
