"""Known faster-whisper failures: repetition loops, text hallucinated on silence or noise, and
comparing texts to find one channel echoing the other."""

import difflib
import unicodedata
from typing import Protocol

#: Whisper's own rule for "this was silence": likely no speech and a poorly scored decoding.
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
#: Text this compressible (zlib) is a loop; faster-whisper's own fallback threshold.
COMPRESSION_RATIO = 2.4
#: An n-gram (n <= 4) repeated this many times in a row is a loop.
LOOP_REPEATS = 4
#: Two texts this alike (word-level ratio) say the same thing: one channel echoing the other.
SIMILAR_TEXT = 0.5
#: Known silence phrases are kept only when the model is this sure there was speech.
PHRASE_MAX_NO_SPEECH = 0.2
PHRASE_MIN_LOGPROB = -0.5

#: Captions and sign-offs from Whisper's training subtitles, produced on silence, music and noise.
SILENCE_PHRASES = frozenset(
    {
        "thank you",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "subscribe to my channel",
        "like and subscribe",
        "bye",
        "you",
        "so",
        "oh",
        "hmm",
        "subtitles by the amaraorg community",
        "transcribed by esoscom",
        "продолжение следует",
        "спасибо за внимание",
        "спасибо за просмотр",
        "подписывайтесь на канал",
        "субтитры сделал dimatorzok",
        "редактор субтитров асемкин корректор аегорова",
        "субтитры создавал dimatorzok",
        "napisy stworzone przez społeczność amaraorg",
        "dziękuję za uwagę",
        "dzięki za obejrzenie",
        "napisy wykonane przez społeczność amaraorg",
    }
)


class DecodedSegment(Protocol):
    """The fields of a faster-whisper segment that the filters read."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def normalize(text: str) -> str:
    """Lower-case words without punctuation, for comparing texts."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum() or ch.isspace())
    return " ".join(text.split())


def has_loop(text: str) -> bool:
    """True when a word or phrase of up to 4 words repeats ``LOOP_REPEATS`` times in a row."""
    words = normalize(text).split()
    for size in range(1, 5):
        for start in range(len(words) - size * LOOP_REPEATS + 1):
            gram = words[start : start + size]
            if all(words[start + k * size : start + (k + 1) * size] == gram for k in range(1, LOOP_REPEATS)):
                return True
    return False


def similar(first: str, second: str) -> bool:
    """True when two texts share most of their words in order (``SIMILAR_TEXT``)."""
    return difflib.SequenceMatcher(None, normalize(first).split(), normalize(second).split()).ratio() >= SIMILAR_TEXT


def drop_reason(segment: DecodedSegment, previous_text: str | None) -> str | None:
    """Why ``segment`` must not be kept (``empty``, ``repetition``, ``hallucination``), or None to keep it.

    ``previous_text`` is the text of the last kept segment on the same channel.
    """
    text = normalize(segment.text)
    if not text:
        return "empty"
    if segment.compression_ratio > COMPRESSION_RATIO or has_loop(segment.text):
        return "repetition"
    if previous_text is not None and text == normalize(previous_text):
        return "repetition"
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB:
        return "hallucination"
    if text in SILENCE_PHRASES and (
        segment.no_speech_prob > PHRASE_MAX_NO_SPEECH or segment.avg_logprob < PHRASE_MIN_LOGPROB
    ):
        return "hallucination"
    return None
