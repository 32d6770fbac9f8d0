"""Bytes to text without silent guesses: UTF-8, else the most plausible of the candidate encodings.

Short legacy-encoded texts fool byte-statistics detectors (a 40-byte cp1251 note reads as cp1250 or
Hebrew to them), so every candidate's text is scored for what real text in our languages (English,
Polish, Russian) looks like: no control characters, one script per word ("Zaїуіж" is Polish read
as cp1251), no case flips inside a word ("РЎРїР°" is UTF-8 read as cp1251), no symbols in words,
letters of our alphabets, mostly frequent ones.
"""

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import islice, pairwise
from typing import NamedTuple

from charset_normalizer import from_bytes

#: Byte-order marks and the codec that reads what follows them (UTF-32 before UTF-16: same prefix).
BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Single-byte encodings our languages were written in before UTF-8, most common first.
LEGACY_ENCODINGS = ("cp1251", "koi8-r", "cp1250", "iso-8859-2")
#: The letters of our languages' alphabets (any other letter is foreign to them).
OUR_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyząćęłńóśźżабвгдеёжзийклмнопрстуфхцчшщъыьэюя")
#: The fifteen most frequent letters of English, Polish and Russian text.
FREQUENT_LETTERS = frozenset("etaoinshrdlcumwaioenrzwsctkydpоеаинтсрвлкмдпу")
#: Symbols that do stand next to letters in real text ("20°C", "Dossier™").
WORD_SYMBOLS = frozenset("°№™®©€")
#: Characters text does not contain: C0 controls other than tab, line and page breaks, DEL, C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
#: A text with NUL or more than this share of control characters is binary (a stray one is not).
MAX_CONTROL_SHARE = 0.01
#: A word-like run with at least one non-ASCII character (ASCII letters decode alike in every candidate).
_NON_ASCII_WORD = re.compile(r"[^\s!-@\[-`{-~]*[^\x00-\x7f][^\s!-@\[-`{-~]*")
#: Words scored per candidate: enough to judge, bounded for large inputs.
SCORED_WORDS = 2000
#: charset_normalizer guesses from this many leading bytes (it is slow on large inputs).
GUESS_BYTES = 256 * 1024
#: Above this share of garbled words (or of letters foreign to our languages) a text is not plausible.
MAX_GARBLED_SHARE = 0.2
MAX_FOREIGN_SHARE = 0.5
#: Text that is UTF-8 but for at most this share of its bytes is damaged UTF-8, not another encoding...
MAX_INVALID_UTF8_SHARE = 0.01
#: ...when at least this share of its multibyte sequences are valid UTF-8 (legacy text forms almost none).
MIN_VALID_UTF8_SHARE = 0.8
#: Valid UTF-8 overrides a declared charset only with at least this many multibyte characters.
MIN_UTF8_EVIDENCE = 2


class Decoded(NamedTuple):
    """Decoded text, the codec that produced it, and why it may not be what was written (None: clean)."""

    text: str
    encoding: str
    suspect_reason: str | None

    def encode(self, fragment: str) -> bytes:
        """The bytes of ``fragment`` in the source's encoding (no byte-order mark)."""
        return fragment.encode(self.encoding, errors="replace")


class _Score(NamedTuple):
    """What one candidate's text holds that real text does not (counted over its scored words)."""

    control_characters: int
    binary: bool
    garbled_words: int
    foreign_letters: int
    infrequent_letters: int
    words: int
    letters: int

    def cleanliness(self) -> tuple[int, int]:
        """(control characters, garbled words): what makes a reading wrong rather than unusual."""
        return self.control_characters, self.garbled_words

    def problem(self) -> str | None:
        """Why this text is not plausible, or None when it is."""
        if self.binary:
            return "NUL or control characters"
        if self.garbled_words > MAX_GARBLED_SHARE * self.words:
            return f"{self.garbled_words} of {self.words} words garbled (mixed scripts, case or symbols)"
        if self.foreign_letters > MAX_FOREIGN_SHARE * self.letters:
            return f"{self.foreign_letters} of {self.letters} letters foreign to en/pl/ru"
        return None


@dataclass(eq=False)
class _Candidate:
    """One encoding's reading of the bytes; ``usual`` when declared or one of ``LEGACY_ENCODINGS``.

    Its score is counted when first asked for: most mail is valid UTF-8 read as declared, never scored.
    """

    encoding: str
    text: str
    usual: bool

    @cached_property
    def score(self) -> _Score:
        return _score(self.text)

    def rank(self) -> tuple[int, ...]:
        """Sort key, best first: clean, then our letters, then a usual encoding, then frequent letters."""
        score = self.score
        return (
            score.control_characters,
            score.garbled_words,
            score.foreign_letters,
            not self.usual,
            score.infrequent_letters,
        )


def split_byte_order_mark(data: bytes) -> tuple[bytes, str | None]:
    """``data`` without a leading byte-order mark, and the codec that mark names (None: no mark)."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return data[len(mark) :], encoding
    return data, None


def decode_text(data: bytes, *, declared: str | None = None) -> Decoded:
    """Decode ``data``: by its byte-order mark, else by the declared charset or strict UTF-8, else detection.

    A ``declared`` charset (one the source names) that decodes the bytes strictly wins unless its
    reading has control characters and another reading is plausible text without them; valid
    UTF-8 wins over it when UTF-8 reads as plausible text and the declared charset does not. Nearly valid
    UTF-8 (a byte or two damaged) is read as UTF-8 with U+FFFD for the damage. Otherwise the most
    plausible of charset_normalizer's guesses and ``LEGACY_ENCODINGS`` is taken. ``suspect_reason``
    says why the text may not be what was written (binary content, no plausible reading, a declared
    charset that does not fit, damaged UTF-8); the text is then the best reading found, for the
    caller to flag or quarantine. Never raises.
    """
    body, bom_encoding = split_byte_order_mark(data)
    if bom_encoding is not None:
        return _decode_after_mark(body, bom_encoding)
    declared_reading = _declared_reading(body, declared)
    utf8 = _strict(body, "utf-8") if b"\x00" not in body else None  # NUL bytes: binary, or UTF-16 without a mark
    if utf8 is not None:
        return _utf8_or_declared(body, utf8, declared, declared_reading)
    nearly_utf8 = _nearly_utf8(body)
    if nearly_utf8 is not None:
        return nearly_utf8
    chosen = _most_plausible(body, declared, declared_reading)
    if chosen is None:
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "undecodable text: no encoding fits the bytes")
    if chosen is declared_reading:
        return _as_declared(body, chosen)
    problem = chosen.score.problem()
    if problem is None:
        return Decoded(chosen.text, chosen.encoding, _declared_mismatch(body, declared, chosen.text))
    return Decoded(chosen.text, chosen.encoding, _implausible_reason(body, chosen.encoding, problem))


def is_plausible(text: str) -> bool:
    """True when ``text`` reads like real text in our languages (the test ``decode_text`` scores readings by)."""
    return _score(text).problem() is None


def _utf8_or_declared(body: bytes, utf8: str, declared: str | None, declared_reading: _Candidate | None) -> Decoded:
    """Valid UTF-8's reading, unless a declared charset reads the bytes too and UTF-8 is not clearly better.

    UTF-8 is clearly better when its reading is plausible text with a few multibyte characters and
    the declared one is not plausible: one two-byte sequence may be legacy text that happens to be
    valid UTF-8 ("Р¤" in cp1251 is "Ф" in UTF-8).
    """
    if declared_reading is not None and declared_reading.text != utf8:
        multibyte = sum(1 for char in utf8 if char > "\x7f")
        utf8_wins = (
            multibyte >= MIN_UTF8_EVIDENCE
            and declared_reading.score.problem() is not None
            and _score(utf8).problem() is None
        )
        if not utf8_wins:
            return _as_declared(body, declared_reading)
    return Decoded(utf8, "utf-8", _binary_reason(utf8) or _declared_mismatch(body, declared, utf8))


def _as_declared(data: bytes, reading: _Candidate) -> Decoded:
    """The declared charset's reading; suspect only when it is binary."""
    if reading.score.binary:
        problem = "NUL or control characters"
        return Decoded(reading.text, reading.encoding, _implausible_reason(data, reading.encoding, problem))
    return Decoded(reading.text, reading.encoding, None)


def _nearly_utf8(data: bytes) -> Decoded | None:
    """UTF-8 text with a few invalid bytes replaced by U+FFFD, flagged; None when it is not nearly UTF-8.

    Nearly UTF-8: few invalid bytes, and most of its multibyte sequences valid (legacy text has almost none).
    """
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    multibyte = sum(1 for char in text if char > "\x7f") - replaced
    too_damaged = replaced > max(1, len(data) * MAX_INVALID_UTF8_SHARE)
    if too_damaged or multibyte < MIN_VALID_UTF8_SHARE * (multibyte + replaced) or _binary_reason(text):
        return None
    return Decoded(text, "utf-8", f"invalid UTF-8: {replaced} undecodable byte sequence(s) replaced by U+FFFD")


def _decode_after_mark(body: bytes, encoding: str) -> Decoded:
    """The text after a byte-order mark, in the codec the mark names."""
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        reason = f"invalid {encoding} text after the byte-order mark: {error.reason}"
        return Decoded(body.decode(encoding, errors="replace"), encoding, reason)
    return Decoded(text, encoding, _binary_reason(text))


def _binary_reason(text: str) -> str | None:
    """Why a text that decoded is still not text: NUL, or many control characters (None: it is text)."""
    binary = _is_binary(text, _control_characters(text))
    return "binary content (NUL or control characters), not text" if binary else None


def _is_binary(text: str, controls: int) -> bool:
    """Whether a text with ``controls`` control characters is binary content."""
    return "\x00" in text or controls > len(text) * MAX_CONTROL_SHARE


def _strict(data: bytes, encoding: str) -> str | None:
    """``data`` decoded strictly, or None when it does not fit ``encoding`` (or there is no such codec)."""
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared_reading(data: bytes, declared: str | None) -> _Candidate | None:
    """The declared charset's strict reading, scored (None: nothing declared, no such codec, or it does not fit)."""
    codec = _codec_name(declared)
    if codec is None:
        return None
    text = _strict(data, codec)
    return None if text is None else _Candidate(codec, text, usual=True)


def _most_plausible(data: bytes, declared: str | None, declared_reading: _Candidate | None) -> _Candidate | None:
    """The declared reading unless another is clearly better; else the best-scored reading (None: none fits).

    Only the best reading is kept in memory, whatever the number of candidates.
    """
    declared_codec = _codec_name(declared)
    usual = {declared_codec, *(_codec_name(name) for name in LEGACY_ENCODINGS)}
    best = None
    for encoding in _candidate_encodings(data, declared):
        if _codec_name(encoding) == declared_codec:
            continue
        text = _strict(data, encoding)
        if text is None:
            continue
        candidate = _Candidate(encoding, text, _codec_name(encoding) in usual)
        if best is None or candidate.rank() < best.rank():
            best = candidate
    if declared_reading is not None and (best is None or not _clearly_better(best.score, declared_reading.score)):
        return declared_reading
    return best


def _clearly_better(candidate: _Score, declared: _Score) -> bool:
    """Whether a reading should replace the declared single-byte charset's: that one has control characters.

    Control characters are the mark of a wrong single-byte charset (cp1251 punctuation read as
    Latin-1 is C1 controls); garbled-looking words are not: symbols beside letters ("A÷", "Aц≈")
    are written too, and a declaration that reads the bytes is better evidence than word statistics.
    """
    return declared.control_characters > 0 and candidate.control_characters == 0 and candidate.problem() is None


def _candidate_encodings(data: bytes, declared: str | None) -> list[str]:
    """Declared charset, charset_normalizer's guesses, our legacy encodings: each codec once, in order."""
    guesses = [match.encoding for match in from_bytes(data[:GUESS_BYTES])]
    names: dict[str, str] = {}
    for name in filter(None, (declared, *guesses, *LEGACY_ENCODINGS)):  # a blank label names no codec
        codec = _codec_name(name)
        if codec is not None:
            names.setdefault(codec, name)
    return list(names.values())


def _codec_name(name: str | None) -> str | None:
    """The canonical codec name of a charset label (None: no label or no such codec)."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _declared_mismatch(data: bytes, declared: str | None, text: str) -> str | None:
    """Why to flag a text that the source's declared charset does not produce (None: it does)."""
    if declared is None or _strict(data, declared) == text:
        return None
    if _codec_name(declared) is None:
        return f"declared charset {declared!r} is unknown"
    return f"declared charset {declared} does not fit the bytes"


def _implausible_reason(data: bytes, encoding: str, problem: str) -> str:
    if b"\x00" in data:
        return "binary content (NUL bytes), not a text file"
    return f"undecodable text: not UTF-8 and no encoding gives plausible text (best: {encoding}, {problem})"


def _control_characters(text: str) -> int:
    """How many control characters ``text`` has, counted up to one more than binary content allows."""
    limit = int(len(text) * MAX_CONTROL_SHARE) + 1
    return sum(1 for _ in islice(CONTROL_CHARACTERS.finditer(text), limit))


def _score(text: str) -> _Score:
    """Count what real text does not contain, over up to ``SCORED_WORDS`` non-ASCII words."""
    words = [match.group() for match in islice(_NON_ASCII_WORD.finditer(text), SCORED_WORDS)]
    letters = [char.lower() for word in words for char in word if char.isalpha()]
    controls = _control_characters(text)
    return _Score(
        control_characters=controls,
        binary=_is_binary(text, controls),
        garbled_words=sum(_is_garbled(word) for word in words),
        foreign_letters=sum(letter not in OUR_LETTERS for letter in letters),
        infrequent_letters=sum(letter not in FREQUENT_LETTERS for letter in letters),
        words=len(words),
        letters=len(letters),
    )


@lru_cache(maxsize=65536)  # words repeat: most of a text's words were scored before
def _is_garbled(word: str) -> bool:
    """Letters of two scripts ("Zaїуіж"), a lower-to-upper case flip ("РЎРїР°"), or a symbol ("gę¶l±")."""
    if len({_script(char) for char in word if char.isalpha()}) > 1:
        return True
    if any(a.islower() and b.isupper() for a, b in pairwise(word)):
        return True
    return any(char.isalpha() for char in word) and any(_is_symbol(char) for char in word)


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """A letter's script as the first word of its Unicode name: LATIN, CYRILLIC, GREEK, …"""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


@lru_cache(maxsize=4096)
def _is_symbol(char: str) -> bool:
    """A character that does not touch letters in real text: a symbol (±, ¤, ¦), a control, ¶, §, ¡, ¿."""
    return char not in WORD_SYMBOLS and (unicodedata.category(char)[0] in "SC" or char in "¶§¡¿")
