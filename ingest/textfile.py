"""Helpers shared by the file parsers: decoding text files, local timestamps, quarantine records."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.decoding import Decoded, decode_text, split_byte_order_mark
from ingest.records import ParseError, Quarantined

#: The time zone of source times written without one, unless the import names another.
DEFAULT_ZONE = ZoneInfo("UTC")


def read_text(path: Path) -> Decoded:
    """Read and decode a whole text file; raises ``ParseError`` if it is unreadable, not text or empty."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error
    decoded = decode_text(data)
    if decoded.suspect_reason is not None:
        raise ParseError(decoded.suspect_reason)
    if not decoded.text.strip():
        raise ParseError("empty file")
    return decoded


def file_name_text(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (a name written in a legacy charset) decoded.

    Python keeps such bytes as lone surrogates (``os.fsdecode``); they are read by ``decode_text``,
    or written as ``\\xNN`` when no reading is plausible.
    """
    raw = name.encode("utf-8", "surrogateescape")
    decoded = decode_text(raw)
    return decoded.text if decoded.suspect_reason is None else raw.decode("utf-8", "backslashreplace")


def decode_head(head: bytes) -> str:
    """A lossy decoding of a file's first bytes, good enough for sniffing."""
    body, encoding = split_byte_order_mark(head)
    return body.decode(encoding or "utf-8", errors="replace")


def in_source_timezone(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` made timezone-aware: naive times are read in ``zone``, the sources' time zone."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def quarantine_file(path: Path, reason: str) -> Quarantined:
    """A quarantine record for a whole file that cannot be read as its kind."""
    return Quarantined(source_path=str(path), reason=reason)


def quarantine_item(path: Path, item_ref: str, reason: str, raw: bytes) -> Quarantined:
    """A quarantine record for one bad item of a file, with that item's bytes."""
    return Quarantined(source_path=str(path), reason=reason, item_ref=item_ref, raw=raw)
