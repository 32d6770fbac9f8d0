"""Short synthetic stereo sales calls (espeak-ng: agent on the left channel, client on the right)."""

import json
import shutil
import subprocess
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from storage.errors import DossierError

SPEECH_RATE_WPM = 140
GAP_S = 0.7  # silence between turns
#: espeak-ng voices per language and side: two different voices so the parties sound apart.
VOICES = {
    "en": {"agent": "en-us+m3", "client": "en-gb-x-rp+f2"},
    "pl": {"agent": "pl+m3", "client": "pl+f2"},
}
CHANNEL_OF = {"agent": 0, "client": 1}


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance: who says it (agent or client) and what."""

    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class SampleCall:
    """A call to synthesize and the metadata its sidecar JSON carries."""

    stem: str
    client: str
    phone: str
    agent: str
    started_at: str  # ISO 8601 with offset
    direction: str
    language: str
    turns: tuple[Turn, ...]

    def reference(self, speaker: str) -> str:
        """Everything ``speaker`` says, in order: the expected transcript of their channel."""
        return " ".join(turn.text for turn in self.turns if turn.speaker == speaker)


SAMPLE_CALLS: tuple[SampleCall, ...] = (
    SampleCall(
        "2026-06-01_alfa_group",
        "Alfa Group",
        "+7 495 123 45 00",
        "Elena Sokolova",
        "2026-06-01T10:15:00+03:00",
        "outbound",
        "en",
        (
            Turn(
                "agent", "Good morning, this is Elena from Northwind. Did you receive our quote for the office chairs?"
            ),
            Turn("client", "Yes, we did. The price is fine, but we need the delivery before the end of January."),
            Turn("agent", "I can confirm delivery on the twentieth of January. I will send the contract today."),
            Turn("client", "Great. Please add the ten percent discount we discussed last week."),
        ),
    ),
    SampleCall(
        "2026-06-03_harbor_finch",
        "Harbor & Finch",
        "+44 161 496 0725",
        "James Carter",
        "2026-06-03T16:40:00+01:00",
        "inbound",
        "en",
        (
            Turn("client", "Hello, our second shipment of printers arrived damaged."),
            Turn("agent", "I am sorry to hear that. I will open a claim and send replacements this week."),
            Turn("client", "Thank you. We also want a call with your manager about the renewal."),
        ),
    ),
    SampleCall(
        "2026-06-05_baltyk_logistyka",
        "Bałtyk Logistyka",
        "+48 602 345 678",
        "Marek Kowalski",
        "2026-06-05T12:00:00+02:00",
        "outbound",
        "pl",
        (
            Turn("agent", "Dzień dobry, mówi Marek z firmy Northwind. Czy otrzymali państwo naszą fakturę?"),
            Turn("client", "Tak, otrzymaliśmy. Zapłacimy ją w piątek."),
        ),
    ),
)


def synthesize_calls(out_dir: Path, calls: tuple[SampleCall, ...] = SAMPLE_CALLS) -> list[Path]:
    """Write each call as ``<stem>.wav`` (stereo, 16-bit) with a ``<stem>.json`` sidecar; return the WAVs.

    Needs the ``espeak-ng`` program (Debian: ``apt-get install espeak-ng``).
    """
    if shutil.which("espeak-ng") is None:
        raise DossierError("sample calls need espeak-ng: apt-get install espeak-ng")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory(prefix="dossier-speech-") as scratch:
        for call in calls:
            path = out_dir / f"{call.stem}.wav"
            _write_call(path, call, Path(scratch))
            _write_sidecar(path.with_suffix(".json"), call)
            paths.append(path)
    return paths


def speak(text: str, voice: str, scratch: Path) -> tuple[array, int]:
    """``text`` spoken by an espeak-ng voice: 16-bit mono samples and their rate."""
    target = scratch / "turn.wav"
    try:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(SPEECH_RATE_WPM), "-w", str(target), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as error:
        reason = error.stderr.decode(errors="replace").strip()
        raise DossierError(f"espeak-ng failed for voice {voice}: {reason}") from error
    with wave.open(str(target), "rb") as speech:
        samples = array("h", speech.readframes(speech.getnframes()))
        return samples, speech.getframerate()


def _write_call(path: Path, call: SampleCall, scratch: Path) -> None:
    voices = VOICES[call.language]
    left, right = array("h"), array("h")
    rate = 0
    for turn in call.turns:
        samples, rate = speak(turn.text, voices[turn.speaker], scratch)
        gap = array("h", bytes(2 * int(GAP_S * rate)))
        silence = array("h", bytes(2 * len(samples)))
        speaking, quiet = (left, right) if CHANNEL_OF[turn.speaker] == 0 else (right, left)
        speaking.extend(gap + samples)
        quiet.extend(gap + silence)
    frames = array("h", bytes(4 * len(left)))
    frames[0::2], frames[1::2] = left, right
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())


def _write_sidecar(path: Path, call: SampleCall) -> None:
    meta = {
        "client": call.client,
        "phone": call.phone,
        "agent": call.agent,
        "started_at": call.started_at,
        "direction": call.direction,
        "language": call.language,
        "channels": {"left": "agent", "right": "client"},
    }
    path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
