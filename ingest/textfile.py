"""Helpers shared by the file parsers: decoding text files, local timestamps, quarantine records."""

import codecs
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from charset_normalizer import from_bytes

from dossier.settings import get_settings
from ingest.records import ParseError, Quarantined

#: Byte-order marks and the codec that reads what follows them (UTF-32 before UTF-16: same prefix).
BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and the codec it was written in (to turn one record back into its bytes)."""

    text: str
    encoding: str

    def encode(self, fragment: str) -> bytes:
        """The bytes of ``fragment`` in the file's own encoding (no byte-order mark)."""
        return fragment.encode(self.encoding, errors="replace")


def split_byte_order_mark(data: bytes) -> tuple[bytes, str | None]:
    """``data`` without a leading byte-order mark, and the codec that mark names (None: no mark)."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return data[len(mark) :], encoding
    return data, None


def decode_text(data: bytes) -> DecodedText:
    """Decode a text file: by its byte-order mark, else UTF-8, else charset_normalizer's best guess.

    Raises ``ParseError`` for binary content or bytes that fit no encoding.
    """
    body, encoding = split_byte_order_mark(data)
    if encoding is not None:
        try:
            return DecodedText(body.decode(encoding), encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"invalid {encoding} text after the byte-order mark: {error.reason}") from error
    if b"\x00" in body:
        raise ParseError("binary content (NUL bytes), not a text file")
    try:
        return DecodedText(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guess = from_bytes(body).best()
    if guess is None:
        raise ParseError("undecodable text: not UTF-8 and no other encoding fits")
    return DecodedText(str(guess), guess.encoding)


def read_text(path: Path) -> DecodedText:
    """Read and decode a whole text file; raises ``ParseError`` if it is unreadable or empty."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error
    decoded = decode_text(data)
    if not decoded.text.strip():
        raise ParseError("empty file")
    return decoded


def decode_head(head: bytes) -> str:
    """A lossy decoding of a file's first bytes, good enough for sniffing."""
    body, encoding = split_byte_order_mark(head)
    return body.decode(encoding or "utf-8", errors="replace")


def in_source_timezone(moment: datetime) -> datetime:
    """``moment`` made timezone-aware: naive times are read in the configured source time zone."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=ZoneInfo(get_settings().source_timezone))


def quarantine_file(path: Path, reason: str) -> Quarantined:
    """A quarantine record for a whole file that cannot be read as its kind."""
    return Quarantined(source_path=str(path), reason=reason)


def quarantine_item(path: Path, item_ref: str, reason: str, raw: bytes) -> Quarantined:
    """A quarantine record for one bad item of a file, with that item's bytes."""
    return Quarantined(source_path=str(path), reason=reason, item_ref=item_ref, raw=raw)
